// A shell on a Slurm node: a Slurm cluster's nodes exist only inside a running job's allocation, so the
// shell is one more step in it (`srun --overlap --jobid`), sharing the job's nodes instead of queueing
// for new ones. The PTY is srun's (`--pty`), driven from a local one so that resizes reach the node.
import { shellQuote } from '../infra/shell';
import type { ShellRequest } from './node-shell';

export function srunShellArgs(o: { slurmJobId: string; rank: number; jobDir: string; workdir: string; request: ShellRequest }): string[] {
  const start = o.request.command === undefined ? 'exec bash -l' : `exec bash -lc ${shellQuote(o.request.command)}`;
  // The node's rank and the allocation's addresses are what the job's own steps see (batch-script.ts).
  const script = [
    `export SKYPILOT_NODE_RANK=${o.rank} SKYPILOT_NUM_NODES="$SLURM_JOB_NUM_NODES" SKYPILOT_NODE_IPS="$(cat ${shellQuote(o.jobDir)}/node_ips 2>/dev/null)"`,
    `cd ${shellQuote(o.workdir)} 2>/dev/null || cd`,
    start,
  ].join('; ');
  return [`--jobid=${o.slurmJobId}`, '--overlap', '--nodes=1', '--ntasks=1', `--relative=${o.rank}`, ...(o.request.tty ? ['--pty'] : []), 'bash', '-c', script];
}
