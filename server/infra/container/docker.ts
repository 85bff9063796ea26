// A cluster's container on one node, through the docker CLI of that node: this machine for local
// infra, the host for SSH node pools. As in SkyPilot, the container is started when the cluster is
// provisioned and kept for the cluster's life (every job and terminal runs in it); down removes it.
//
// The node's cluster folder (local sandbox, SSH node dir) is bind-mounted at the same path, so the job
// scripts, the workdir and the files the server follows keep one path on the node and in the container.
// The container's processes are not children of `docker exec` on the node: killing the exec client
// leaves them running, so each phase records its process group (inside the container) and a cancel
// ends that group there.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as z from 'zod';
import { fail } from '../../errors';
import type { LogWriter } from '../../logs/log-writer';
import { shellQuote } from '../shell';
import { qualifiedImage, type RegistryLogin } from './image';

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A node's shell, where its docker CLI runs. */
export interface NodeShellRunner {
  /** For messages: `this machine`, `host h1`. */
  readonly where: string;
  run(command: string, stdin?: string): Promise<ShellResult>;
}

/** The container a cluster's node runs its jobs in (kept in the cluster's handle). */
export const containerHandle = z.object({ name: z.string(), image: z.string(), home: z.string() });
export type ContainerHandle = z.infer<typeof containerHandle>;

/** The file in a node's cluster folder that names its container, so teardown finds it without a handle. */
const MARKER = 'container';

/** This machine's shell (local infra): bash, with the server's environment (DOCKER_HOST included). */
export const localShell: NodeShellRunner = {
  where: 'this machine',
  run: (command, stdin) =>
    new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => resolve({ code: null, stdout: '', stderr: e.message }));
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    }),
};

/** A container name unique per node and cluster folder: `skydeck-dev-1a2b3c4d` (one engine may serve several SSH hosts). */
export function containerName(cluster: string, where: string): string {
  return `skydeck-${cluster}-${createHash('sha256').update(where).digest('hex').slice(0, 8)}`;
}

/** The line of a docker error that says what went wrong: its last. */
function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

/** Why the node cannot run containers (no docker CLI, or no engine answering it), or undefined when it can. */
export async function runtimeProblem(node: NodeShellRunner): Promise<string | undefined> {
  const r = await node.run(`docker version --format '{{.Server.Version}}'`);
  if (r.code === 0) return undefined;
  if (r.code === 127) return `no container runtime on ${node.where} (no docker command)`;
  return `no container runtime on ${node.where} (docker: ${lastLine(r.stderr) || `exit ${r.code}`})`;
}

/** Answers about nodes' runtimes for a few seconds, so planning a launch does not ask every node each time. */
export class RuntimeProbes {
  private readonly answers = new Map<string, { at: number; problem: Promise<string | undefined> }>();

  constructor(private readonly ttlMs = 10_000) {}

  problem(node: NodeShellRunner, key = node.where): Promise<string | undefined> {
    const cached = this.answers.get(key);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.problem;
    const problem = runtimeProblem(node).catch((err: Error) => `${node.where} did not answer (${err.message})`);
    this.answers.set(key, { at: Date.now(), problem });
    return problem;
  }
}

/** The image on the node: there already, or pulled (after the registry login, when the task gives one). */
async function ensureImage(node: NodeShellRunner, imageId: string, image: string, login: RegistryLogin | undefined, log: LogWriter): Promise<void> {
  if ((await node.run(`docker image inspect --format '{{.Id}}' ${shellQuote(image)}`)).code === 0) return;
  if (login) {
    log.line(`  ${node.where}: docker login ${login.server}`);
    const r = await node.run(`docker login --username ${shellQuote(login.username)} --password-stdin ${shellQuote(login.server)}`, login.password);
    if (r.code !== 0) throw fail.image_unavailable(`image_id ${imageId}: docker login to ${login.server} failed on ${node.where}: ${lastLine(r.stderr)}`);
  }
  log.line(`  ${node.where}: pulling ${image}...`);
  const pulled = await node.run(`docker pull -q ${shellQuote(image)}`);
  if (pulled.code !== 0) {
    throw fail.image_unavailable(`image_id ${imageId}: image ${image} is not on ${node.where} and could not be pulled: ${lastLine(pulled.stderr) || `exit ${pulled.code}`}`);
  }
}

export interface ContainerRequest {
  /** As the task wrote it (`docker:IMAGE`), for messages. */
  imageId: string;
  image: string;
  login?: RegistryLogin;
  cluster: string;
  name: string;
  /** Absolute path of the node's cluster folder, mounted at the same path in the container. */
  dir: string;
}

// Keeps the container up between jobs; any image with a POSIX sh will do (SkyPilot keeps its own
// runtime container alive the same way). --init reaps what jobs leave behind.
const KEEP_ALIVE = `trap 'exit 0' TERM INT; while :; do sleep 1000 & wait $!; done`;

/**
 * Starts the cluster's container on the node (or finds the one a previous provisioning started) and
 * checks it can run the task's scripts. On any failure nothing is left running.
 */
export async function startContainer(node: NodeShellRunner, req: ContainerRequest, log: LogWriter): Promise<ContainerHandle> {
  const problem = await runtimeProblem(node);
  if (problem) throw fail.image_unavailable(`image_id ${req.imageId}: ${problem}`);
  const image = qualifiedImage(req.image, req.login);
  await ensureImage(node, req.imageId, image, req.login, log);
  const name = shellQuote(req.name);
  // Named first, so a teardown finds the container even if this provisioning dies half-way.
  const marked = await node.run(`printf '%s' ${name} > ${shellQuote(path.posix.join(req.dir, MARKER))}`);
  if (marked.code !== 0) throw fail.infra_failed(`on ${node.where}: cannot write ${req.dir}/${MARKER}: ${lastLine(marked.stderr)}`);
  const state = await node.run(`docker inspect --format '{{.State.Running}} {{.Config.Image}}' ${name}`);
  const [running, existingImage] = state.stdout.trim().split(' ');
  if (state.code === 0 && existingImage === image && running === 'true') {
    log.line(`  ${node.where}: reusing container ${req.name} (${image})`);
  } else {
    if (state.code === 0) await node.run(`docker rm -f ${name}`);
    const labels = `--label skydeck.cluster=${shellQuote(req.cluster)} --label skydeck.dir=${shellQuote(req.dir)}`;
    const mount = shellQuote(`${req.dir}:${req.dir}`);
    const started = await node.run(`docker run -d --init --name ${name} ${labels} --network host -v ${mount} --entrypoint sh ${shellQuote(image)} -c ${shellQuote(KEEP_ALIVE)}`);
    if (started.code !== 0) {
      await node.run(`docker rm -f ${name}`);
      throw fail.infra_failed(`image_id ${req.imageId}: the container did not start on ${node.where}: ${lastLine(started.stderr)}`);
    }
    log.line(`  ${node.where}: container ${req.name} started from ${image}`);
  }
  // Setup and run are bash scripts, as in SkyPilot: an image without bash is refused here, not at the first job.
  const home = await node.run(`docker exec ${name} bash -c 'printf %s "$HOME"'`);
  if (home.code !== 0) {
    await node.run(`docker rm -f ${name}`);
    throw fail.image_unavailable(`image_id ${req.imageId}: setup and run need bash in the image, and ${image} has none (${lastLine(home.stderr || home.stdout)})`);
  }
  return { name: req.name, image, home: home.stdout || '/root' };
}

/** Removes the container named in the cluster folder `dirExpr` (a shell expression), if any. For teardown scripts. */
export function removeContainerCommand(dirExpr: string): string {
  return `if [ -f ${dirExpr}/${MARKER} ]; then docker rm -f "$(cat ${dirExpr}/${MARKER})" >/dev/null 2>&1; rm -f ${dirExpr}/${MARKER}; fi`;
}

// In the container: source the env file (SSH keeps envs apart from the script), then run the script in
// a process group of its own (job control), recording its id where the node's kill can read it. The
// script keeps the real stderr (fd 3); the wrapper's own goes nowhere, so job control's "Done" notices
// stay out of the job's log.
const PHASE = 'set -a; [ -z "$3" ] || . "$3"; set +a; exec 3>&2 2>/dev/null; set -m; bash "$1" 2>&3 3>&- & echo $! > "$2"; wait $!';

/** A shell command running a job phase's script in the container; arguments are shell expressions (quoted or variables). */
export function execPhaseCommand(o: { container: string; workdirExpr: string; scriptExpr: string; pidFileExpr: string; envFileExpr?: string }): string {
  return `docker exec -w ${o.workdirExpr} ${shellQuote(o.container)} bash -c ${shellQuote(PHASE)} skydeck-phase ${o.scriptExpr} ${o.pidFileExpr} ${o.envFileExpr ?? "''"}`;
}

// TERM to each recorded group, KILL to what is left after a second.
const KILL = [
  'alive() { for f in "$@"; do p=$(cat "$f" 2>/dev/null) && kill -0 -- "-$p" 2>/dev/null && return 0; done; return 1; }',
  'for f in "$@"; do p=$(cat "$f" 2>/dev/null) && kill -TERM -- "-$p" 2>/dev/null; done',
  'for _ in 1 2 3 4 5 6 7 8 9 10; do alive "$@" || exit 0; sleep 0.1; done',
  'for f in "$@"; do p=$(cat "$f" 2>/dev/null) && kill -KILL -- "-$p" 2>/dev/null; done',
  'exit 0',
].join('\n');

/** A shell command ending, inside the container (a shell expression), the process groups recorded in `pidFileExprs`. */
export function killInContainerCommand(containerExpr: string, pidFileExprs: string[]): string {
  return `docker exec ${containerExpr} bash -c ${shellQuote(KILL)} skydeck-kill ${pidFileExprs.join(' ')}`;
}

/** The pid files a job's phases write in its job folder. */
export const PHASE_PID_FILES = ['setup.cpid', 'run.cpid'];

/** Where a file mount's remote path is in the container: `~/x` and relative paths under the container's home. */
export function containerPath(remote: string, home: string): string {
  if (remote.startsWith('/')) return path.posix.normalize(remote);
  return path.posix.join(home, remote.replace(/^~\/?/, ''));
}

/** A shell command copying a file or folder on the node (`sourceExpr`, a shell expression) to `dest` in the container. */
export function copyIntoCommand(container: string, sourceExpr: string, isDir: boolean, dest: string): string {
  const c = shellQuote(container);
  const parent = isDir ? dest : path.posix.dirname(dest);
  return `docker exec ${c} mkdir -p ${shellQuote(parent)} && docker cp ${isDir ? `${sourceExpr}/.` : sourceExpr} ${shellQuote(`${container}:${dest}`)}`;
}

/** Arguments of `docker exec` for a terminal in the container, started in `workdir` with `env` set. */
export function shellExecArgs(container: string, workdir: string, env: Record<string, string>, tty: boolean): string[] {
  return ['exec', tty ? '-it' : '-i', '-w', workdir, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), container];
}
