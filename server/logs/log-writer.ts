// Append-only writer for one log file (a request's or a job's). Logs never live in the store.
// The file is created on the first write: most short requests log nothing, and an empty file per
// request would cost a file creation each.
import { closeSync, createWriteStream, openSync, readSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** A request's last lines are a few; what a resume compares against is bounded all the same. */
const EARLIER_MAX_BYTES = 64 * 1024;

export class LogWriter {
  private stream: WriteStream | undefined;
  private closed = false;
  /** Bytes in the file once everything written so far has landed. */
  size: number;
  /** The end of the file as it was before a restart, whose lines are not written again (see `writtenBefore`). */
  private earlier = '';

  constructor(readonly path: string) {
    this.size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a', mode: 0o600 });
    // A full disk or a removed directory must not crash the server; the request itself reports failure.
    stream.on('error', () => {
      this.closed = true;
    });
    return stream;
  }

  /** Writes without waiting; returns false when the caller should wait for `drained()` before more. */
  write(text: string | Buffer): boolean {
    if (this.closed) return true;
    this.size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    this.stream ??= this.open();
    return this.stream.write(text);
  }

  /** Writes, then waits while the stream's buffer is full: copies of fast logs stay bounded in memory. */
  async append(chunk: string | Buffer): Promise<void> {
    if (!this.write(chunk) && this.stream && !this.closed) await once(this.stream, 'drain');
  }

  /**
   * The file past `offset` was written before a restart by steps that the resumed request takes again
   * (the verdict line after a job's output, its error): a line it writes that stands there, after the
   * one matched last, is not written a second time.
   */
  writtenBefore(offset: number): void {
    const bytes = Buffer.alloc(Math.min(Math.max(0, this.size - offset), EARLIER_MAX_BYTES));
    const fd = openSync(this.path, 'r');
    try {
      this.earlier = bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, offset)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** Writes one line, adding the newline. */
  line(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    const at = this.earlier === '' ? -1 : `\n${this.earlier}`.indexOf(`\n${line}`);
    if (at >= 0) {
      this.earlier = this.earlier.slice(at + line.length);
      return;
    }
    this.write(line);
  }

  /** Resolves once everything written so far is on disk. */
  close(): Promise<void> {
    const stream = this.stream;
    if (this.closed || !stream) {
      this.closed = true;
      return Promise.resolve();
    }
    this.closed = true;
    return new Promise((resolve) => stream.end(resolve));
  }
}
