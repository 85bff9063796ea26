// The Slurm commands (sbatch, squeue, scontrol, scancel, sinfo) and what their output means.
import { execFile } from 'node:child_process';
import type { NodeOffer } from '../fit';
import type { SlurmJobFilter, SlurmJobInfo, SlurmJobRequest, SlurmQueuedJob, SlurmTransport } from './slurm-transport';

export interface SlurmCommands {
  run(cmd: string, args: string[]): Promise<string>;
}

export function slurmCommands(slurmConf: string | undefined): SlurmCommands {
  // A SLURM_JWT in the server's environment would ride into the job and make srun inside it
  // authenticate to slurmd with JWT, which slurmd rejects.
  const { SLURM_JWT: _jwt, ...env } = process.env;
  if (slurmConf) env.SLURM_CONF = slurmConf;
  return {
    run: (cmd, args) =>
      new Promise((resolve, reject) => {
        execFile(cmd, args, { env, timeout: 30_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
          else resolve(stdout);
        });
      }),
  };
}

/** The transport that runs Slurm's own commands, as the user the server runs as. */
export function commandTransport(slurmConf: string | undefined): SlurmTransport {
  const commands = slurmCommands(slurmConf);
  const filterArgs = (f: SlurmJobFilter) => ('id' in f ? ['-j', f.id] : ['--name', f.name, '--user', f.user]);
  return {
    via: 'the Slurm commands (sbatch, squeue, scancel)',
    nodes: async () => parseSinfo(await commands.run('sinfo', ['-h', '-N', '-o', SINFO_FORMAT])),
    submit: async (job) => (await commands.run('sbatch', sbatchArgs(job))).trim().split(';')[0]!,
    jobInfo: async (id) => {
      let out: string;
      try {
        out = await commands.run('scontrol', ['show', 'job', '-o', id]);
      } catch (err) {
        if (/Invalid job id/i.test((err as Error).message)) return undefined;
        throw err;
      }
      return jobInfoOf(parseScontrolJob(out));
    },
    queued: async (f) => (await commands.run('squeue', ['-h', '-o', '%i', ...filterArgs(f)])).split('\n').filter((l) => l.trim()),
    release: async (id) => {
      await commands.run('scontrol', ['release', id]);
    },
    queue: async () => parseQueue(await commands.run('squeue', ['-h', '-o', QUEUE_FORMAT])),
    cancel: async (f) => {
      await commands.run('scancel', 'id' in f ? [f.id] : [`--name=${f.name}`, `--user=${f.user}`]);
    },
  };
}

export function sbatchArgs(job: SlurmJobRequest): string[] {
  return [
    '--parsable',
    '--export=NONE',
    // A job that lost a node fails instead of starting over from setup behind the user's back.
    '--no-requeue',
    `--job-name=${job.name}`,
    `--partition=${job.partition}`,
    `--nodes=${job.nodes}`,
    '--ntasks-per-node=1',
    `--output=${job.output}`,
    `--chdir=${job.chdir}`,
    ...(job.cpusPerTask ? [`--cpus-per-task=${job.cpusPerTask}`] : []),
    ...(job.memoryMb ? [`--mem=${job.memoryMb}M`] : []),
    ...(job.gres ? [`--gres=${job.gres}`] : []),
    ...(job.account ? [`--account=${job.account}`] : []),
    ...(job.nodelist?.length ? [`--nodelist=${job.nodelist.join(',')}`] : []),
    ...(job.hold ? ['--hold'] : []),
    ...(job.comment ? [`--comment=${job.comment}`] : []),
    job.scriptFile,
  ];
}

/**
 * `squeue -h -o` with this format: id, state, reason, nodes, required nodes, comment, name; fields
 * apart by the unit separator, which no name or comment holds (a `|` in someone's job name would shift
 * the fields of its line).
 */
const FIELD = '\x1f';
export const QUEUE_FORMAT = ['%i', '%T', '%r', '%N', '%n', '%k', '%j'].join(FIELD);

export function parseQueue(stdout: string): SlurmQueuedJob[] {
  return stdout
    .split('\n')
    .filter((l) => l.includes(FIELD))
    .map((line) => {
      const [id, state, reason, nodes, required, comment, ...name] = line.trim().split(FIELD);
      // squeue prints (null) for a job without a comment.
      return { id: id!, state: state!, reason: reason!, nodes: expandHostlist(nodes ?? ''), requiredNodes: expandHostlist(required ?? ''), comment: comment === '(null)' ? '' : (comment ?? ''), name: name.join(FIELD) };
    });
}

function jobInfoOf(job: Record<string, string>): SlurmJobInfo {
  return { state: job.JobState ?? '', reason: job.Reason ?? 'None', nodeList: job.NodeList ?? '' };
}

export interface SlurmNode extends NodeOffer {
  name: string;
  partition: string;
  isDefault: boolean;
  state: string;
  /** Its GRES as Slurm says it (`gpu:t4:2`), when it has any. */
  gres?: string;
}

/** `sinfo -h -N -o` with this format: one line per node and partition (%d: TmpDisk in MB, 0 when unset). */
export const SINFO_FORMAT = '%N|%P|%c|%m|%G|%t|%d';

export function parseSinfo(stdout: string): SlurmNode[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [name, partition, cpus, memMb, gres, state, tmpMb] = line.trim().split('|');
      return {
        name: name!,
        partition: partition!.replace(/\*$/, ''),
        isDefault: partition!.endsWith('*'),
        cpus: Number.parseInt(cpus!, 10),
        memoryGiB: Math.round((Number.parseInt(memMb!, 10) / 1024) * 10) / 10,
        accelerators: parseGres(gres ?? ''),
        state: state!,
        ...gresAndDisk(gres, Number.parseInt(tmpMb ?? '', 10)),
      };
    });
}

/** The raw GRES (absent for `(null)`), and TmpDisk as the node's free disk when Slurm is told it. */
export function gresAndDisk(gres: string | undefined, tmpDiskMb: number): Pick<SlurmNode, 'gres' | 'diskFreeGB'> {
  const raw = gres && gres !== '(null)' ? gres : undefined;
  return { ...(raw ? { gres: raw } : {}), ...(tmpDiskMb > 0 ? { diskFreeGB: Math.floor((tmpDiskMb / 1024) * 10) / 10 } : {}) };
}

/**
 * Slurm's host list (`n[1-3,7],gpu01`) as node names, as `scontrol show hostnames` prints them
 * (zero padding kept: `n[01-02]` -> n01, n02).
 */
export function expandHostlist(list: string): string[] {
  const names: string[] = [];
  // Commas inside brackets separate ranges, outside they separate hosts.
  for (const item of list.match(/[^,[]+(\[[^\]]*\])?[^,]*/g) ?? []) {
    const m = /^([^[]*)\[([^\]]*)\](.*)$/.exec(item);
    if (!m) {
      if (item && item !== '(null)') names.push(item);
      continue;
    }
    for (const range of m[2]!.split(',')) {
      const [from, to = from] = range.split('-');
      const width = from!.length;
      for (let i = Number(from); i <= Number(to); i++) names.push(`${m[1]}${String(i).padStart(width, '0')}${m[3]}`);
    }
  }
  return names;
}

/** `gpu:a100:2(S:0-1)` -> A100:2; `gpu:2` -> GPU:2; `(null)` -> none. */
export function parseGres(gres: string): { name: string; count: number } | undefined {
  for (const item of gres.split(',')) {
    const parts = item.replace(/\(.*\)$/, '').split(':');
    if (parts[0] !== 'gpu' || parts.length < 2) continue;
    const count = Number.parseInt(parts[parts.length - 1]!, 10);
    if (!Number.isFinite(count)) continue;
    return { name: parts.length >= 3 ? parts[1]!.toUpperCase() : 'GPU', count };
  }
  return undefined;
}

/** Node states in which Slurm will not start new work (`down*`, `drain`, `fail`...). */
export function nodeUsable(state: string): boolean {
  return !/^(down|drain|drng|fail|failg|maint|no_respond|npc|plnd|powered_down|reserved|unk)/.test(state.replace(/[*~#!%$@^-]+$/, ''));
}

/** `scontrol show job -o ID`: Key=Value pairs on one line. */
export function parseScontrolJob(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.trim().matchAll(/(\S+?)=(\S*)/g)) out[m[1]!] ??= m[2]!;
  return out;
}

/** Slurm's job states that mean the job has ended. */
export const ENDED_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);
