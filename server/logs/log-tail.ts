// One shared reader per followed log file: a thousand followers of one log cost one watcher and one
// read (and one decode) of each new chunk, not a thousand. A follower that is caught up receives the
// chunks the tail reads; one that is behind (it starts at an offset in the past, or was paused for a
// slow client) reads the file on its own from its offset until it reaches the tail, then joins it.
// Either way each follower gets every byte from its offset, in order, exactly once.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { deliveryTurn } from './turn-budget';

export interface LogChunk {
  /** Byte offsets of the chunk in the file: [start, end). */
  readonly start: number;
  readonly end: number;
  /** The chunk's bytes, as they are in the file. */
  readonly bytes: Buffer;
  /** The bytes as UTF-8 text. Chunks end on character boundaries, so each decodes on its own. */
  readonly text: string;
}

export interface LogReader {
  /** Takes one chunk; false asks for no more until the follower's resume() (the client is slow). */
  onChunk(chunk: LogChunk): boolean;
  /** After the last chunk, once nothing more will be written (not after close()). */
  onEnd(): void;
}

export interface LogFollower {
  /** Goes on after onChunk returned false, from the follower's own offset. */
  resume(): void;
  /** Stops; no call to the reader after this. */
  close(): void;
}

export interface LogSource {
  /** True once nothing more will be written to the file (asked whenever the tail reaches its end). */
  isDone(): boolean;
  /** Wake-ups that do not come from the file (e.g. "the request just finished"); returns the unsubscribe. */
  subscribeWake?(wake: () => void): () => void;
}

const READ_SIZE = 64 * 1024;
/** inotify catches nearly every write; the poll covers files on filesystems where it does not. */
const POLL_MS = 500;
const MISSING_FILE_POLL_MS = 25;

type State = 'waiting' | 'live' | 'catching-up' | 'paused' | 'ended' | 'closed';

interface Follower {
  offset: number;
  state: State;
  readonly follows: boolean;
  /** For a follower that does not follow: the file's size when it subscribed, where it ends. */
  until?: number;
  readonly reader: LogReader;
}

export class LogTail {
  private file: FileHandle | undefined;
  private opening: Promise<FileHandle | undefined> | undefined;
  private watcher: FSWatcher | undefined;
  /** Everything before this offset has been read by the tail (unknown until the file is first opened). */
  private frontier: number | undefined;
  /** Set once the tail has read the whole file and nothing more will be written. */
  private complete = false;
  private closed = false;
  private readonly followers = new Set<Follower>();
  private readonly live = new Set<Follower>();
  /** Set by every wake-up, so one that lands while the tail is reading is not lost. */
  private pending = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly source: LogSource,
    /** Called once the last follower has left and the tail has closed. */
    private readonly onIdle: () => void,
  ) {
    this.unsubscribe = source.subscribeWake?.(this.nudge);
    void this.run();
  }

  private readonly nudge = () => {
    this.pending = true;
    this.wake?.();
  };

  /** Every byte from `from` (to the end of the file as it is now, unless `follow`). */
  follow(from: number, reader: LogReader, options: { follow: boolean }): LogFollower {
    const f: Follower = { offset: from, state: 'waiting', follows: options.follow, reader };
    this.followers.add(f);
    if (!options.follow) {
      void stat(this.path).then(
        (s) => this.startNotFollowing(f, s.size),
        () => this.startNotFollowing(f, 0),
      );
    } else if (this.frontier !== undefined) this.catchUp(f);
    return {
      resume: () => {
        if (f.state === 'paused') this.catchUp(f);
      },
      close: () => this.leave(f, 'closed'),
    };
  }

  /** Followers reading or waiting for this log now. */
  get followerCount(): number {
    return this.followers.size;
  }

  private startNotFollowing(f: Follower, size: number): void {
    if (f.state !== 'waiting') return;
    f.until = size;
    this.catchUp(f);
  }

  private leave(f: Follower, state: 'ended' | 'closed'): void {
    if (f.state === 'ended' || f.state === 'closed') return;
    f.state = state;
    this.followers.delete(f);
    this.live.delete(f);
    if (state === 'ended') f.reader.onEnd();
    if (this.followers.size === 0) this.close();
  }

  /** The tail's own loop: waits for the file, reads each new chunk once and hands it to the live followers. */
  private async run(): Promise<void> {
    try {
      while (!this.closed) {
        await this.openFile();
        if (this.closed) break;
        if (this.file && this.frontier === undefined) {
          try {
            this.watcher = watch(this.path, this.nudge);
            this.watcher.on('error', () => undefined);
          } catch {
            // No inotify watch to be had (the system's limit): the poll still sees every write.
          }
          this.frontier = await lastWholeCharacterEnd(this.file);
          // Followers that waited for the file: the live ones join now, the others catch up first.
          for (const f of this.followers) if (f.state === 'waiting' && f.follows) this.catchUp(f);
        }
        this.pending = false;
        for (;;) {
          if (!this.file || this.closed) break;
          const chunk = await readChunk(this.file, this.frontier!, READ_SIZE, false);
          if (!chunk || this.closed) break;
          this.frontier = chunk.end;
          await this.fanOut(chunk);
        }
        if (this.closed) break;
        if (this.source.isDone()) {
          // The writer may have appended between the last read and the done signal: read on first.
          const size = this.file ? (await stat(this.path).catch(() => undefined))?.size : undefined;
          if (this.file && size !== undefined && size > this.frontier!) {
            const last = await readChunk(this.file, this.frontier!, READ_SIZE, true);
            if (last) {
              this.frontier = last.end;
              await this.fanOut(last);
              continue;
            }
          }
          this.finish();
          break;
        }
        if (this.pending) continue;
        await new Promise<void>((resolve) => {
          // Until the file exists there is nothing to watch: look again soon.
          const timer = setTimeout(resolve, this.file ? POLL_MS : MISSING_FILE_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    } catch {
      // An unreadable log (removed, I/O error) ends every stream rather than leaving it hanging.
      this.finish();
    }
  }

  /** The file is complete: followers at the end stop; the others stop when they reach it. */
  private finish(): void {
    this.complete = true;
    this.frontier ??= 0;
    for (const f of [...this.followers]) {
      if (f.state === 'live' || f.state === 'waiting') this.catchUp(f);
    }
  }

  /**
   * Hands a chunk to every live follower. A thousand sockets take far longer than one turn of the
   * event loop may, so a few milliseconds' worth go per turn (turn-budget.ts).
   */
  private async fanOut(chunk: LogChunk): Promise<void> {
    for (const f of [...this.live]) {
      await deliveryTurn();
      if (this.closed) return;
      // A follower that caught up on its own meanwhile may already have these bytes.
      if (f.state !== 'live' || f.offset >= chunk.end) continue;
      this.deliver(f, f.offset === chunk.start ? chunk : slice(chunk, f.offset));
    }
  }

  private deliver(f: Follower, chunk: LogChunk): void {
    f.offset = chunk.end;
    if (f.reader.onChunk(chunk)) return;
    if (f.state === 'live' || f.state === 'catching-up') {
      f.state = 'paused';
      this.live.delete(f);
    }
  }

  /** Reads on the follower's own from its offset until it reaches the tail (or its end), then joins. */
  private catchUp(f: Follower): void {
    f.state = 'catching-up';
    this.live.delete(f);
    void (async () => {
      try {
        while (f.state === 'catching-up') {
          const target = f.until ?? this.frontier!;
          if (f.offset >= target) {
            if (f.until !== undefined || this.complete) return this.leave(f, 'ended');
            f.state = 'live';
            this.live.add(f);
            return;
          }
          const file = await this.openFile();
          const length = Math.min(READ_SIZE, target - f.offset);
          // Only the very last bytes of a finished file may end inside a character.
          const final = (f.until !== undefined || this.complete) && length === target - f.offset;
          const chunk = file && (await readChunk(file, f.offset, length, final));
          await deliveryTurn();
          if (f.state !== 'catching-up') return;
          // Gone or shorter than it was (truncated): nothing more to read here.
          if (!chunk) return this.leave(f, 'ended');
          this.deliver(f, chunk);
        }
      } catch {
        this.leave(f, 'ended');
      }
    })();
  }

  /** The file, opened once for the tail and every follower's own reads; undefined while it does not exist. */
  private openFile(): Promise<FileHandle | undefined> {
    if (this.file) return Promise.resolve(this.file);
    this.opening ??= open(this.path, 'r')
      .then(
        (file) => {
          if (!this.closed) return (this.file = file);
          void file.close().catch(() => undefined);
          return undefined;
        },
        () => undefined,
      )
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.watcher?.close();
    this.unsubscribe?.();
    // close() waits for reads in flight on the handle.
    void this.file?.close().catch(() => undefined);
    this.onIdle();
  }
}

/** Shared tails by file path: created by the first follower, closed after the last has left. */
export class LogTails {
  private readonly tails = new Map<string, LogTail>();

  follow(path: string, source: LogSource, from: number, reader: LogReader, options: { follow: boolean }): LogFollower {
    let tail = this.tails.get(path);
    if (!tail) {
      const created = new LogTail(path, source, () => {
        if (this.tails.get(path) === created) this.tails.delete(path);
      });
      this.tails.set(path, created);
      tail = created;
    }
    return tail.follow(from, reader, options);
  }

  get size(): number {
    return this.tails.size;
  }

  /** Streams of request logs open now, over every log (a metric; clients that stop following leave). */
  get followers(): number {
    let count = 0;
    for (const tail of this.tails.values()) count += tail.followerCount;
    return count;
  }
}

/**
 * Up to `length` bytes at `position`, cut after the last whole UTF-8 character (the rest is read with
 * the next chunk) unless `final`. Undefined when there is nothing (whole) to read.
 */
async function readChunk(file: FileHandle, position: number, length: number, final: boolean): Promise<LogChunk | undefined> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  const usable = final ? bytesRead : wholeCharacters(buffer, bytesRead);
  if (usable === 0) return undefined;
  const bytes = buffer.subarray(0, usable);
  return { start: position, end: position + usable, text: bytes.toString('utf8'), bytes };
}

/** The file's size, less an incomplete character at its end (the tail reads it once it is whole). */
async function lastWholeCharacterEnd(file: FileHandle): Promise<number> {
  const { size } = await file.stat();
  const last = Buffer.alloc(Math.min(4, size));
  const { bytesRead } = await file.read(last, 0, last.length, size - last.length);
  return size - bytesRead + wholeCharacters(last, bytesRead);
}

/** The part of a chunk from `offset` (a follower ahead of the tail, from an offset it asked for). */
function slice(chunk: LogChunk, offset: number): LogChunk {
  const bytes = chunk.bytes.subarray(offset - chunk.start);
  return { start: offset, end: chunk.end, bytes, text: bytes.toString('utf8') };
}

/** Length of the first `n` bytes of `buffer` without an incomplete UTF-8 character at the end. */
export function wholeCharacters(buffer: Buffer, n: number): number {
  // The lead byte of the last character is at most 3 bytes back.
  for (let i = n - 1; i >= Math.max(0, n - 4); i--) {
    const byte = buffer[i]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needs = byte >= 0xf8 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return n - i >= needs ? n : i;
  }
  // Only continuation bytes: not UTF-8 there, nothing to wait for.
  return n;
}
