// Following a growing log file: every byte from an offset, as it is written, until the writer is done.
// Works for files this process writes and for files written by job processes outside it.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface FollowOptions {
  /** Byte offset to start from. */
  from?: number;
  /** Keep waiting for more after the current end. */
  follow: boolean;
  /** Asked whenever the end is reached: true once nothing more will be written. */
  isDone: () => boolean;
  onData: (chunk: Buffer) => void | Promise<void>;
  signal?: AbortSignal;
  /** Wake-ups that do not come from the file (e.g. "the request just finished"). */
  subscribeWake?: (wake: () => void) => () => void;
  /** Largest chunk handed to onData. */
  readSize?: number;
}

const READ_SIZE = 256 * 1024;
/** inotify catches nearly every write; the poll covers files on filesystems where it does not. */
const POLL_MS = 500;
const MISSING_FILE_POLL_MS = 25;

/** Resolves with the offset it stopped at. */
export async function followFile(path: string, opts: FollowOptions): Promise<number> {
  let offset = opts.from ?? 0;
  let file: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  // Set by every wake-up, so one that lands while we are reading is not lost.
  let pending = false;
  const nudge = () => {
    pending = true;
    wake?.();
  };
  const unsubscribe = opts.subscribeWake?.(nudge);
  opts.signal?.addEventListener('abort', nudge);
  const readSize = opts.readSize ?? READ_SIZE;
  const buffer = Buffer.allocUnsafe(readSize);
  try {
    while (!opts.signal?.aborted) {
      file ??= await open(path, 'r').catch(() => undefined);
      if (file && !watcher && opts.follow) {
        watcher = watch(path, nudge);
        watcher.on('error', () => undefined);
      }
      pending = false;
      // Read everything there is now.
      while (file && !opts.signal?.aborted) {
        const { bytesRead } = await file.read(buffer, 0, readSize, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        await opts.onData(Buffer.from(buffer.subarray(0, bytesRead)));
      }
      if (!opts.follow) break;
      if (opts.isDone()) {
        // The writer may have appended between the last read and the done signal: one final read.
        if (file && (await stat(path).catch(() => undefined))?.size !== offset) continue;
        break;
      }
      if (pending) continue;
      await new Promise<void>((resolve) => {
        // Until the file exists there is nothing to watch: look again soon.
        const timer = setTimeout(resolve, file ? POLL_MS : MISSING_FILE_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
    unsubscribe?.();
    opts.signal?.removeEventListener('abort', nudge);
    await file?.close();
  }
  return offset;
}

/** Offset where the last `lines` lines of a file begin (reading backwards in blocks). */
export async function tailOffset(path: string, lines: number): Promise<number> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const { size } = await file.stat();
    if (lines <= 0) return size;
    let position = size;
    let newlines = 0;
    const block = Buffer.allocUnsafe(64 * 1024);
    // A trailing newline ends the last line rather than starting an empty one.
    let skipTrailing = true;
    while (position > 0) {
      const length = Math.min(block.length, position);
      position -= length;
      await file.read(block, 0, length, position);
      for (let i = length - 1; i >= 0; i--) {
        if (block[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        if (++newlines === lines) return position + i + 1;
      }
    }
    return 0;
  } finally {
    await file.close();
  }
}
