// The store's writes, made safe against the two things that break files: a full disk (a write that
// lands only partly) and a crash or power loss (a renamed file whose content never reached the disk).
// A record is appended whole or not at all; a file is replaced only once its new content is on disk.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fail, SkyDeckError } from '../errors';

/** A store write the disk refused (full, read-only, gone): the one request fails with this, never the server. */
export function storeWriteFailed(what: string, err: unknown): SkyDeckError {
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'the disk holding the data dir is full' : `the data dir cannot be written (${e.code ?? e.message})`;
  return fail.insufficient_storage(`${reason}: could not record ${what}. Free space there (skydeck down removes a local cluster's sandbox) and try again.`);
}

export function isStoreWriteFailure(err: unknown): err is SkyDeckError {
  return err instanceof SkyDeckError && err.code === 'insufficient_storage';
}

/** An append-only file of whole records: a write the disk cuts short is taken back, so no half record stays. */
export class RecordFile {
  private fd: number;
  /** Bytes in the file: where the next record starts. */
  size: number;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends `data` whole, or throws (507) with the file as it was. */
  append(data: Buffer, what: string): void {
    let written = 0;
    try {
      // writeSync may write less than asked (a disk filling up mid-record): go on until all is written.
      while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
    } catch (err) {
      if (written > 0) {
        try {
          ftruncateSync(this.fd, this.size);
        } catch {
          // the truncate failed too: readers skip a line that does not parse
        }
      }
      throw storeWriteFailed(what, err);
    }
    this.size += data.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Replaces `file` with `data`: written to a temporary file, flushed to disk, renamed over the old one
 * and the directory flushed, so after a crash the file is the old content or the new, never empty.
 * On failure the old file is left as it was.
 */
export function replaceFile(file: string, data: string | Buffer, what: string): void {
  const tmp = `${file}.tmp`;
  let fd: number | undefined;
  let opened = false;
  try {
    fd = openSync(tmp, 'w', 0o600);
    opened = true;
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let written = 0;
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    // A half-written temporary file would only hold space the disk lacks.
    if (opened) rmSync(tmp, { force: true });
    throw storeWriteFailed(what, err);
  }
  syncDir(path.dirname(file));
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is done
  }
}

/** `replaceFile` off the event loop, for files rewritten often (the cluster state). */
export async function replaceFileAsync(file: string, data: string, what: string): Promise<void> {
  const tmp = `${file}.tmp`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'w', 0o600);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, file);
  } catch (err) {
    if (handle) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
    }
    throw storeWriteFailed(what, err);
  }
  syncDir(path.dirname(file));
}

/**
 * A small JSON object file the server owns (a missing file is an empty object). One that does not
 * parse throws a message naming it: reading it as empty would forget what it records.
 */
export function readJsonRecord<T extends object = Record<string, string>>(file: string, what: string, hint: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {} as T;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    value = err;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error) {
    throw new Error(`the ${what} file ${file} is not readable (${text.length === 0 ? 'empty' : value instanceof Error ? value.message : 'not a JSON object'}); SkyDeck refuses to guess what it held. ${hint}`);
  }
  return value as T;
}
