// The live state, in lowdb: requests not yet finished, clusters, jobs. Only the server process opens it.
// Finished requests move to the history segments (history.ts) so this file, which lowdb rewrites
// whole on every write, stays as small as the live work.
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { ApiRequest } from '../../protocol/model';
import type { ClusterRecord, JobSpec } from '../infra/backend';
import type { Job } from '../../protocol/model';

/** A job as the server stores it: public fields plus what it needs to find the job again after a restart. */
export interface JobRecord extends Job {
  handle?: unknown;
  logPath: string;
  spec: JobSpec;
}

export interface StateData {
  schemaVersion: 1;
  requests: Record<string, ApiRequest & { logHeaderBytes?: number }>;
  clusters: Record<string, ClusterRecord>;
  jobs: Record<string, JobRecord[]>;
  nextJobId: Record<string, number>;
}

const EMPTY: StateData = { schemaVersion: 1, requests: {}, clusters: {}, jobs: {}, nextJobId: {} };

export class StateDb {
  private readonly db: Low<StateData>;
  private scheduled: Promise<void> | undefined;

  private constructor(readonly file: string) {
    this.db = new Low(new JSONFile<StateData>(file), structuredClone(EMPTY));
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
