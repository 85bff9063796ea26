// Requests not yet finished, as an append-only journal: each change appends the request's new state
// as one line, and the last line for an id wins when the server starts again. A change costs one
// small append instead of a rewrite of the whole store, so a burst of short requests stays cheap.
// The journal is compacted (rewritten with only the live requests, which are few) when it has grown
// well past them.
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { ApiRequest } from '../../protocol/model';

export type LiveRequest = ApiRequest & {
  /** Bytes of the request log written before a followed job's output starts (see run-task.ts). */
  logHeaderBytes?: number;
};

/** A line that says a request left the live set (it finished and lives in history now). */
interface Removal {
  id: string;
  removed: true;
}

const COMPACT_AFTER_LINES = 10_000;

export class RequestJournal {
  private readonly live = new Map<string, LiveRequest>();
  private fd: number;
  private lines = 0;

  constructor(private readonly file: string) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // no journal yet
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let entry: LiveRequest | Removal;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash
      }
      if ('removed' in entry) this.live.delete(entry.id);
      else this.live.set(entry.id, entry);
    }
    this.fd = this.compact();
  }

  values(): IterableIterator<LiveRequest> {
    return this.live.values();
  }

  ids(): IterableIterator<string> {
    return this.live.keys();
  }

  get(id: string): LiveRequest | undefined {
    return this.live.get(id);
  }

  put(request: LiveRequest): void {
    this.live.set(request.id, request);
    this.append(request);
  }

  remove(id: string): void {
    if (!this.live.delete(id)) return;
    this.append({ id, removed: true });
  }

  private append(entry: LiveRequest | Removal): void {
    writeSync(this.fd, JSON.stringify(entry) + '\n');
    if (++this.lines > COMPACT_AFTER_LINES + 4 * this.live.size) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
  }

  /** Rewrites the journal with one line per live request; returns a descriptor to append to. */
  private compact(): number {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, [...this.live.values()].map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.lines = this.live.size;
    return openSync(this.file, 'a');
  }

  close(): void {
    closeSync(this.fd);
  }
}
