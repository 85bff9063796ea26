// The files a Slurm job is made of, in its job directory on the shared dir:
//   batch.sh   the sbatch script: finds the nodes' addresses, runs setup then run on every node (srun)
//   node.sh    what each srun task runs: the SKYPILOT_* variables for its node, then setup.sh or run.sh
//   node-<rank>.log, batch.log   output (srun --output per task; the batch script's own)
//   node_names, node_ips   the allocation's nodes and their addresses, in rank order
//   setup_exit, exit_code, <phase>_exit-<rank>, node-<rank>.host, running, cancelled
import { exportLines, remotePathExpr, shellQuote } from '../shell';

export interface SlurmJobFiles {
  jobDir: string;
  workdir: string;
  slurmConf?: string;
  setup?: string;
  run?: string;
  /** Everything but the per-node variables (rank, IPs, node count), which only the allocation knows. */
  setupEnv: Record<string, string>;
  runEnv: Record<string, string>;
  /** Remote path -> name of its copy under <jobDir>/mounts. */
  mounts: { remote: string; copy: string; isDir: boolean }[];
}

export function batchScript(f: SlurmJobFiles): string {
  const J = shellQuote(f.jobDir);
  return `#!/bin/bash
# SkyDeck job: setup then run on every node of the allocation.
J=${J}
# The id lets a server that stopped before recording it find this job again.
echo "$SLURM_JOB_ID" > "$J/slurm_job_id"
# The env files hold the task's secrets: gone when the job ends, however it ends (the server removes
# them too, for a job killed outright).
trap 'rm -f "$J/setup.env" "$J/run.env"' EXIT
${f.slurmConf ? `export SLURM_CONF=${shellQuote(f.slurmConf)}\n` : ''}# sbatch ran with --export=NONE, which srun would inherit: let the steps see this script's variables.
export SLURM_EXPORT_ENV=ALL
N=$SLURM_JOB_NUM_NODES
# In rank order (rank = SLURM_NODEID = place in the host list); node_ips appears whole, after node_names,
# so the server reading both for the cluster's addresses never sees half of it.
scontrol show hostnames "$SLURM_JOB_NODELIST" > "$J/node_names"
while read -r n; do
  scontrol show node "$n" -o </dev/null | tr ' ' '\\n' | sed -n 's/^NodeAddr=//p'
done < "$J/node_names" > "$J/node_ips.part"
mv "$J/node_ips.part" "$J/node_ips"
step() { srun --nodes="$N" --ntasks="$N" --ntasks-per-node=1 --kill-on-bad-exit=1 --open-mode=append --output="$J/node-%t.log" bash "$J/node.sh" "$1"; }
if [ -e "$J/setup.sh" ]; then
  step setup; rc=$?
  echo $rc > "$J/setup_exit"
  [ $rc = 0 ] || exit $rc
fi
touch "$J/running"
step run; rc=$?
echo $rc > "$J/exit_code"
exit $rc
`;
}

export function nodeScript(f: SlurmJobFiles): string {
  const mounts = f.mounts
    .map((m) =>
      m.isDir
        ? `  mkdir -p ${remotePathExpr(m.remote)} && cp -a "$J/mounts/${m.copy}/." ${remotePathExpr(m.remote)}/`
        : `  mkdir -p "$(dirname ${remotePathExpr(m.remote)})" && cp -a "$J/mounts/${m.copy}" ${remotePathExpr(m.remote)}`,
    )
    .join('\n');
  return `#!/bin/bash
# One node's part of a SkyDeck job: $1 is setup or run.
J=${shellQuote(f.jobDir)}
R=$SLURM_NODEID
echo "$SLURMD_NODENAME" > "$J/node-$R.host"
IPS=$(cat "$J/node_ips")
set -a; . "$J/$1.env"; set +a
if [ "$1" = setup ]; then
  export SKYPILOT_SETUP_NODE_RANK=$R SKYPILOT_SETUP_NODE_IPS="$IPS" SKYPILOT_SETUP_NUM_NODES=$SLURM_JOB_NUM_NODES
else
  export SKYPILOT_NODE_RANK=$R SKYPILOT_NODE_IPS="$IPS" SKYPILOT_NUM_NODES=$SLURM_JOB_NUM_NODES
fi
if [ "$1" = setup ] || [ ! -e "$J/setup.sh" ]; then
  :
${mounts}
fi
if [ -e "$J/$1.sh" ]; then (cd ${shellQuote(f.workdir)} && exec bash "$J/$1.sh"); rc=$?; else rc=0; fi
echo $rc > "$J/$1_exit-$R"
exit $rc
`;
}

export function envFile(env: Record<string, string>): string {
  return exportLines(env) + '\n';
}
