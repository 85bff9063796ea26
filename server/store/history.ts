// Finished requests, in append-only JSON-lines segments by finish time. Memory holds only summaries
// and where each full record sits on disk. Retention drops whole segments: no file is ever rewritten,
// so neither history size nor expiry makes any write slower.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { summarize, type ApiRequest, type RequestSummary } from '../../protocol/model';
import { isStoreWriteFailure, RecordFile, storeWriteFailed } from './durable-file';

interface Entry {
  summary: RequestSummary;
  segment: number;
  offset: number;
  length: number;
  /** The whole record, for one the disk refused (full): kept in memory until retention drops it. */
  unsaved?: ApiRequest;
}

interface Segment {
  ids: string[];
}

export class RequestHistory {
  private readonly entries = new Map<string, Entry>();
  private readonly segments = new Map<number, Segment>();
  private appendTo: { segment: number; file: RecordFile } | undefined;

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
      // A crash cut the last line short: drop that half record, so the next append starts a line of its own.
      text = text.subarray(0, text.lastIndexOf(0x0a) + 1);
      truncateSync(this.file(segment), text.length);
    }
    const seg: Segment = { ids: [] };
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
    if (e.unsaved) return e.unsaved;
    const fd = openSync(this.file(e.segment), 'r');
    try {
      const buf = Buffer.alloc(e.length);
      readSync(fd, buf, 0, e.length, e.offset);
      return JSON.parse(buf.toString('utf8')) as ApiRequest;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Records a finished request. Synchronous: it is on disk before the live state forgets it. When the
   * disk refuses it (full), the request is kept in memory instead, so it is still shown, and this
   * throws (507).
   */
  append(request: ApiRequest): void {
    const segment = Math.floor((request.finishedAt ?? Date.now()) / this.spanMs) * this.spanMs;
    let seg = this.segments.get(segment);
    if (!seg) this.segments.set(segment, (seg = { ids: [] }));
    seg.ids.push(request.id);
    const line = Buffer.from(JSON.stringify(request) + '\n');
    try {
      if (this.appendTo?.segment !== segment) {
        this.appendTo?.file.close();
        this.appendTo = undefined;
        this.appendTo = { segment, file: new RecordFile(this.file(segment)) };
      }
      const offset = this.appendTo.file.size;
      this.appendTo.file.append(line, `finished request ${request.id}`);
      this.entries.set(request.id, { summary: summarize(request), segment, offset, length: line.length - 1 });
    } catch (err) {
      this.entries.set(request.id, { summary: summarize(request), segment, offset: 0, length: 0, unsaved: request });
      throw isStoreWriteFailure(err) ? err : storeWriteFailed(`finished request ${request.id}`, err);
    }
  }

  /** Drops every segment wholly older than the retention window; returns the ids it removed. */
  expire(now: number, retentionMs: number): string[] {
    const removed: string[] = [];
    for (const [segment, seg] of this.segments) {
      if (segment + this.spanMs + retentionMs > now) continue;
      if (this.appendTo?.segment === segment) {
        this.appendTo.file.close();
        this.appendTo = undefined;
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
    this.appendTo?.file.close();
    this.appendTo = undefined;
  }
}
