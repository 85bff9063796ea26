// What a job looks like on one SSH node: a job directory holding the scripts, a driver started under
// setsid (its pid is the process group to kill), the combined output and one file per outcome.
// Everything the server needs to follow, cancel or pick up a job again lives in these files, so jobs
// outlive the server process.
//
//   <node dir>/workdir            the task's workdir, synced before setup; setup and run start here
//   <node dir>/jobs/<id>/driver.sh  setup -> wait for `go` (every node's setup done) or `abort` -> run
//                       pgid        the driver's process group
//                       out.log     setup and run output
//                       setup_exit, exit_code   exit statuses, written when each phase ends
//                       go, abort, cancelled    markers written by the server
//
// The node dir includes the node's rank because hosts of a pool may share a home directory (NFS).
import { randomBytes } from 'node:crypto';
import { execPhaseCommand, killInContainerCommand, PHASE_PID_FILES, removeContainerCommand } from '../container/docker';
import { exportLines, shellQuote } from '../shell';

export function nodeDirExpr(cluster: string, rank: number): string {
  return `"$HOME"/.skydeck/clusters/${shellQuote(cluster)}/node-${rank}`;
}

export interface NodeJobFiles {
  cluster: string;
  rank: number;
  jobId: number;
  setup?: string;
  run?: string;
  setupEnv: Record<string, string>;
  runEnv: Record<string, string>;
  /** The cluster's container on this node: setup and run execute in it. */
  container?: string;
}

// The env file holds the task's secrets: gone as soon as the phase has read it (in a container, when
// the job ends).
const HOST_PHASE = 'phase() { (set -a; . "$J/$1.env"; set +a; rm -f "$J/$1.env"; cd "$W" && exec bash "$J/$1.sh"); }';

/** The driver's phase function in a container (the node dir is mounted at the same path there). */
function containerPhase(container: string): string {
  const exec = execPhaseCommand({ container, workdirExpr: '"$(cd "$W" && pwd)"', scriptExpr: '"$J/$1.sh"', pidFileExpr: '"$J/$1.cpid"', envFileExpr: '"$J/$1.env"' });
  return `phase() { ${exec}; }`;
}

const DRIVER = (phase: string) => `#!/bin/bash
# SkyDeck job driver (one per node): setup, wait until every node's setup succeeded, run.
J=$(cd "$(dirname "$0")" && pwd)
W="$J/../../workdir"
echo $$ > "$J/pgid.tmp" && mv "$J/pgid.tmp" "$J/pgid"
exec >>"$J/out.log" 2>&1 </dev/null
${phase}
if [ -e "$J/setup.sh" ]; then phase setup; echo $? > "$J/setup_exit.tmp"; else echo 0 > "$J/setup_exit.tmp"; fi
mv "$J/setup_exit.tmp" "$J/setup_exit"
while [ ! -e "$J/go" ] && [ ! -e "$J/abort" ]; do sleep 0.2; done
if [ -e "$J/go" ] && [ ! -e "$J/abort" ]; then
  if [ -e "$J/run.sh" ]; then phase run; echo $? > "$J/exit_code.tmp"; else echo 0 > "$J/exit_code.tmp"; fi
  mv "$J/exit_code.tmp" "$J/exit_code"
fi
rm -f "$J/setup.env" "$J/run.env"
# Processes the task left in the background end with the job.
kill -KILL -- -$$
`;

/**
 * A bash script, fed on stdin, that writes the job directory and starts the driver under setsid.
 * It prints `<job dir> <pgid>` once the driver runs.
 */
export function startScript(f: NodeJobFiles): string {
  const eof = `SKYDECK_EOF_${randomBytes(8).toString('hex')}`;
  const write = (name: string, content: string) => `cat > "$J/${name}" <<'${eof}'\n${content}${content.endsWith('\n') || content === '' ? '' : '\n'}${eof}\n`;
  const parts = [
    'set -e',
    'umask 077',
    `N=${nodeDirExpr(f.cluster, f.rank)}`,
    `J="$N/jobs/${f.jobId}"`,
    'mkdir -p "$N/workdir" "$J"',
    'J=$(cd "$J" && pwd)',
    // A job id reused after a teardown must not inherit the old job's markers or scripts.
    'rm -f "$J"/go "$J"/abort "$J"/cancelled "$J"/setup_exit "$J"/exit_code "$J"/pgid "$J"/out.log "$J"/setup.sh "$J"/run.sh',
    write('driver.sh', DRIVER(f.container ? containerPhase(f.container) : HOST_PHASE)),
    f.container ? write('container', f.container) : '',
    write('setup.env', exportLines(f.setupEnv)),
    write('run.env', exportLines(f.runEnv)),
    f.setup !== undefined && f.setup.trim() !== '' ? write('setup.sh', f.setup) : '',
    f.run !== undefined && f.run.trim() !== '' ? write('run.sh', f.run) : '',
    'setsid bash "$J/driver.sh" </dev/null >/dev/null 2>&1 &',
    'for _ in $(seq 200); do [ -s "$J/pgid" ] && break; sleep 0.05; done',
    'echo "$J $(cat "$J/pgid")"',
  ];
  return parts.filter(Boolean).join('\n') + '\n';
}

/** State of one node's job as the follower reports it (one line on stderr per change). */
export interface NodeJobState {
  setupExit?: number;
  go: boolean;
  abort: boolean;
  cancelled: boolean;
  exitCode?: number;
  alive: boolean;
}

const STATE_PREFIX = '@skydeck-state ';

/**
 * A shell function `ours`: true while the job's driver (the process group leader) lives. Looking at
 * the leader's command line, not just the group id, keeps a reused pgid from passing for the job.
 */
function ownsGroup(jobDir: string): string {
  return `ours() { [ -n "$G" ] && tr '\\0' ' ' < /proc/$G/cmdline 2>/dev/null | grep -qF ${shellQuote(`${jobDir}/driver.sh`)}; }`;
}

export function parseState(line: string): NodeJobState | undefined {
  if (!line.startsWith(STATE_PREFIX)) return undefined;
  const f = Object.fromEntries(
    line
      .slice(STATE_PREFIX.length)
      .trim()
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
  const num = (v: string | undefined) => (v === undefined || v === '-' || v === '' ? undefined : Number.parseInt(v, 10));
  return { setupExit: num(f.setup), go: f.go === '1', abort: f.abort === '1', cancelled: f.cancel === '1', exitCode: num(f.exit), alive: f.alive === '1' };
}

/**
 * Follows a node's job: its output from `offset` on stdout (tail exits once the driver has),
 * and on stderr a state line each time the state changes, the last one once the job group is gone.
 */
export function followCommand(jobDir: string, offset: number): string {
  const watch = [
    'p=',
    'while :; do',
    // Alive is looked at before the files: the driver writes exit_code before it ends, so a group seen
    // gone always comes with its exit code (read the other way round, a job ending between the two
    // reads looked killed).
    '  if ours; then a=1; else a=0; fi',
    '  s="setup=$(cat setup_exit 2>/dev/null || echo -) go=$([ -e go ] && echo 1 || echo 0) abort=$([ -e abort ] && echo 1 || echo 0) cancel=$([ -e cancelled ] && echo 1 || echo 0) exit=$(cat exit_code 2>/dev/null || echo -) alive=$a"',
    `  [ "$s" != "$p" ] && { echo "${STATE_PREFIX}$s" >&2; p=$s; }`,
    '  case $s in *alive=0) break;; esac',
    '  sleep 0.2',
    'done',
  ].join('\n');
  return [
    `cd ${shellQuote(jobDir)} || exit 3`,
    'G=$(cat pgid) || exit 3',
    ownsGroup(jobDir),
    `( ${watch}\n) &`,
    // tail reads what is left once the driver is gone, then exits (-s: how often it looks).
    `exec tail -c +${offset + 1} -s 0.2 -F --pid="$G" out.log 2>/dev/null`,
  ].join('\n');
}

/**
 * Stops a node's job: marks it (so the follower and a restarted server know why it ended), then
 * TERM to the whole process group, KILL to what is left after a second. Exits once the group is gone.
 */
export function killCommand(jobDir: string, marker: 'cancelled' | 'abort'): string {
  return [
    `cd ${shellQuote(jobDir)} 2>/dev/null || exit 0`,
    `touch ${marker} abort`,
    // Processes in the container are not in the driver's group: they are ended there first.
    `[ -f container ] && ${killInContainerCommand('"$(cat container)"', PHASE_PID_FILES.map((f) => `"$PWD/${f}"`))} >/dev/null 2>&1`,
    // A driver stopped before a phase read its env file leaves it: the secrets go now.
    'rm -f setup.env run.env',
    'G=$(cat pgid 2>/dev/null) || exit 0',
    ownsGroup(jobDir),
    'ours || exit 0',
    'kill -TERM -- "-$G" 2>/dev/null || exit 0',
    'for _ in $(seq 10); do kill -0 -- "-$G" 2>/dev/null || exit 0; sleep 0.1; done',
    'kill -KILL -- "-$G" 2>/dev/null',
    'for _ in $(seq 20); do kill -0 -- "-$G" 2>/dev/null || exit 0; sleep 0.1; done',
    'exit 1',
  ].join('\n');
}

/**
 * Finds a node's job whose start a server restart cut short: prints `<job dir> <pgid>` when its driver
 * was started (its pgid file exists), nothing otherwise.
 */
export function findCommand(cluster: string, rank: number, jobId: number): string {
  return [`J=${nodeDirExpr(cluster, rank)}/jobs/${jobId}`, '[ -s "$J/pgid" ] || exit 0', 'J=$(cd "$J" && pwd)', 'echo "$J $(cat "$J/pgid")"'].join('\n');
}

/** Stops every job of a cluster on a node and removes the node's directory. */
export function teardownCommand(cluster: string, rank: number): string {
  return [
    `N=${nodeDirExpr(cluster, rank)}`,
    '[ -d "$N" ] || exit 0',
    'N=$(cd "$N" && pwd)',
    'for J in "$N"/jobs/*; do',
    '  G=$(cat "$J/pgid" 2>/dev/null) || continue',
    `  tr '\\0' ' ' < /proc/$G/cmdline 2>/dev/null | grep -qF "$J/driver.sh" && kill -KILL -- "-$G" 2>/dev/null`,
    'done',
    removeContainerCommand('"$N"'),
    'rm -rf "$N"',
    // Leave no empty cluster folder behind once its last node is gone.
    'rmdir "$(dirname "$N")" 2>/dev/null',
    'exit 0',
  ].join('\n');
}
