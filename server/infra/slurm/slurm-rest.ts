// The transport through slurmrestd (OpenAPI v0.0.38) with JWT authentication, and the mapping of its
// answers onto what the commands' parsers produce. The token is read from its file at every request so
// a rotated token applies at once; it never appears in a message or a log.
import { readFileSync } from 'node:fs';
import { ENDED_STATES, expandHostlist, gresAndDisk, parseGres, type SlurmNode } from './slurm-cli';
import type { SlurmRestConfig } from './slurm-config';
import type { SlurmJobFilter, SlurmJobInfo, SlurmJobRequest, SlurmQueuedJob, SlurmTransport } from './slurm-transport';

const TIMEOUT_MS = 30_000;
/** Slurm's "Invalid job id specified": the job is unknown or already forgotten. */
const INVALID_JOB_ID = 2017;
/** The PATH a job's batch script starts with (v0.0.38 cannot ask for the login environment as sbatch does). */
const JOB_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RestSlurmError {
  error?: string;
  error_number?: number;
  error_code?: number;
  description?: string;
  source?: string;
}

export interface RestNode {
  name: string;
  state: string;
  state_flags?: string[];
  cpus: number;
  real_memory: number;
  gres?: string;
  partitions?: string[];
  /** TmpDisk in MB. */
  tmp_disk?: number;
}

export interface RestPartition {
  name: string;
  flags?: string[];
}

export interface RestJob {
  job_id: number;
  name: string;
  user_name: string;
  job_state: string;
  state_reason?: string;
  nodes?: string;
  required_nodes?: string;
  comment?: string;
}

export class SlurmRestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errors: RestSlurmError[],
  ) {
    super(message);
  }
}

export function restTransport(config: SlurmRestConfig): SlurmTransport {
  const base = `${config.url}/slurm/${config.api}`;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T & { errors?: RestSlurmError[] }> {
    const where = `slurmrestd at ${config.url}`;
    let token: string;
    try {
      token = readFileSync(config.jwtFile, 'utf8').trim();
    } catch (err) {
      throw new SlurmRestError(`cannot read the JWT for ${where} from ${config.jwtFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined, []);
    }
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { 'X-SLURM-USER-NAME': config.user, 'X-SLURM-USER-TOKEN': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SlurmRestError(`cannot reach ${where}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, undefined, []);
    }
    const text = await res.text();
    let answer: (T & { errors?: RestSlurmError[] }) | undefined;
    try {
      answer = JSON.parse(text) as T & { errors?: RestSlurmError[] };
    } catch {
      answer = undefined;
    }
    const errors = answer?.errors ?? [];
    if (res.ok && answer) return answer;
    if (res.status === 401 || res.status === 403) {
      throw new SlurmRestError(`${where} rejected the JWT from ${config.jwtFile} for user ${config.user} (HTTP ${res.status} ${text.trim().slice(0, 200)})`, res.status, errors);
    }
    const hint = res.status >= 500 ? jwtHint(errors, config, token) : '';
    throw new SlurmRestError(`${where} answered HTTP ${res.status} to ${method} ${path}: ${describeErrors(errors) || text.trim().slice(0, 200)}${hint}`, res.status, errors);
  }

  const jobInfo = async (id: string): Promise<SlurmJobInfo | undefined> => {
    try {
      const { jobs } = await call<{ jobs: RestJob[] }>('GET', `/job/${encodeURIComponent(id)}`);
      return jobs[0] && restJobInfo(jobs[0]);
    } catch (err) {
      if (err instanceof SlurmRestError && err.errors.some((e) => e.error_number === INVALID_JOB_ID)) return undefined;
      throw err;
    }
  };

  const queued = async (f: SlurmJobFilter): Promise<string[]> => {
    if ('id' in f) {
      const info = await jobInfo(f.id);
      return info && !ENDED_STATES.has(info.state) ? [f.id] : [];
    }
    const { jobs } = await call<{ jobs: RestJob[] }>('GET', '/jobs');
    return jobs.filter((j) => j.name === f.name && j.user_name === f.user && !ENDED_STATES.has(j.job_state)).map((j) => String(j.job_id));
  };

  return {
    via: `slurmrestd at ${config.url} (JWT, user ${config.user})`,
    nodes: async () => {
      const [{ nodes }, { partitions }] = await Promise.all([call<{ nodes: RestNode[] }>('GET', '/nodes'), call<{ partitions: RestPartition[] }>('GET', '/partitions')]);
      return restNodes(nodes, partitions);
    },
    submit: async (job) => {
      const answer = await call<{ job_id?: number }>('POST', '/job/submit', restSubmission(job));
      if (answer.job_id === undefined) throw new SlurmRestError(`slurmrestd at ${config.url} did not submit the job: ${describeErrors(answer.errors ?? [])}`, 200, answer.errors ?? []);
      return String(answer.job_id);
    },
    jobInfo,
    queued,
    cancel: async (f) => {
      for (const id of 'id' in f ? [f.id] : await queued(f)) await call('DELETE', `/job/${encodeURIComponent(id)}`);
    },
    release: async (id) => {
      // v0.0.38 updates a job with the submission's properties: `hold: false` is scontrol release.
      await call('POST', `/job/${encodeURIComponent(id)}`, { hold: false });
    },
    queue: async () => {
      const { jobs } = await call<{ jobs: RestJob[] }>('GET', '/jobs');
      return jobs.filter((j) => !ENDED_STATES.has(j.job_state)).map(restQueuedJob);
    },
  };
}

function describeErrors(errors: RestSlurmError[]): string {
  return errors.map((e) => [e.error, e.description && `${e.source ? `${e.source}: ` : ''}${e.description}`].filter(Boolean).join(': ')).join('; ');
}

/**
 * slurmrestd passes the JWT on to slurmctld, which refuses a bad one without saying why: slurmrestd
 * answers 500 with an unspecified error. Say what the likely cause is, and whether the token expired.
 */
function jwtHint(errors: RestSlurmError[], config: SlurmRestConfig, token: string): string {
  if (!errors.some((e) => e.error_number === -1 || e.error === 'Unspecified error')) return '';
  const exp = jwtExpiry(token);
  if (exp !== undefined && exp < Date.now()) return ` (the JWT in ${config.jwtFile} expired at ${new Date(exp).toISOString()})`;
  return ` (slurmctld refused the request: is it up, and is the JWT in ${config.jwtFile} valid for user ${config.user}?)`;
}

/** The token's `exp` claim in milliseconds, read without verifying it (slurmctld does that). */
export function jwtExpiry(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The job as slurmrestd v0.0.38 takes it: the sbatch options the command transport gives. */
export function restSubmission(job: SlurmJobRequest): { script: string; job: Record<string, unknown> } {
  return {
    script: job.script,
    job: {
      name: job.name,
      partition: job.partition,
      // v0.0.38 documents an array here but only applies a count given as a string.
      nodes: String(job.nodes),
      tasks_per_node: 1,
      // sbatch's --no-requeue: v0.0.38 ignores `requeue: false` (the job stays requeueable, and one that
      // lost a node would start over), but takes the option under its sbatch name.
      no_requeue: true,
      standard_output: job.output,
      current_working_directory: job.chdir,
      // Not the server's environment (as sbatch --export=NONE); slurmrestd requires one.
      environment: { PATH: JOB_PATH },
      ...(job.cpusPerTask ? { cpus_per_task: job.cpusPerTask } : {}),
      ...(job.memoryMb ? { memory_per_node: job.memoryMb } : {}),
      ...(job.gres ? { gres: job.gres } : {}),
      ...(job.account ? { account: job.account } : {}),
      // sbatch's --nodelist under its sbatch name, as a string (v0.0.38 refuses its documented `required_nodes`).
      ...(job.nodelist?.length ? { nodelist: job.nodelist.join(',') } : {}),
      ...(job.hold ? { hold: true } : {}),
      ...(job.comment ? { comment: job.comment } : {}),
    },
  };
}

export function restQueuedJob(job: RestJob): SlurmQueuedJob {
  return {
    id: String(job.job_id),
    name: job.name,
    state: job.job_state,
    reason: job.state_reason || 'None',
    nodes: expandHostlist(job.nodes ?? ''),
    requiredNodes: expandHostlist(job.required_nodes ?? ''),
    comment: job.comment ?? '',
  };
}

export function restJobInfo(job: RestJob): SlurmJobInfo {
  return { state: job.job_state, reason: job.state_reason || 'None', nodeList: job.nodes ?? '' };
}

/** One entry per node and partition, as `sinfo -N -o %N|%P|%c|%m|%G|%t` gives them. */
export function restNodes(nodes: RestNode[], partitions: RestPartition[]): SlurmNode[] {
  const defaults = new Set(partitions.filter((p) => p.flags?.includes('default')).map((p) => p.name));
  return nodes.flatMap((n) =>
    (n.partitions ?? []).map((partition) => ({
      name: n.name,
      partition,
      isDefault: defaults.has(partition),
      cpus: n.cpus,
      memoryGiB: Math.round((n.real_memory / 1024) * 10) / 10,
      accelerators: parseGres(n.gres ?? ''),
      state: sinfoState(n.state, n.state_flags ?? []),
      ...gresAndDisk(n.gres, n.tmp_disk ?? 0),
    })),
  );
}

/** slurmrestd's state and flags as sinfo's short state (`idle`, `mix`, `drain`, `down*`, `idle~`). */
export function sinfoState(state: string, flags: string[]): string {
  const base = state.toLowerCase();
  const short = ({ allocated: 'alloc', mixed: 'mix', unknown: 'unk', future: 'futr', error: 'err' } as Record<string, string>)[base] ?? base;
  let s = short;
  if (flags.includes('FAIL')) s = 'fail';
  else if (flags.includes('MAINTENANCE')) s = 'maint';
  else if (flags.includes('DRAIN')) s = short === 'alloc' || short === 'mix' ? 'drng' : 'drain';
  if (flags.includes('NOT_RESPONDING')) s += '*';
  else if (flags.includes('POWERED_DOWN')) s += '~';
  return s;
}
