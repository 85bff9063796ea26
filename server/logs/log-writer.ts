// Append-only writer for one log file (a request's or a job's). Logs never live in the store.
import { createWriteStream, statSync, type WriteStream } from 'node:fs';

export class LogWriter {
  private readonly stream: WriteStream;
  private closed = false;
  /** Bytes in the file once everything written so far has landed. */
  size: number;

  constructor(readonly path: string) {
    this.size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // A full disk or a removed directory must not crash the server; the request itself reports failure.
    this.stream.on('error', () => {
      this.closed = true;
    });
  }

  write(text: string | Buffer): void {
    if (this.closed) return;
    this.size += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    this.stream.write(text);
  }

  /** Writes one line, adding the newline. */
  line(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Resolves once everything written so far is on disk. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
