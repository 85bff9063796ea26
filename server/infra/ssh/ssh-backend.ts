// `ssh/<pool>`: clusters made of hosts from the SSH node pools in SKYDECK_HOME/ssh_node_pools.yaml.
// A cluster takes num_nodes free hosts of its pool; each job runs setup and run on every one of them,
// detached (setsid) so it outlives the server, and is followed over SSH into the job log.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as z from 'zod';
import type { ClusterNode } from '../../../protocol/model';
import { fail } from '../../errors';
import type { LogWriter } from '../../logs/log-writer';
import {
  skypilotEnv,
  unsupported,
  type BackendCapabilities,
  type ClusterRecord,
  type InfraBackend,
  type InfraNode,
  type InfraStatus,
  type JobContext,
  type JobSpec,
  type Placement,
  type Provisioned,
  type ProvisionSecrets,
  type Refusal,
  type ResourceAsk,
  type RunningJob,
} from '../backend';
import { describeAsk, diskVerdict, fixedNodeCapabilities, nodeShortOf, placementOn, shortfall, tooFewNodes, type FixedNodes } from '../fit';
import { containerHandle, containerName, containerPath, copyIntoCommand, RuntimeProbes, shellExecArgs, startContainer, type ContainerHandle, type NodeShellRunner } from '../container/docker';
import { isContainerImage, parseContainerImage } from '../container/image';
import { describeTarget, SshConnections, type SshTarget } from './connection';
import { HostAllocations } from './host-allocations';
import { HostKeys } from './host-keys';
import { HostResourceCache, type HostResources } from './host-resources';
import { nodeName, SshJobFollower, type NodeJobRef } from './job-follower';
import { LISTENING_PORTS_COMMAND, parseListeningPorts, portsInUse } from '../listening-ports';
import { PlanSurvey } from '../plan-survey';
import { StreamOffsets } from '../node-output';
import { loadPools, poolsPath, type NodePool, type PoolHost } from './pool-config';
import { findCommand, killCommand, nodeDirExpr, startScript, teardownCommand } from './remote-job';
import { remotePathExpr, shellQuote } from '../shell';
import { openSshShell, shellCommand } from '../../terminal/ssh-shell';
import type { NodeShell, ShellEvents, ShellRequest } from '../../terminal/node-shell';

/** After local processes, before a Slurm queue: the hosts are ours and start at once. */
const SSH_COST = 1;

const sshTarget = z.object({ name: z.string(), ip: z.string(), port: z.number().int(), user: z.string(), identityFile: z.string() }) satisfies z.ZodType<SshTarget>;

/** What a cluster record keeps about its hosts (cluster.handle); hosts in rank order, the head first. */
const sshClusterHandle = z.object({
  pool: z.string(),
  hosts: z.array(sshTarget).min(1),
  /** With an image: each host's container, in rank order. */
  containers: z.array(containerHandle).optional(),
});
export type SshClusterHandle = z.infer<typeof sshClusterHandle>;

/** What a job's record keeps (RunningJob.handle): enough to find the job again after a restart. */
const sshJobHandle = z.object({
  cluster: z.string(),
  jobId: z.number().int(),
  nodes: z.array(z.object({ rank: z.number().int(), target: sshTarget, jobDir: z.string(), pgid: z.number().int() }) satisfies z.ZodType<NodeJobRef & { pgid: number }>),
});
export type SshJobHandle = z.infer<typeof sshJobHandle>;

const FIXED_HOSTS: FixedNodes = { are: 'an SSH node pool is a set of fixed hosts', one: false, nameInstead: 'the pool: infra: ssh/<pool>' };

export class SshBackend implements InfraBackend<SshClusterHandle, SshJobHandle> {
  readonly kind = 'ssh';
  readonly handles = { cluster: sshClusterHandle, job: sshJobHandle };
  readonly capabilities: BackendCapabilities<SshClusterHandle> = fixedNodeCapabilities(FIXED_HOSTS, {
    stopStart: unsupported('hosts of an SSH node pool cannot be stopped or started by SkyDeck; use down to release them'),
    ports: true,
    // On hosts whose login can run `docker`; candidates() names the hosts that cannot.
    containerImages: true,
  });
  private readonly connections: SshConnections;
  private readonly resources: HostResourceCache;
  private readonly allocations: HostAllocations;
  private readonly runtimes = new RuntimeProbes();

  constructor(
    private readonly home: string,
    private readonly dataDir: string,
  ) {
    this.connections = new SshConnections(new HostKeys(dataDir));
    this.resources = new HostResourceCache(this.connections);
    this.allocations = new HostAllocations(dataDir);
  }

  /** The pools as configured now: the file is read on every use so edits apply without a restart. */
  private pools(): NodePool[] {
    try {
      return loadPools(this.home);
    } catch (err) {
      throw fail.ssh_config_invalid(`${poolsPath(this.home)} is not usable:\n${(err as Error).message}`);
    }
  }

  private pool(name: string): NodePool {
    const pools = this.pools();
    const pool = pools.find((p) => p.name === name);
    if (!pool) throw fail.ssh_pool_unknown(`no SSH node pool named '${name}' in ${poolsPath(this.home)} (pools: ${pools.map((p) => p.name).join(', ') || 'none'})`);
    return pool;
  }

  configured() {
    const file = poolsPath(this.home);
    // A file that exists but is broken still turns SSH on: check() then says what is wrong with it.
    if (existsSync(file)) return { enabled: true } as const;
    return { enabled: false, reason: `${file} does not exist`, hint: `define node pools in ${file} (see docs/infra.md)` } as const;
  }

  async check(): Promise<InfraStatus[]> {
    let pools: NodePool[];
    try {
      pools = this.pools();
    } catch (err) {
      return [{ infra: 'ssh', enabled: false, reason: (err as Error).message }];
    }
    return Promise.all(
      pools.map(async (pool): Promise<InfraStatus> => {
        const probes = await this.probe(pool);
        const nodes = probes.map((p): InfraNode => {
          const holder = this.allocations.holder(pool.name, p.host.name);
          const clusters = holder === undefined ? [] : [holder];
          if (!p.offer) return { name: p.host.name, address: p.host.ip, state: 'unreachable', usable: false, error: p.error, clusters };
          return { name: p.host.name, address: p.host.ip, ...p.offer, state: 'up', usable: holder === undefined, clusters };
        });
        const down = probes.filter((p) => p.error);
        const infra = `ssh/${pool.name}`;
        if (down.length === probes.length) return { infra, enabled: false, reason: `no host reachable: ${down.map((d) => d.error).join('; ')}`, nodes };
        const reason = down.length > 0 ? `${probes.length - down.length} of ${probes.length} hosts reachable; ${down.map((d) => d.error).join('; ')}` : undefined;
        return { infra, enabled: true, reason, nodes };
      }),
    );
  }

  private probe(pool: NodePool): Promise<{ host: PoolHost; offer?: HostResources; error?: string }[]> {
    return Promise.all(
      pool.hosts.map((host) =>
        this.resources.get(host).then(
          (offer) => ({ host, offer }),
          (err: Error) => ({ host, error: `${host.name}: ${err.message}` }),
        ),
      ),
    );
  }

  async candidates(ask: ResourceAsk, survey?: PlanSurvey): Promise<{ placements: Placement[]; refusals: Refusal[] }> {
    const wanted = ask.infra?.split('/')[1];
    let pools: NodePool[];
    try {
      pools = wanted === undefined ? this.pools() : [this.pool(wanted)];
    } catch (err) {
      return { placements: [], refusals: [{ infra: ask.infra ?? 'ssh', reason: (err as Error).message }] };
    }
    const placements: Placement[] = [];
    const refusals: Refusal[] = [];
    const image = ask.imageId !== undefined && isContainerImage(ask.imageId) ? parseContainerImage(ask.imageId) : undefined;
    for (const pool of pools) {
      const infra = `ssh/${pool.name}`;
      if (image && 'problem' in image) {
        refusals.push({ infra, key: 'image_id', reason: `image_id ${ask.imageId}: ${image.problem}` });
        continue;
      }
      const { fit, unfit, reachable } = await this.freeHostsFor(pool, ask, undefined, survey);
      const noRuntime = unfit.filter((why) => why.startsWith('no container runtime on host '));
      const disk = diskVerdict(ask, infra, reachable, 'host');
      if (disk) refusals.push(disk);
      else if (noRuntime.length === pool.hosts.length) refusals.push({ infra, key: 'image_id', reason: `image_id ${ask.imageId}: ${noRuntime.join('; ')}` });
      else if (fit.length >= ask.numNodes) {
        const chosen = fit.slice(0, ask.numNodes);
        placements.push({ ...placementOn(infra, chosen.map((f) => f.offer), ask.numNodes, SSH_COST), hosts: chosen.map((f) => f.host.name) });
      } else {
        refusals.push({ infra, reason: tooFewNodes(ask, `pool ${pool.name}`, fit.length, 'host', unfit) });
      }
    }
    return { placements, refusals };
  }

  /** Free hosts of the pool that can serve one node of the ask, and why the others cannot. */
  private async freeHostsFor(pool: NodePool, ask: ResourceAsk, cluster?: string, survey?: PlanSurvey): Promise<{ fit: { host: PoolHost; offer: HostResources }[]; unfit: string[]; reachable: HostResources[] }> {
    const fit: { host: PoolHost; offer: HostResources }[] = [];
    const unfit: string[] = [];
    const probes = await this.probe(pool);
    const reachable = probes.flatMap((p) => (p.offer ? [p.offer] : []));
    for (const p of probes) {
      const holder = this.allocations.holder(pool.name, p.host.name);
      if (holder !== undefined && holder !== cluster) unfit.push(`${p.host.name} is taken by cluster ${holder}`);
      else if (p.error || !p.offer) unfit.push(`${p.error ?? p.host.name} (unreachable)`);
      else {
        const short = shortfall(ask, p.offer);
        const busy = short ? [] : await this.portsInUseOn(p.host, ask.ports, survey);
        const noRuntime = !short && ask.imageId !== undefined && isContainerImage(ask.imageId) ? await this.runtimes.problem(this.hostShell(p.host), `${p.host.user}@${p.host.ip}:${p.host.port}`) : undefined;
        if (short) unfit.push(nodeShortOf(p.host.name, p.offer, short));
        else if (busy.length > 0) unfit.push(`${p.host.name} has port${busy.length === 1 ? '' : 's'} ${busy.join(', ')} in use (a process listens on ${busy.length === 1 ? 'it' : 'them'})`);
        else if (noRuntime) unfit.push(noRuntime);
        else fit.push({ host: p.host, offer: p.offer });
      }
    }
    return { fit, unfit, reachable };
  }

  /** The asked ports something already listens on on the host (asked afresh by each plan, once for all its candidates: ports come and go). */
  private async portsInUseOn(host: PoolHost, ports: number[] | undefined, survey = new PlanSurvey()): Promise<number[]> {
    if (!ports || ports.length === 0) return [];
    const read = async () => parseListeningPorts(await this.connections.run(host, LISTENING_PORTS_COMMAND));
    return portsInUse(ports, await survey.look(`ssh listening ports ${host.user}@${host.ip}:${host.port}`, read));
  }

  /** The host's shell, where its docker CLI runs. */
  private hostShell(target: SshTarget): NodeShellRunner {
    return { where: `host ${target.name}`, run: (command, stdin) => this.connections.exec(target, command, stdin) };
  }

  async provision(cluster: ClusterRecord<SshClusterHandle>, placement: Placement, log: LogWriter, signal: AbortSignal, secrets?: ProvisionSecrets): Promise<Provisioned<SshClusterHandle>> {
    const poolName = placement.infra.split('/')[1] ?? '';
    const pool = this.pool(poolName);
    let hosts: SshTarget[];
    const previous = cluster.handle;
    if (previous && previous.pool === pool.name) {
      hosts = previous.hosts;
      this.allocations.take(pool.name, hosts.map((h) => h.name), cluster.name);
      log.line(`Reusing ${hosts.length} host${hosts.length === 1 ? '' : 's'} of pool ${pool.name}: ${hosts.map((h) => h.name).join(', ')}`);
    } else {
      const ask: ResourceAsk = { numNodes: placement.numNodes, cpus: { count: placement.cpus, orMore: true }, memoryGiB: { count: placement.memoryGiB, orMore: true }, accelerators: placement.accelerators };
      const { fit, unfit } = await this.freeHostsFor(pool, ask, cluster.name);
      if (fit.length < placement.numNodes) {
        throw fail.resources_unavailable(`pool ${pool.name} has ${fit.length} free host(s) for ${describeAsk(ask)}, ${placement.numNodes} needed; ${unfit.join('; ')}`);
      }
      hosts = fit.slice(0, placement.numNodes).map((f) => f.host);
      this.allocations.take(pool.name, hosts.map((h) => h.name), cluster.name);
      log.line(`Taking ${hosts.length} host${hosts.length === 1 ? '' : 's'} of pool ${pool.name}: ${hosts.map((h) => h.name).join(', ')}`);
    }
    const imageId = cluster.resources.imageId;
    const image = imageId === undefined ? undefined : parseContainerImage(imageId);
    if (image && 'problem' in image) throw fail.image_unavailable(`image_id ${imageId}: ${image.problem}`);
    let containers: (ContainerHandle | undefined)[];
    try {
      containers = await Promise.all(
        hosts.map(async (host, rank) => {
          signal.throwIfAborted();
          // SkyDeck's folders on the node are the node user's alone, also ones an earlier version made.
          const node = nodeDirExpr(cluster.name, rank);
          const dir = (await this.connections.run(host, `mkdir -p ${node}/workdir && chmod 700 "$HOME/.skydeck" "$HOME/.skydeck/clusters" "$(dirname ${node})" ${node} && cd ${node} && pwd`)).trim();
          // One engine may serve several hosts (and clusters of other servers): the name tells them apart.
          const name = containerName(cluster.name, `${host.user}@${host.ip}:${host.port}:${dir}`);
          const container = image ? await startContainer(this.hostShell(host), { imageId: imageId!, image: image.image, login: secrets?.registryLogin, cluster: cluster.name, name, dir }, log) : undefined;
          log.line(`  ${nodeName({ rank, target: host })}: ready (${describeTarget(host)})${container ? ` in container ${container.name}` : ''}`);
          return container;
        }),
      );
      signal.throwIfAborted();
    } catch (err) {
      if (!previous) this.allocations.release(cluster.name);
      throw err;
    }
    const offers = await Promise.all(hosts.map((h) => this.resources.get(h)));
    const shown = placementOn(placement.infra, offers, hosts.length, SSH_COST);
    const handle: SshClusterHandle = { pool: pool.name, hosts, containers: image ? containers.map((c) => c!) : undefined };
    return {
      nodes: hosts.map((h, rank) => ({ rank, ip: h.ip, host: h.name })),
      resources: {
        infra: placement.infra,
        cpus: String(shown.cpus),
        memory: String(shown.memoryGiB),
        accelerators: shown.accelerators && `${shown.accelerators.name}:${shown.accelerators.count}`,
        imageId,
      },
      handle,
    };
  }

  async runJob(cluster: ClusterRecord<SshClusterHandle>, spec: JobSpec, ctx: JobContext): Promise<RunningJob<SshJobHandle>> {
    const { hosts: allHosts, containers } = clusterHandle(cluster);
    const hosts = allHosts.slice(0, spec.numNodes);
    const nodes: ClusterNode[] = hosts.map((h, rank) => ({ rank, ip: h.ip, host: h.name }));
    if (spec.workdir) ctx.log.line(`Syncing workdir ${spec.workdir} to ${hosts.length} node${hosts.length === 1 ? '' : 's'}...`);
    const started: SshJobHandle['nodes'] = [];
    try {
      await Promise.all(
        hosts.map(async (target, rank) => {
          if (spec.workdir) await this.upload(target, spec.workdir, `${nodeDirExpr(cluster.name, rank)}/workdir`);
          const container = containers?.[rank];
          for (const [remote, local] of Object.entries(spec.fileMounts ?? {})) {
            await this.upload(target, local, remotePathExpr(remote));
            // In a container the mount is where the task says there, copied from where it landed on the host.
            if (container) await this.connections.run(target, copyIntoCommand(container.name, remotePathExpr(remote), statSync(local).isDirectory(), containerPath(remote, container.home)));
          }
          const env = (phase: 'setup' | 'run') => ({ ...spec.envs, ...skypilotEnv({ cluster, nodes, rank, gpusPerNode: spec.gpusPerNode, taskId: spec.taskId, phase }) });
          const script = startScript({ cluster: cluster.name, rank, jobId: spec.jobId, setup: spec.setup, run: spec.run, setupEnv: env('setup'), runEnv: env('run'), container: container?.name });
          const out = (await this.connections.run(target, 'bash -s', script)).trim().split('\n').pop() ?? '';
          const m = /^(\/.*) (\d+)$/.exec(out);
          if (!m) throw fail.job_start_failed(`on ${describeTarget(target)}: the job did not start (${JSON.stringify(out)})`);
          started.push({ rank, target, jobDir: m[1]!, pgid: Number(m[2]) });
        }),
      );
    } catch (err) {
      await Promise.allSettled(started.map((n) => this.connections.run(n.target, killCommand(n.jobDir, 'abort'))));
      throw err;
    }
    started.sort((a, b) => a.rank - b.rank);
    const handle: SshJobHandle = { cluster: cluster.name, jobId: spec.jobId, nodes: started };
    // A job id used before (the cluster was torn down and launched again) starts its output afresh.
    rmSync(this.offsetsFile(cluster.name, spec.jobId), { force: true });
    return { handle, outcome: this.follow(handle, ctx) };
  }

  async recoverJob(cluster: ClusterRecord<SshClusterHandle>, spec: JobSpec): Promise<SshJobHandle | undefined> {
    const hosts = clusterHandle(cluster).hosts.slice(0, spec.numNodes);
    const found = await Promise.all(
      hosts.map(async (target, rank) => {
        const m = /^(\/.*) (\d+)$/.exec((await this.connections.run(target, findCommand(cluster.name, rank, spec.jobId))).trim());
        return m ? { rank, target, jobDir: m[1]!, pgid: Number(m[2]) } : undefined;
      }),
    );
    const started = found.filter((n) => n !== undefined);
    if (started.length === hosts.length) return { cluster: cluster.name, jobId: spec.jobId, nodes: started };
    // Started on some nodes only: the job cannot run as asked, and what did start must not run on untracked.
    await Promise.allSettled(started.map((n) => this.connections.run(n.target, killCommand(n.jobDir, 'abort'))));
    return undefined;
  }

  async resumeJob(_cluster: ClusterRecord<SshClusterHandle>, _spec: JobSpec, h: SshJobHandle, ctx: JobContext): Promise<RunningJob<SshJobHandle>> {
    ctx.log.line(`[skydeck] reattached to the job on ${h.nodes.length} node${h.nodes.length === 1 ? '' : 's'}`);
    return { handle: h, outcome: this.follow(h, ctx) };
  }

  private follow(h: SshJobHandle, ctx: JobContext) {
    const offsets = new StreamOffsets(this.offsetsFile(h.cluster, h.jobId), h.nodes.length);
    return new SshJobFollower({ nodes: h.nodes, log: ctx.log, connections: this.connections, offsets, onRunning: () => ctx.onRunning() }).follow();
  }

  private offsetsFile(cluster: string, jobId: number): string {
    return join(this.dataDir, 'ssh', 'jobs', cluster, `${jobId}.offsets.json`);
  }

  async cancelJob(_cluster: ClusterRecord<SshClusterHandle>, h: SshJobHandle): Promise<void> {
    const results = await Promise.allSettled(h.nodes.map((n) => this.connections.run(n.target, killCommand(n.jobDir, 'cancelled'))));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${nodeName(h.nodes[i]!)}: ${(r.reason as Error).message}`] : []));
    if (failed.length > 0) throw fail.infra_failed(`could not stop the job everywhere; processes may still run on ${failed.join('; ')}`);
  }

  async teardown(cluster: ClusterRecord<SshClusterHandle>, log: LogWriter): Promise<void> {
    const h = cluster.handle;
    if (h) {
      await Promise.all(
        h.hosts.map(async (target, rank) => {
          try {
            await this.connections.run(target, teardownCommand(cluster.name, rank));
            log.line(`  ${nodeName({ rank, target })}: cleaned up`);
          } catch (err) {
            log.line(`  ${nodeName({ rank, target })}: could not clean up (${(err as Error).message}); releasing it anyway`);
          }
        }),
      );
    }
    // Also when the cluster never got its hosts recorded (a server that died while provisioning).
    this.allocations.release(cluster.name);
    rmSync(join(this.dataDir, 'ssh', 'jobs', cluster.name), { recursive: true, force: true });
  }

  /** Copies a local file or directory to a path on the node (tar over the SSH channel). */
  async openShell(cluster: ClusterRecord<SshClusterHandle>, rank: number, request: ShellRequest<SshJobHandle>, events: ShellEvents): Promise<NodeShell> {
    const target = clusterHandle(cluster).hosts[rank];
    if (!target) throw new Error(`cluster ${cluster.name} has no node ${rank}`);
    const client = await this.connections.get(target);
    const container = clusterHandle(cluster).containers?.[rank];
    if (container) {
      const workdir = (await this.connections.run(target, `cd ${nodeDirExpr(cluster.name, rank)}/workdir && pwd`)).trim();
      const start = request.command === undefined ? ['bash', '-l'] : ['bash', '-lc', request.command];
      const command = ['docker', ...shellExecArgs(container.name, workdir, request.env, request.tty !== undefined), ...start].map(shellQuote).join(' ');
      return openSshShell(client, container.name, command, request.tty, events);
    }
    return openSshShell(client, target.name, shellCommand(`${nodeDirExpr(cluster.name, rank)}/workdir`, request), request.tty, events);
  }

  private async upload(target: SshTarget, local: string, remoteExpr: string): Promise<void> {
    const isDir = statSync(local).isDirectory();
    const tar = isDir ? spawn('tar', ['-C', local, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] }) : undefined;
    // The copies are the node user's alone (umask 077), keeping the owner's bits (executables stay so).
    const ownerBits = (statSync(local).mode & 0o700).toString(8);
    const command = isDir
      ? `umask 077 && mkdir -p ${remoteExpr} && tar -C ${remoteExpr} --no-same-owner --no-same-permissions -xf -`
      : `umask 077 && mkdir -p "$(dirname ${remoteExpr})" && cat > ${remoteExpr} && chmod ${ownerBits} ${remoteExpr}`;
    // Piped at once: a child's unread stdout is discarded when it exits (we may still be connecting).
    const source = tar ? tar.stdout.pipe(new PassThrough()) : createReadStream(local);
    const tarFailed = tar ? new Promise<string>((resolve) => {
      let err = '';
      tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
      tar.on('close', (code) => resolve(code === 0 ? '' : `tar exited with ${code}: ${err.trim()}`));
    }) : Promise.resolve('');
    await this.connections.run(target, command, source);
    const tarError = await tarFailed;
    if (tarError) throw fail.infra_failed(`copying ${local} to ${describeTarget(target)}: ${tarError}`);
  }

  /** Closes the cached connections (jobs being followed keep their own until they end). */
  async close(): Promise<void> {
    this.connections.closeAll();
  }
}

function clusterHandle(cluster: ClusterRecord<SshClusterHandle>): SshClusterHandle {
  if (!cluster.handle) throw new Error(`cluster ${cluster.name} has no SSH hosts recorded`);
  return cluster.handle;
}
