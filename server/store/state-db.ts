// Clusters and their jobs, in lowdb. Only the server process opens it. lowdb rewrites the whole file
// on every write, so only live state lives here: requests have their own journal and history
// (request-journal.ts, history.ts), and finished jobs beyond the most recent few per cluster move to
// an archive (clusters/job-archive.ts).
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { ClusterRecord, JobSpec } from '../infra/backend';
import type { Job } from '../../protocol/model';

/**
 * A job as the server stores it: public fields plus, while it runs, what it needs to find the job
 * again after a restart (dropped when it ends: the spec holds the task's secrets).
 */
export interface JobRecord extends Job {
  handle?: unknown;
  logPath: string;
  spec?: JobSpec;
}

export interface StateData {
  schemaVersion: 1;
  clusters: Record<string, ClusterRecord>;
  jobs: Record<string, JobRecord[]>;
  nextJobId: Record<string, number>;
}

const EMPTY: StateData = { schemaVersion: 1, clusters: {}, jobs: {}, nextJobId: {} };

export class StateDb {
  private readonly db: Low<StateData>;
  private scheduled: Promise<void> | undefined;

  private constructor(readonly file: string) {
    // Compact JSON: the file is machine state, and indentation only makes every rewrite longer.
    this.db = new Low(new DataFile<StateData>(file, { parse: JSON.parse, stringify: (data) => JSON.stringify(data) }), structuredClone(EMPTY));
  }

  static async open(dataDir: string): Promise<StateDb> {
    const state = new StateDb(path.join(dataDir, 'state.json'));
    await state.db.read();
    state.db.data = { ...structuredClone(EMPTY), ...state.db.data };
    // Job specs hold the task's secrets: the server's umask (0077) keeps every rewrite owner-only.
    await state.db.write();
    return state;
  }

  get data(): StateData {
    return this.db.data;
  }

  /**
   * Writes the current state. Calls in the same tick share one write, so a burst of changes costs
   * one JSON.stringify, not one each.
   */
  persist(): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduled = undefined;
      return this.db.write();
    });
    return this.scheduled;
  }
}
