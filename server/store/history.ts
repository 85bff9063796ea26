// Finished requests, in append-only JSON-lines segments by finish time. Memory holds only summaries
// and where each full record sits on disk. Retention drops whole segments: no file is ever rewritten,
// so neither history size nor expiry makes any write slower.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { summarize, type ApiRequest, type RequestSummary } from '../../protocol/model';

interface Entry {
  summary: RequestSummary;
  segment: number;
  offset: number;
  length: number;
}

interface Segment {
  ids: string[];
  size: number;
}

export class RequestHistory {
  private readonly entries = new Map<string, Entry>();
  private readonly segments = new Map<number, Segment>();
  private appendFd: { segment: number; fd: number } | undefined;

  /**
   * @param spanMs width of one segment; a finished request is removed between `retention` and
   *   `retention + spanMs` after it finished.
   */
  constructor(
    private readonly dir: string,
    private readonly spanMs: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const m = /^(\d+)\.jsonl$/.exec(name);
      if (m) this.load(Number(m[1]));
    }
  }

  private file(segment: number): string {
    return path.join(this.dir, `${segment}.jsonl`);
  }

  private load(segment: number): void {
    let text = readFileSync(this.file(segment));
    if (text.length > 0 && text[text.length - 1] !== 0x0a) {
      // A crash cut the last line short: end it, so the next append starts a line of its own.
      writeFileSync(this.file(segment), '\n', { flag: 'a' });
      text = Buffer.concat([text, Buffer.from('\n')]);
    }
    const seg: Segment = { ids: [], size: text.length };
    let offset = 0;
    while (offset < text.length) {
      const end = text.indexOf(0x0a, offset);
      try {
        const request = JSON.parse(text.subarray(offset, end).toString('utf8')) as ApiRequest;
        this.entries.set(request.id, { summary: summarize(request), segment, offset, length: end - offset });
        seg.ids.push(request.id);
      } catch {
        // a line cut short by a crash: skipped
      }
      offset = end + 1;
    }
    this.segments.set(segment, seg);
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  summary(id: string): RequestSummary | undefined {
    return this.entries.get(id)?.summary;
  }

  summaries(): IterableIterator<RequestSummary> {
    return (function* (entries: Map<string, Entry>) {
      for (const e of entries.values()) yield e.summary;
    })(this.entries);
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** The full record, read from its segment. */
  get(id: string): ApiRequest | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    const fd = openSync(this.file(e.segment), 'r');
    try {
      const buf = Buffer.alloc(e.length);
      readSync(fd, buf, 0, e.length, e.offset);
      return JSON.parse(buf.toString('utf8')) as ApiRequest;
    } finally {
      closeSync(fd);
    }
  }

  /** Records a finished request. Synchronous: it is on disk before the live state forgets it. */
  append(request: ApiRequest): void {
    const segment = Math.floor((request.finishedAt ?? Date.now()) / this.spanMs) * this.spanMs;
    if (this.appendFd?.segment !== segment) {
      if (this.appendFd) closeSync(this.appendFd.fd);
      this.appendFd = { segment, fd: openSync(this.file(segment), 'a', 0o600) };
    }
    let seg = this.segments.get(segment);
    if (!seg) this.segments.set(segment, (seg = { ids: [], size: 0 }));
    const line = Buffer.from(JSON.stringify(request) + '\n');
    writeSync(this.appendFd.fd, line);
    this.entries.set(request.id, { summary: summarize(request), segment, offset: seg.size, length: line.length - 1 });
    seg.ids.push(request.id);
    seg.size += line.length;
  }

  /** Drops every segment wholly older than the retention window; returns the ids it removed. */
  expire(now: number, retentionMs: number): string[] {
    const removed: string[] = [];
    for (const [segment, seg] of this.segments) {
      if (segment + this.spanMs + retentionMs > now) continue;
      if (this.appendFd?.segment === segment) {
        closeSync(this.appendFd.fd);
        this.appendFd = undefined;
      }
      rmSync(this.file(segment), { force: true });
      this.segments.delete(segment);
      for (const id of seg.ids) {
        this.entries.delete(id);
        removed.push(id);
      }
    }
    return removed;
  }

  close(): void {
    if (this.appendFd) closeSync(this.appendFd.fd);
    this.appendFd = undefined;
  }
}
