// Clusters and their jobs, in lowdb. Only the server process opens it. lowdb rewrites the whole file
// on every write, so only live state lives here: requests have their own journal and history
// (request-journal.ts, history.ts), and finished jobs beyond the most recent few per cluster move to
// an archive (clusters/job-archive.ts).
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { ClusterRecord, JobSpec } from '../infra/backend';
import type { Job } from '../../protocol/model';
import type { ManagedJobRecord } from '../jobs/records';
import { isStoreWriteFailure, replaceFileAsync } from './durable-file';

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
  /** Managed jobs by id (server/jobs/): unfinished ones and the most recent finished ones. */
  managedJobs: Record<string, ManagedJobRecord>;
  nextManagedJobId: number;
}

const EMPTY: StateData = { schemaVersion: 1, clusters: {}, jobs: {}, nextJobId: {}, managedJobs: {}, nextManagedJobId: 0 };

/**
 * state.json: compact JSON (machine state; indentation only makes every rewrite longer), replaced
 * only once the new content is on disk. A file that does not parse (cut short by a power loss before
 * writes were flushed) is moved aside, named in the server log, and the server starts without it.
 */
class StateFile implements Adapter<StateData> {
  constructor(
    readonly file: string,
    private readonly log: (line: string) => void,
  ) {}

  async read(): Promise<StateData | null> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const data = JSON.parse(text) as StateData;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not a JSON object');
      return data;
    } catch (err) {
      const aside = `${this.file}.unreadable-${Date.now()}`;
      renameSync(this.file, aside);
      this.log(`state.json could not be read (${text.length === 0 ? 'empty' : (err as Error).message}); kept as ${aside}. Starting without its clusters and jobs: jobs still running are not tracked; see that file for what it held.`);
      return null;
    }
  }

  write(data: StateData): Promise<void> {
    return replaceFileAsync(this.file, JSON.stringify(data), 'the cluster state (state.json)');
  }
}

export class StateDb {
  private readonly db: Low<StateData>;
  private scheduled: Promise<void> | undefined;
  /** The write in progress: writes go one after another, never two into the same temporary file. */
  private writing: Promise<void> = Promise.resolve();
  private lastWriteFailure = 0;

  private constructor(
    readonly file: string,
    private readonly log: (line: string) => void,
  ) {
    this.db = new Low(new StateFile(file, log), structuredClone(EMPTY));
  }

  static async open(dataDir: string, log: (line: string) => void = () => undefined): Promise<StateDb> {
    const state = new StateDb(path.join(dataDir, 'state.json'), log);
    await state.db.read();
    state.db.data = { ...structuredClone(EMPTY), ...state.db.data };
    await state.persist();
    return state;
  }

  get data(): StateData {
    return this.db.data;
  }

  /**
   * Writes the current state. Calls in the same tick share one write, so a burst of changes costs
   * one JSON.stringify, not one each. A write the disk refuses (full) is logged and left to the next
   * one, which writes everything: the state in memory stays right, and a full disk fails no caller
   * here (what needs space fails on its own, with the reason).
   */
  persist(): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduled = undefined;
      this.writing = this.writing.catch(() => undefined).then(() => this.write());
      return this.writing;
    });
    return this.scheduled;
  }

  private async write(): Promise<void> {
    try {
      await this.db.write();
    } catch (err) {
      if (!isStoreWriteFailure(err)) throw err;
      if (Date.now() - this.lastWriteFailure > 60_000) this.log(err.message);
      this.lastWriteFailure = Date.now();
    }
  }
}
