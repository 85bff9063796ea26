// Managed jobs in the live state (state.json, beside clusters): every change is persisted before it is
// announced, so a server killed at any moment finds each job where the last announcement said it was.
// Finished jobs beyond the most recent few move out of the live state to an append-only archive.
import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isManagedJobFinished, type ManagedJob } from '../../protocol/jobs';
import { fail } from '../errors';
import type { StateDb } from '../store/state-db';
import { publicManagedJob, type ManagedJobRecord } from './records';

/** Finished managed jobs kept in state.json; older ones are read from the archive. */
const RECENT_FINISHED = 200;

export interface ManagedJobEvents {
  job: [job: ManagedJob];
}

export class ManagedJobStore extends EventEmitter<ManagedJobEvents> {
  private readonly archiveFile: string;

  constructor(
    private readonly state: StateDb,
    /** `<data dir>/managed-jobs`: a folder per job with its logs, and the archive. */
    readonly dir: string,
  ) {
    super();
    // Every follower of a managed job's log listens here.
    this.setMaxListeners(0);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.archiveFile = path.join(dir, 'archive.jsonl');
  }

  private get records(): Record<string, ManagedJobRecord> {
    return this.state.data.managedJobs;
  }

  /** The job's output across every attempt, and what its controller did and why. */
  logPath(id: number): string {
    return path.join(this.dir, String(id), 'job.log');
  }

  controllerLogPath(id: number): string {
    return path.join(this.dir, String(id), 'controller.log');
  }

  /** Records a new job under the next id. */
  async create(make: (id: number) => ManagedJobRecord): Promise<ManagedJobRecord> {
    const id = (this.state.data.nextManagedJobId ?? 0) + 1;
    this.state.data.nextManagedJobId = id;
    mkdirSync(path.join(this.dir, String(id)), { recursive: true, mode: 0o700 });
    const record = make(id);
    this.records[id] = record;
    await this.state.persist();
    this.emit('job', publicManagedJob(record));
    return record;
  }

  get(id: number): ManagedJobRecord | undefined {
    return this.records[id];
  }

  /** A job by id, live or archived (archived ones are finished: read-only). */
  find(id: number): ManagedJob | undefined {
    const live = this.records[id];
    if (live) return publicManagedJob(live);
    return this.archived().find((j) => j.id === id);
  }

  require(id: number): ManagedJob {
    const job = this.find(id);
    if (!job) throw fail.not_found(`managed job ${id} does not exist`);
    return job;
  }

  /** Live records (unfinished and recently finished), oldest first. */
  live(): ManagedJobRecord[] {
    return Object.values(this.records).sort((a, b) => a.id - b.id);
  }

  /** Every job, archived ones included, oldest first. */
  all(): ManagedJob[] {
    return [...this.archived(), ...this.live().map(publicManagedJob)];
  }

  async update(record: ManagedJobRecord, patch: Partial<ManagedJobRecord>): Promise<void> {
    Object.assign(record, patch);
    if (isManagedJobFinished(record.status)) {
      // What only a running job needs goes: the specs hold the tasks' secrets.
      delete record.specs;
      delete record.attempt;
      delete record.statusMessage;
      delete record.runningSince;
      this.archiveOld();
    }
    await this.state.persist();
    this.emit('job', publicManagedJob(record));
  }

  private archiveOld(): void {
    const finished = this.live().filter((j) => isManagedJobFinished(j.status) && j.retiring.length === 0);
    if (finished.length <= RECENT_FINISHED) return;
    const old = finished.slice(0, finished.length - RECENT_FINISHED);
    try {
      appendFileSync(this.archiveFile, old.map((j) => JSON.stringify(publicManagedJob(j)) + '\n').join(''), { mode: 0o600 });
    } catch {
      return; // the disk refused: they stay live until an archive write succeeds
    }
    for (const j of old) delete this.records[j.id];
  }

  private archived(): ManagedJob[] {
    let text: string;
    try {
      text = readFileSync(this.archiveFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as ManagedJob];
        } catch {
          return []; // a torn last line
        }
      });
  }
}
