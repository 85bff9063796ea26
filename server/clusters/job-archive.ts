// Finished jobs beyond the most recent few of a cluster, in an append-only file beside the cluster's
// job logs: `queue` still shows them, but they no longer make every write of the live state bigger.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Job } from '../../protocol/model';
import { RecordFile } from '../store/durable-file';

/** A finished job as archived: no handle and no spec (which held the task's secrets). */
export type ArchivedJob = Job & { logPath: string };

export class JobArchive {
  constructor(private readonly jobLogDir: string) {}

  private file(cluster: string): string {
    return path.join(this.jobLogDir, cluster, 'archived-jobs.jsonl');
  }

  /** Appends the jobs whole, or throws (507, a full disk) with the archive as it was. */
  append(cluster: string, jobs: ArchivedJob[]): void {
    if (jobs.length === 0) return;
    mkdirSync(path.dirname(this.file(cluster)), { recursive: true, mode: 0o700 });
    const out = new RecordFile(this.file(cluster));
    try {
      out.append(Buffer.from(jobs.map((j) => JSON.stringify(j) + '\n').join('')), `the job archive of ${cluster}`);
    } finally {
      out.close();
    }
  }

  read(cluster: string): ArchivedJob[] {
    let text: string;
    try {
      text = readFileSync(this.file(cluster), 'utf8');
    } catch {
      return [];
    }
    const jobs: ArchivedJob[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        jobs.push(JSON.parse(line));
      } catch {
        // a line cut short by a crash
      }
    }
    return jobs;
  }
}
