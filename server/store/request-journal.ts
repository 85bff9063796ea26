// Requests not yet finished, as an append-only journal: each change appends the request's new state
// as one line, and the last line for an id wins when the server starts again. A change costs one
// small append instead of a rewrite of the whole store, so a burst of short requests stays cheap.
// The journal is compacted (rewritten with only the live requests, which are few) when it has grown
// well past them.
import { readFileSync } from 'node:fs';
import type { ApiRequest } from '../../protocol/model';
import { RecordFile, replaceFile } from './durable-file';

export type LiveRequest = ApiRequest & {
  /** Bytes of the request log written before a followed job's output starts (see run-task.ts). */
  logHeaderBytes?: number;
  /**
   * How the copy of that job's log ended, recorded before the request writes any line after it: the bytes
   * of the job log the request log holds past its header, and whether a cancel stopped the copy.
   */
  jobLogCopy?: JobLogCopy;
  /** The submit's idempotency key, while the request is live (a retried submit finds it after a restart). */
  idempotencyKey?: string;
};

export interface JobLogCopy {
  bytes: number;
  cancelled?: true;
}

/** A line that says a request left the live set (it finished and lives in history now). */
interface Removal {
  id: string;
  removed: true;
}

const COMPACT_AFTER_LINES = 10_000;

export class RequestJournal {
  private readonly live = new Map<string, LiveRequest>();
  private out: RecordFile;
  private lines = 0;
  /** Lines past which the next compaction is tried (pushed on when one fails, e.g. on a full disk). */
  private compactAt = COMPACT_AFTER_LINES;

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
    // A disk too full to compact still lets the server start: the journal as it is stays in use.
    this.out = this.compact() ?? new RecordFile(file);
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

  /**
   * Records the request's new state. The change is live in memory either way; when the disk refuses
   * the line this throws (507) and the file keeps the previous state whole.
   */
  put(request: LiveRequest): void {
    this.live.set(request.id, request);
    this.append(request);
  }

  /** Drops a request from the live set (in memory at once; on disk unless this throws). */
  remove(id: string): void {
    if (!this.live.delete(id)) return;
    this.append({ id, removed: true });
  }

  /** Forgets a request in memory only (one the disk refused to record). */
  forget(id: string): void {
    this.live.delete(id);
  }

  private append(entry: LiveRequest | Removal): void {
    this.out.append(Buffer.from(JSON.stringify(entry) + '\n'), `request ${entry.id}`);
    if (++this.lines > this.compactAt + 4 * this.live.size) {
      const compacted = this.compact();
      if (compacted) {
        this.out.close();
        this.out = compacted;
      }
    }
  }

  /**
   * Rewrites the journal with one line per live request and opens it for appending. The old file and
   * its descriptor stay in use until the new one is open, so a compaction that fails (full disk)
   * loses nothing and leaves nothing pointing at a closed descriptor; it is tried again later.
   */
  private compact(): RecordFile | undefined {
    try {
      replaceFile(this.file, [...this.live.values()].map((r) => JSON.stringify(r) + '\n').join(''), 'the request journal');
      const out = new RecordFile(this.file);
      this.lines = this.live.size;
      this.compactAt = COMPACT_AFTER_LINES;
      return out;
    } catch {
      this.compactAt = this.lines + COMPACT_AFTER_LINES / 10;
      return undefined;
    }
  }

  close(): void {
    this.out.close();
  }
}
