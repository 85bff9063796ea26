// Append-only writer for one log file (a request's or a job's). Logs never live in the store.
// The file is created on the first write: most short requests log nothing, and an empty file per
// request would cost a file creation each.
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export class LogWriter {
  private stream: WriteStream | undefined;
  private closed = false;
  /** Bytes in the file once everything written so far has landed. */
  size: number;

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

  /** Writes one line, adding the newline. */
  line(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
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
