// The embedded default infra: one node, the server's own machine. A cluster is a sandbox directory;
// a job is a detached process session writing straight into its log file, so it outlives the server.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import type { Resources } from '../../../protocol/model';
import { fail } from '../../errors';
import type { LogWriter } from '../../logs/log-writer';
import {
  skypilotEnv,
  type BackendCapabilities,
  type ClusterRecord,
  type InfraBackend,
  type InfraStatus,
  type JobContext,
  type JobOutcome,
  type JobSpec,
  type Placement,
  type Provisioned,
  type ProvisionSecrets,
  type Refusal,
  type ResourceAsk,
  type RunningJob,
} from '../backend';
import { describeNodeAsk, describeOffer, diskVerdict, fixedNodeCapabilities, placementOn, shortfall, type FixedNodes } from '../fit';
import { containerHandle, containerName, containerPath, copyIntoCommand, execPhaseCommand, killInContainerCommand, localShell, PHASE_PID_FILES, removeContainerCommand, RuntimeProbes, shellExecArgs, startContainer, type ContainerHandle } from '../container/docker';
import { isContainerImage, parseContainerImage } from '../container/image';
import { spawnProcessShell } from '../../terminal/pty-shell';
import type { NodeShell, ShellEvents, ShellRequest } from '../../terminal/node-shell';
import { exportLines, shellQuote } from '../shell';
import { localListeningPorts, portsInUse } from '../listening-ports';
import { PlanSurvey } from '../plan-survey';
import { freeDiskGB, machineResources } from './machine';
import { isRunning, killJobTree, processStartTime } from './process-tree';
import { asUid, type JobUsers } from './job-users';
import { serverUserFiles, type SandboxFiles } from './sandbox-files';

const localJobHandle = z.object({ pid: z.number().int(), startTime: z.number().optional(), jobDir: z.string() });
type LocalJobHandle = z.infer<typeof localJobHandle>;
const localClusterHandle = z.object({ sandbox: z.string(), container: containerHandle.optional() });
type LocalClusterHandle = z.infer<typeof localClusterHandle>;

const POLL_MS = 200;

/** Why a key has no meaning on this machine, worded to follow the key. */
const THIS_MACHINE: FixedNodes = { are: 'local infra is this machine', one: true, spot: 'no spot capacity on this machine' };

export class LocalBackend implements InfraBackend<LocalClusterHandle, LocalJobHandle> {
  readonly kind = 'local';
  readonly handles = { cluster: localClusterHandle, job: localJobHandle };
  readonly capabilities: BackendCapabilities<LocalClusterHandle> = fixedNodeCapabilities(THIS_MACHINE, {
    // Nothing runs between jobs on local infra: stopping a cluster is cancelling its jobs, which the caller does.
    stopStart: { stop: async () => undefined, start: async () => undefined },
    ports: true,
    // Where `docker` answers; candidates() says why not per ask (it may start answering later).
    containerImages: true,
  });
  private readonly cancelled = new Set<number>();
  private readonly runtimes = new RuntimeProbes();

  constructor(
    private readonly dataDir: string,
    /** Why local jobs may not run right now (a team server whose operator has not enabled them), if so. */
    private readonly refusal: () => string | undefined = () => undefined,
    /** Set on a team server with local infra: each cluster's jobs run under a uid of their own. */
    private readonly jobUsers?: JobUsers,
  ) {}

  configured() {
    return { enabled: true } as const;
  }

  async check(): Promise<InfraStatus[]> {
    const reason = this.refusal();
    if (reason) return [{ infra: 'local', enabled: false, reason }];
    const m = await this.offer();
    // Which local clusters live here is the cluster list's to say (server/infra/inventory.ts).
    const node = { name: os.hostname(), address: '127.0.0.1', cpus: m.cpus, memoryGiB: m.memoryGiB, diskFreeGB: m.diskFreeGB, accelerators: m.accelerators, state: 'up', usable: true, clusters: [] };
    return [{ infra: 'local', enabled: true, nodes: [node] }];
  }

  /** The machine as one node: its CPUs, memory and accelerators, and the disk free where sandboxes live. */
  private async offer() {
    return { ...(await machineResources()), diskFreeGB: await freeDiskGB(this.dataDir) };
  }

  /** One candidate; the machine is looked at once per plan, whose other candidates share `survey`. */
  async candidates(ask: ResourceAsk, survey = new PlanSurvey()) {
    const refuse = (reason: string) => ({ placements: [], refusals: [{ infra: ask.infra ?? 'local', reason }] });
    const off = survey.look('local refusal', () => this.refusal());
    if (off) return refuse(off);
    const m = await survey.look('local machine', () => this.offer());
    if (ask.infra !== undefined && ask.infra !== 'local') return refuse(`local infra has no region or pool; use infra: local`);
    const image = ask.imageId !== undefined && isContainerImage(ask.imageId) ? ask.imageId : undefined;
    // Refused here, before a sandbox exists, rather than by the job start that would follow provisioning.
    // In a container they go where the task says.
    const targets = image ? [] : (ask.mountTargets ?? []);
    const badMount = targets.length > 0 && survey.look(`local mounts ${targets.join('\0')}`, () => this.mountRefusal(targets));
    if (badMount) return { placements: [], refusals: [badMount] };
    if (ask.numNodes > 1) return refuse(`the task asks for ${ask.numNodes} nodes; local infra has 1 node (this machine)`);
    const disk = diskVerdict(ask, 'local', [m], 'machine');
    if (disk) return { placements: [], refusals: [disk] };
    const busy = ask.ports?.length ? portsInUse(ask.ports, await survey.look('local listening ports', localListeningPorts)) : [];
    if (busy.length > 0) return { placements: [], refusals: [{ infra: 'local', key: 'ports', reason: `ports: ${busy.join(', ')} ${busy.length === 1 ? 'is' : 'are'} in use on this machine (a process listens on ${busy.length === 1 ? 'it' : 'them'})` }] };
    if (shortfall(ask, m)) {
      const note = ask.accelerators && !m.accelerators ? ` (${m.acceleratorNote})` : '';
      return refuse(`the task asks for ${describeNodeAsk(ask)}; this machine has ${describeOffer(m)}${note}`);
    }
    if (image) {
      const parsed = parseContainerImage(image);
      // Jobs under uids of their own must not reach the engine: its socket is root on this machine.
      const isolated = this.jobUsers ? "this team server runs local jobs under uids of their own, and the Docker engine's socket would give them root on this machine" : undefined;
      const problem = 'problem' in parsed ? parsed.problem : (isolated ?? (await this.runtimes.problem(localShell)));
      if (problem) return { placements: [], refusals: [{ infra: 'local', key: 'image_id', reason: `image_id ${image}: ${problem}` }] };
    }
    return { placements: [{ ...placementOn('local', [m], 1, 0), hosts: [os.hostname()] }], refusals: [] };
  }

  /** The refusal of the first file mount target outside a sandbox, if any. */
  private mountRefusal(targets: readonly string[]): Refusal | undefined {
    for (const remote of targets) {
      try {
        mountTarget(this.sandbox('cluster'), remote);
      } catch (err) {
        return { infra: 'local', key: `file_mounts.${remote}`, reason: (err as Error).message };
      }
    }
    return undefined;
  }

  async close(): Promise<void> {}

  private sandbox(clusterName: string): string {
    return path.join(this.jobUsers?.isolation.sandboxes ?? path.join(this.dataDir, 'clusters'), clusterName);
  }

  /** Who a sandbox's jobs run as (undefined: the server's own user) and how its files are written. */
  private ownerOf(sandbox: string): { uid?: number; files: SandboxFiles } {
    if (!this.jobUsers) return { files: serverUserFiles };
    const uid = this.jobUsers.uidOf(sandbox);
    if (uid === undefined) throw fail.job_start_failed(`the sandbox ${sandbox} has no job uid of its own (made before jobs were isolated?): tear the cluster down and launch it again`);
    return { uid, files: this.jobUsers.files(uid) };
  }

  /** The command line that starts `argv` in a sandbox, as its uid when jobs are isolated. */
  private command(uid: number | undefined, argv: string[]): [string, string[]] {
    return uid === undefined ? [argv[0]!, argv.slice(1)] : asUid(uid, argv);
  }

  async provision(cluster: ClusterRecord<LocalClusterHandle>, placement: Placement, log: LogWriter, _signal?: AbortSignal, secrets?: ProvisionSecrets): Promise<Provisioned<LocalClusterHandle>> {
    const dir = this.sandbox(cluster.name);
    if (this.jobUsers) this.jobUsers.claim(dir);
    else await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.ownerOf(dir).files.mkdir([path.join(dir, 'jobs')]);
    log.line(`Local sandbox for cluster ${cluster.name}: ${dir}`);
    const container = cluster.resources.imageId === undefined ? undefined : await this.startContainer(cluster.name, cluster.resources.imageId, dir, log, secrets);
    const resources: Resources = {
      infra: 'local',
      cpus: String(placement.cpus),
      memory: String(placement.memoryGiB),
      accelerators: placement.accelerators ? `${placement.accelerators.name}:${placement.accelerators.count}` : undefined,
      imageId: cluster.resources.imageId,
    };
    return { nodes: [{ rank: 0, ip: '127.0.0.1', host: os.hostname() }], resources, handle: { sandbox: dir, container } };
  }

  private async startContainer(cluster: string, imageId: string, sandbox: string, log: LogWriter, secrets?: ProvisionSecrets): Promise<ContainerHandle> {
    const parsed = parseContainerImage(imageId);
    if ('problem' in parsed) throw fail.image_unavailable(`image_id ${imageId}: ${parsed.problem}`);
    log.line(`Starting the cluster's container (${imageId})...`);
    return startContainer(localShell, { imageId, image: parsed.image, login: secrets?.registryLogin, cluster, name: containerName(cluster, sandbox), dir: sandbox }, log);
  }

  async runJob(cluster: ClusterRecord<LocalClusterHandle>, spec: JobSpec, ctx: JobContext): Promise<RunningJob<LocalJobHandle>> {
    const off = this.refusal();
    if (off) throw fail.resources_unavailable(off);
    const sandbox = this.sandbox(cluster.name);
    const jobDir = path.join(sandbox, 'jobs', String(spec.jobId));
    const workdir = path.join(sandbox, 'workdir');
    const container = cluster.handle?.container;
    // In a container a mount goes where the task says (the container is the cluster's own machine), copied in below.
    const mounts = container ? [] : Object.entries(spec.fileMounts ?? {}).map(([remote, local]) => [mountTarget(sandbox, remote), local, remote] as const);
    const { uid, files } = this.ownerOf(sandbox);
    const env = jobEnvironment(uid, sandbox);
    await files.mkdir([jobDir, workdir, ...(uid === undefined ? [] : [env.HOME!, env.TMPDIR!])]);
    if (spec.workdir) await syncInto(files, spec.workdir, workdir, 'workdir');
    for (const [target, local, remote] of mounts) await syncInto(files, local, target, `file_mounts.${remote}`);
    if (container) for (const [remote, local] of Object.entries(spec.fileMounts ?? {})) await copyIntoContainer(container, local, remote);

    const envFor = (phase: 'setup' | 'run') => ({
      ...spec.envs,
      ...skypilotEnv({ cluster, nodes: cluster.nodes, rank: 0, gpusPerNode: spec.gpusPerNode, taskId: spec.taskId, phase }),
    });
    if (spec.setup) await files.write(path.join(jobDir, 'setup.sh'), `${exportLines(envFor('setup'))}\n${spec.setup}\n`);
    if (spec.run) await files.write(path.join(jobDir, 'run.sh'), `${exportLines(envFor('run'))}\n${spec.run}\n`);
    await files.write(path.join(jobDir, 'job.sh'), wrapperScript(jobDir, container && { name: container.name, workdir }));

    // The job writes to its log through its own file descriptor, so output keeps flowing while the
    // server is down; the server only reads the file.
    const out = openSync(ctx.logPath, 'a');
    let child;
    try {
      const [file, args] = this.command(uid, ['bash', path.join(jobDir, 'job.sh')]);
      child = spawn(file, args, { cwd: workdir, detached: true, stdio: ['ignore', out, out], env });
    } finally {
      closeSync(out);
    }
    if (child.pid === undefined) throw fail.job_start_failed(`could not start bash for job ${spec.jobId}`);
    child.unref();
    const handle: LocalJobHandle = { pid: child.pid, startTime: processStartTime(child.pid), jobDir };
    return { handle, outcome: this.watchOutcome(handle, ctx, child) };
  }

  async recoverJob(cluster: ClusterRecord<LocalClusterHandle>, spec: JobSpec): Promise<LocalJobHandle | undefined> {
    const jobDir = path.join(this.sandbox(cluster.name), 'jobs', String(spec.jobId));
    const script = path.join(jobDir, 'job.sh');
    if (!existsSync(script)) return undefined;
    // The wrapper writes its pid first thing; a server killed in the instant before finds it by its command line.
    const pid = [readPid(jobDir), ...processesRunning(script)].find((p) => p !== undefined && commandLine(p).includes(script));
    if (pid !== undefined) return { pid, startTime: processStartTime(pid), jobDir };
    if (readExit(jobDir)) return { pid: 0, jobDir };
    return undefined;
  }

  async resumeJob(_cluster: ClusterRecord<LocalClusterHandle>, _spec: JobSpec, handle: LocalJobHandle, ctx: JobContext): Promise<RunningJob<LocalJobHandle>> {
    return { handle, outcome: this.watchOutcome(handle, ctx) };
  }

  async cancelJob(cluster: ClusterRecord<LocalClusterHandle>, handle: LocalJobHandle): Promise<void> {
    this.cancelled.add(handle.pid);
    const container = cluster.handle?.container;
    // The phase's processes run under the container's init, not under the job's `docker exec`.
    const inContainer = container && localShell.run(killInContainerCommand(shellQuote(container.name), PHASE_PID_FILES.map((f) => shellQuote(path.join(handle.jobDir, f)))));
    await Promise.all([killJobTree(handle.pid), inContainer]);
  }

  async teardown(cluster: ClusterRecord<LocalClusterHandle>, log: LogWriter): Promise<void> {
    const sandbox = this.sandbox(cluster.name);
    if (existsSync(path.join(sandbox, 'container'))) {
      await localShell.run(removeContainerCommand(shellQuote(sandbox)));
      log.line(`Removed the container of ${cluster.name}.`);
    }
    // Nothing of an isolated cluster outlives it, not even what its jobs moved to sessions of their own.
    const uid = this.jobUsers?.uidOf(sandbox);
    if (uid !== undefined) await this.jobUsers!.killAll(uid);
    await rm(sandbox, { recursive: true, force: true });
    log.line(`Removed local sandbox of ${cluster.name}.`);
  }

  async openShell(cluster: ClusterRecord<LocalClusterHandle>, _rank: number, request: ShellRequest<LocalJobHandle>, events: ShellEvents): Promise<NodeShell> {
    const sandbox = this.sandbox(cluster.name);
    const workdir = path.join(sandbox, 'workdir');
    const { uid, files } = this.ownerOf(sandbox);
    await files.mkdir([workdir]);
    const container = cluster.handle?.container;
    if (container) {
      const exec = [...shellExecArgs(container.name, workdir, request.env, request.tty !== undefined), 'bash', ...(request.command === undefined ? ['-l'] : ['-lc', request.command])];
      return spawnProcessShell({ file: 'docker', args: exec, cwd: workdir, env: jobEnvironment(undefined, sandbox), tty: request.tty, host: container.name }, events);
    }
    const [file, args] = this.command(uid, ['bash', ...(request.command === undefined ? ['-l'] : ['-lc', request.command])]);
    return spawnProcessShell({ file, args, cwd: workdir, env: { ...jobEnvironment(uid, sandbox), ...request.env }, tty: request.tty, host: os.hostname() }, events);
  }

  private ownerOfJob(jobDir: string) {
    return this.ownerOf(path.dirname(path.dirname(jobDir)));
  }

  /** Follows a job to its end through the files its wrapper writes, whether or not this process started it. */
  private watchOutcome(h: LocalJobHandle, ctx: JobContext, child?: ReturnType<typeof spawn>): Promise<JobOutcome> {
    return new Promise((resolve) => {
      let announcedRunning = false;
      let watcher: FSWatcher | undefined;
      const finish = (outcome: JobOutcome) => {
        watcher?.close();
        clearInterval(timer);
        // A cancelled or killed wrapper never reached its own cleanup: the secrets go now.
        const scripts = ['setup.sh', 'run.sh'].map((s) => path.join(h.jobDir, s));
        if (this.jobUsers) void this.ownerOfJob(h.jobDir).files.remove(scripts).catch(() => undefined);
        else for (const script of scripts) rmSync(script, { force: true });
        this.cancelled.delete(h.pid);
        resolve(outcome);
      };
      const check = () => {
        if (!announcedRunning && existsSync(path.join(h.jobDir, 'running'))) {
          announcedRunning = true;
          ctx.onRunning();
        }
        const reported = readExit(h.jobDir);
        if (this.cancelled.has(h.pid) && !isRunning(h.pid, h.startTime)) return finish({ status: 'CANCELLED', exitCode: reported?.code });
        if (reported) {
          if (reported.code === 0) return finish({ status: 'SUCCEEDED', exitCode: 0 });
          return finish({ status: 'FAILED', exitCode: reported.code, phase: reported.phase === 'setup' ? 'setup' : 'run', reason: `${reported.phase} exited with code ${reported.code}` });
        }
        if (!isRunning(h.pid, h.startTime)) {
          // The exit file is written just before the wrapper exits; look once more to close that race.
          const late = readExit(h.jobDir);
          if (late) return check();
          finish({ status: 'FAILED', reason: 'the job process ended without reporting an exit code (killed from outside SkyDeck?)' });
        }
      };
      try {
        watcher = watch(h.jobDir, () => check());
        watcher.on('error', () => undefined);
      } catch {
        // the directory is gone: the polling check below reports the job as vanished
      }
      const timer = setInterval(check, POLL_MS);
      child?.on('exit', () => setImmediate(check));
      check();
    });
  }
}

/** The job's wrapper: on this machine, and with `container` each phase runs in the cluster's container. */
function wrapperScript(jobDir: string, container?: { name: string; workdir: string }): string {
  const dir = shellQuote(jobDir);
  const phase = (name: 'setup' | 'run') =>
    container
      ? execPhaseCommand({ container: container.name, workdirExpr: shellQuote(container.workdir), scriptExpr: `${dir}/${name}.sh`, pidFileExpr: `${dir}/${name}.cpid` })
      : `bash ${dir}/${name}.sh`;
  // The scripts hold the task's envs and secrets: removed once the job is over (bash has them open).
  return `#!/bin/bash
umask 022
echo $$ > ${dir}/pid
finish() { rm -f ${dir}/setup.sh ${dir}/run.sh; printf '%s %s\\n' "$1" "$2" > ${dir}/exit.tmp && mv ${dir}/exit.tmp ${dir}/exit; exit "$2"; }
if [ -f ${dir}/setup.sh ]; then
  ${phase('setup')}
  rc=$?
  [ "$rc" -eq 0 ] || finish setup "$rc"
fi
: > ${dir}/running
if [ -f ${dir}/run.sh ]; then
  ${phase('run')}
  finish run $?
fi
finish run 0
`;
}

function readPid(jobDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(jobDir, 'pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Pids of live processes whose command line names `script`. */
function processesRunning(script: string): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && commandLine(pid).includes(script) && isRunning(pid));
}

function readExit(jobDir: string): { phase: string; code: number } | undefined {
  try {
    // The job's uid owns this file: only the two shapes the wrapper writes count.
    const m = /^(setup|run) (\d+)$/.exec(readFileSync(path.join(jobDir, 'exit'), 'utf8').trim());
    return m ? { phase: m[1]!, code: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The server's environment minus SkyDeck's own settings and credentials, which jobs must not see. A job
 * under its own uid gets a home and a temp dir in its sandbox (`~/` file mounts land in that home).
 */
function jobEnvironment(uid?: number, sandbox?: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYDECK_')));
  if (uid === undefined || sandbox === undefined) return env;
  delete env.USER;
  delete env.LOGNAME;
  return { ...env, HOME: path.join(sandbox, 'mounts'), TMPDIR: path.join(sandbox, 'tmp') };
}

/** Where a file mount's remote path lands on local infra: inside the sandbox, never elsewhere on the machine. */
function mountTarget(sandbox: string, remote: string): string {
  const relative = remote.replace(/^~\/?/, '');
  const target = path.resolve(sandbox, 'mounts', relative);
  if (path.isAbsolute(remote) || !target.startsWith(path.join(sandbox, 'mounts') + path.sep)) {
    throw fail.task_invalid(`file_mounts.${remote}: local infra mounts only under the cluster sandbox; use a relative or ~/ path`);
  }
  return target;
}

async function copyIntoContainer(container: ContainerHandle, source: string, remote: string): Promise<void> {
  const key = `file_mounts.${remote}`;
  const isDir = isSourceDirectory(source, key);
  const r = await localShell.run(copyIntoCommand(container.name, shellQuote(source), isDir, containerPath(remote, container.home)));
  if (r.code !== 0) throw fail.infra_failed(`${key}: copying ${source} into container ${container.name} failed: ${r.stderr.trim()}`);
}

async function syncInto(files: SandboxFiles, source: string, target: string, key: string): Promise<void> {
  await files.copyInto(source, target, isSourceDirectory(source, key));
}

/** A workdir or mount source must be an existing absolute path on the server's machine; says whether it is a folder. */
function isSourceDirectory(source: string, key: string): boolean {
  if (!path.isAbsolute(source)) throw fail.task_invalid(`${key}: ${source} must be an absolute path on the server's machine`);
  try {
    return statSync(source).isDirectory();
  } catch {
    throw fail.task_invalid(`${key}: ${source} does not exist on the server's machine`);
  }
}
