// `slurm/<partition>` (or `slurm` for the default partition): each job is one sbatch allocation of the
// cluster's num_nodes nodes, with setup and run started on every node through srun. Slurm does the
// scheduling; the server follows the job through scontrol/squeue and the files it writes to the shared dir.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import type { Resources } from '../../../protocol/model';
import { ClusterLocks } from '../../clusters/cluster-locks';
import { fail } from '../../errors';
import type { LogWriter } from '../../logs/log-writer';
import {
  parseAccelerators,
  parseQuantity,
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
  type Refusal,
  type ResourceAsk,
  type RunningJob,
} from '../backend';
import { diskVerdict, fixedNodeCapabilities, nodeShortOf, placementOn, shortfall, tooFewNodes, type FixedNodes } from '../fit';
import { StreamOffsets } from '../node-output';
import type { NodeShell, ShellEvents, ShellRequest } from '../../terminal/node-shell';
import { spawnProcessShell } from '../../terminal/pty-shell';
import { srunShellArgs } from '../../terminal/slurm-shell';
import { batchScript, envFile, nodeScript } from './batch-script';
import { commandTransport, nodeUsable, type SlurmNode } from './slurm-cli';
import { CONFIG_FILE, parseSlurmConfig, readSlurmSection, type SlurmConfig } from './slurm-config';
import { SlurmJobFollower } from './slurm-job-follower';
import { choosePortNodes, clusterOfJobName, describeHeld, heldPorts, isEnding, isHeld, jobName, portFit, portsComment, releaseUnlessClashing, submitHoldingPorts, type HeldPort, type PortAsk } from './slurm-ports';
import { restTransport } from './slurm-rest';
import type { SlurmJobFilter, SlurmJobRequest, SlurmTransport } from './slurm-transport';

/** A queue may make the job wait: after the hosts of an SSH pool, which start at once. */
const SLURM_COST = 2;
const CANCEL_WAIT_MS = 30_000;
/** In a job dir while its job, submitted held, waits for its port check: a restart finishes the check. */
const PORT_CHECK = 'port-check';

const slurmClusterHandle = z.object({ partition: z.string(), dir: z.string() });
export type SlurmClusterHandle = z.infer<typeof slurmClusterHandle>;

const slurmJobHandle = z.object({ slurmJobId: z.string(), cluster: z.string(), jobId: z.number().int(), jobDir: z.string(), numNodes: z.number().int(), partition: z.string() });
export type SlurmJobHandle = z.infer<typeof slurmJobHandle>;

const SLURM_NODES: FixedNodes = {
  are: 'Slurm nodes are allocated by the cluster\'s scheduler',
  one: false,
  nameInstead: 'the partition: infra: slurm/<partition>',
  instanceTypesHint: 'ask for cpus, memory, accelerators',
};

/** Per-node variables only the allocation knows; node.sh sets them. */
const PER_NODE = /^SKYPILOT_(SETUP_)?(NODE_RANK|NODE_IPS|NUM_NODES)$/;

export class SlurmBackend implements InfraBackend<SlurmClusterHandle, SlurmJobHandle> {
  readonly kind = 'slurm';
  readonly handles = { cluster: slurmClusterHandle, job: slurmJobHandle };
  readonly capabilities: BackendCapabilities<SlurmClusterHandle> = fixedNodeCapabilities(SLURM_NODES, {
    stopStart: unsupported('Slurm allocates nodes per job, so there is nothing to stop or start; use down'),
    // Honoured per job: a job is kept off the nodes where another cluster holds its ports (slurm-ports.ts).
    ports: true,
    // Containers on Slurm need enroot/pyxis (srun --container-image) on the nodes; SkyDeck does not drive them.
    containerImages: unsupported('setup and run execute on the Slurm nodes themselves: no container runtime (enroot/pyxis) is driven there'),
  });

  /** One port-holding submission at a time per Slurm cluster, so each sees where the one before is pinned. */
  private readonly placing = new ClusterLocks();

  constructor(
    private readonly home: string,
    private readonly dataDir: string,
  ) {}

  /** The configuration as it is now (config.yaml is read on every use so edits apply at once). */
  private config(): { config: SlurmConfig; slurm: SlurmTransport } {
    let config: SlurmConfig;
    try {
      config = parseSlurmConfig(readSlurmSection(this.home) ?? {}, this.home, this.dataDir);
    } catch (err) {
      throw fail.slurm_config_invalid((err as Error).message);
    }
    // Slurm's commands would retry a missing file for a minute before saying so.
    if (config.slurmConf && !existsSync(config.slurmConf)) {
      throw fail.slurm_config_invalid(`${join(this.home, CONFIG_FILE)}: slurm.slurm_conf: ${config.slurmConf} does not exist`);
    }
    return { config, slurm: config.rest ? restTransport(config.rest) : commandTransport(config.slurmConf) };
  }

  configured() {
    if (readSlurmSection(this.home) !== undefined) return { enabled: true } as const;
    const file = join(this.home, CONFIG_FILE);
    return { enabled: false, reason: `${file} has no slurm: section`, hint: `add a \`slurm:\` section to ${file} (see docs/infra.md)` } as const;
  }

  async close(): Promise<void> {}

  private async nodes(): Promise<{ config: SlurmConfig; slurm: SlurmTransport; nodes: SlurmNode[] }> {
    const { config, slurm } = this.config();
    const nodes = await slurm.nodes();
    return { config, slurm, nodes: config.partitions ? nodes.filter((n) => config.partitions!.includes(n.partition)) : nodes };
  }

  async check(): Promise<InfraStatus[]> {
    let nodes: SlurmNode[];
    let via: string;
    let holders: Map<string, string[]>;
    try {
      const found = await this.nodes();
      ({ nodes } = found);
      via = `via ${found.slurm.via}`;
      holders = await this.clustersByNode(found.slurm);
    } catch (err) {
      return [{ infra: 'slurm', enabled: false, reason: (err as Error).message }];
    }
    const partitions = [...new Set(nodes.map((n) => n.partition))];
    if (partitions.length === 0) return [{ infra: 'slurm', enabled: false, reason: `Slurm lists no partition (or none of the configured ones), ${via}` }];
    return partitions.map((p): InfraStatus => {
      const members = nodes.filter((n) => n.partition === p);
      const inventory = members.map(
        (n): InfraNode => ({
          name: n.name,
          cpus: n.cpus,
          memoryGiB: n.memoryGiB,
          ...(n.diskFreeGB !== undefined ? { diskFreeGB: n.diskFreeGB } : {}),
          ...(n.accelerators ? { accelerators: n.accelerators } : {}),
          ...(n.gres ? { gres: n.gres } : {}),
          state: n.state,
          usable: nodeUsable(n.state),
          clusters: holders.get(n.name) ?? [],
        }),
      );
      const usable = inventory.filter((n) => n.usable).length;
      return usable > 0
        ? { infra: `slurm/${p}`, enabled: true, reason: usable < members.length ? `${usable} of ${members.length} nodes usable, ${via}` : via, nodes: inventory }
        : { infra: `slurm/${p}`, enabled: false, reason: `none of its ${members.length} nodes is usable, ${via}`, nodes: inventory };
    });
  }

  /** Node name -> the SkyDeck clusters whose jobs hold it now (their Slurm jobs are named skydeck-<cluster>). */
  private async clustersByNode(slurm: SlurmTransport): Promise<Map<string, string[]>> {
    const byNode = new Map<string, string[]>();
    for (const job of await slurm.queue()) {
      const cluster = clusterOfJobName(job.name);
      if (cluster === undefined) continue;
      for (const node of job.nodes) {
        const held = byNode.get(node) ?? [];
        if (!held.includes(cluster)) byNode.set(node, [...held, cluster]);
      }
    }
    return byNode;
  }

  async candidates(ask: ResourceAsk): Promise<{ placements: Placement[]; refusals: Refusal[] }> {
    let nodes: SlurmNode[];
    let held: Map<string, HeldPort[]>;
    try {
      const found = await this.nodes();
      nodes = found.nodes;
      held = ask.ports?.length ? heldPorts((await found.slurm.queue()).filter((j) => !isEnding(j)), ask.ports) : new Map();
    } catch (err) {
      return { placements: [], refusals: [{ infra: ask.infra ?? 'slurm', reason: (err as Error).message }] };
    }
    const all = [...new Set(nodes.map((n) => n.partition))];
    const wanted = ask.infra?.split('/')[1];
    let partitions = all;
    if (ask.infra === 'slurm') partitions = all.filter((p) => nodes.some((n) => n.partition === p && n.isDefault)).slice(0, 1);
    else if (wanted !== undefined) partitions = all.filter((p) => p === wanted);
    if (partitions.length === 0) {
      const what = wanted === undefined ? 'no default partition' : `no partition named '${wanted}'`;
      return { placements: [], refusals: [{ infra: ask.infra ?? 'slurm', reason: `Slurm has ${what} (partitions: ${all.join(', ') || 'none'})` }] };
    }
    const placements: Placement[] = [];
    const refusals: Refusal[] = [];
    for (const p of partitions) {
      const members = nodes.filter((n) => n.partition === p);
      const fit = members.filter((n) => nodeUsable(n.state) && !shortfall(ask, n));
      const disk = diskVerdict(ask, `slurm/${p}`, members.filter((n) => nodeUsable(n.state)), 'node', 'Slurm does not say how much disk its nodes have (TmpDisk is not set in slurm.conf)');
      if (disk) {
        refusals.push(disk);
        continue;
      }
      // A node where another cluster holds one of the ports is left out, as the job's pinning will.
      if (fit.length >= ask.numNodes) {
        const chosen = choosePortNodes(fit, held, ask.numNodes, p);
        if ('refusal' in chosen) refusals.push({ infra: `slurm/${p}`, key: 'ports', reason: chosen.refusal });
        else placements.push(placementOn(`slurm/${p}`, chosen.nodes, ask.numNodes, SLURM_COST));
        continue;
      }
      const why = members
        .filter((n) => !fit.includes(n))
        .map((n) => (nodeUsable(n.state) ? nodeShortOf(n.name, n, shortfall(ask, n)!) : `${n.name} is ${n.state}`));
      refusals.push({ infra: `slurm/${p}`, reason: tooFewNodes(ask, `partition ${p}`, fit.length, 'node', why) });
    }
    return { placements, refusals };
  }

  async provision(cluster: ClusterRecord<SlurmClusterHandle>, placement: Placement, log: LogWriter): Promise<Provisioned<SlurmClusterHandle>> {
    const { config } = this.config();
    const partition = placement.infra.split('/')[1];
    if (!partition) throw fail.bad_placement(`a Slurm placement names its partition, got ${placement.infra}`);
    const dir = join(config.sharedDir, cluster.name);
    mkdirSync(join(dir, 'workdir'), { recursive: true });
    log.line(`Slurm partition ${partition}: each job gets its own allocation of ${placement.numNodes} node${placement.numNodes === 1 ? '' : 's'}; job files in ${dir}`);
    const handle: SlurmClusterHandle = { partition, dir };
    return {
      // Slurm picks the nodes per job; the cluster itself holds none.
      nodes: Array.from({ length: placement.numNodes }, (_, rank) => ({ rank, ip: '', host: `slurm/${partition}` })),
      resources: {
        infra: placement.infra,
        cpus: cluster.resources.cpus,
        memory: cluster.resources.memory,
        accelerators: cluster.resources.accelerators,
      },
      handle,
    };
  }

  async runJob(cluster: ClusterRecord<SlurmClusterHandle>, spec: JobSpec, ctx: JobContext): Promise<RunningJob<SlurmJobHandle>> {
    const { config, slurm } = this.config();
    const c = clusterHandle(cluster);
    const ports = portAsk(cluster, spec.numNodes);
    // Before any file is written: a job whose ports every node has taken is refused, not left pending.
    // Jobs that are ending do not count here; the submission waits for them to be gone.
    if (ports) {
      const [nodes, queue] = await Promise.all([slurm.nodes(), slurm.queue().then((q) => q.filter((j) => !isEnding(j)))]);
      const chosen = choosePortNodes(portFit(nodes, ports), heldPorts(queue, ports.ports, ports.cluster), ports.numNodes, ports.partition);
      if ('refusal' in chosen) throw fail.resources_unavailable(`${ports.infra}: ${chosen.refusal}`);
    }
    const jobDir = join(c.dir, 'jobs', String(spec.jobId));
    const workdir = join(c.dir, 'workdir');
    rmSync(jobDir, { recursive: true, force: true });
    mkdirSync(join(jobDir, 'mounts'), { recursive: true, mode: 0o700 });
    if (spec.workdir) {
      ctx.log.line(`Syncing workdir ${spec.workdir} to ${workdir}...`);
      cpSync(spec.workdir, workdir, { recursive: true });
    }
    const mounts = Object.entries(spec.fileMounts ?? {}).map(([remote, local], i) => {
      cpSync(local, join(jobDir, 'mounts', String(i)), { recursive: true });
      return { remote, copy: String(i), isDir: statSync(local).isDirectory() };
    });
    const env = (phase: 'setup' | 'run') => {
      const sky = skypilotEnv({ cluster, nodes: [], rank: 0, gpusPerNode: spec.gpusPerNode, taskId: spec.taskId, phase });
      return { ...spec.envs, ...Object.fromEntries(Object.entries(sky).filter(([k]) => !PER_NODE.test(k))) };
    };
    const files = { jobDir, workdir, slurmConf: config.slurmConf, setup: spec.setup, run: spec.run, setupEnv: env('setup'), runEnv: env('run'), mounts };
    const write = (name: string, text: string) => writeFileSync(join(jobDir, name), text, { mode: 0o700 });
    write('batch.sh', batchScript(files));
    write('node.sh', nodeScript(files));
    write('setup.env', envFile(files.setupEnv));
    write('run.env', envFile(files.runEnv));
    if (spec.setup?.trim()) write('setup.sh', spec.setup);
    if (spec.run?.trim()) write('run.sh', spec.run);
    const job: SlurmJobRequest = {
      scriptFile: join(jobDir, 'batch.sh'),
      script: readFileSync(join(jobDir, 'batch.sh'), 'utf8'),
      name: jobName(cluster.name),
      partition: c.partition,
      nodes: spec.numNodes,
      output: join(jobDir, 'batch.log'),
      chdir: jobDir,
      ...perNode(cluster.resources),
      account: config.account,
      comment: portsComment(cluster.ports),
    };
    const recordId = (id: string) => writeFileSync(join(jobDir, 'slurm_job_id'), `${id}\n`);
    let slurmJobId: string;
    if (ports) {
      slurmJobId = await this.submitHoldingPorts(config, slurm, job, ports, `job ${spec.jobId} of cluster ${cluster.name}`, jobDir, recordId);
    } else {
      slurmJobId = await slurm.submit(job);
      recordId(slurmJobId);
    }
    ctx.log.line(`[skydeck] submitted Slurm job ${slurmJobId} (partition ${c.partition}, ${spec.numNodes} node${spec.numNodes === 1 ? '' : 's'})`);
    const handle: SlurmJobHandle = { slurmJobId, cluster: cluster.name, jobId: spec.jobId, jobDir, numNodes: spec.numNodes, partition: c.partition };
    // A job id used before (the cluster was torn down and launched again) starts its output afresh.
    rmSync(this.offsetsFile(handle), { force: true });
    return { handle, outcome: this.follow(handle, ctx, slurm) };
  }

  /**
   * Submits a job of a cluster with ports, pinned to nodes where no other cluster holds them (see
   * slurm-ports.ts), one at a time per Slurm cluster. A refused job leaves no files behind.
   */
  private async submitHoldingPorts(config: SlurmConfig, slurm: SlurmTransport, job: SlurmJobRequest, ports: PortAsk, holder: string, jobDir: string, recordId: (id: string) => void): Promise<string> {
    const release = await this.placing.acquire(config.rest?.url ?? config.slurmConf ?? 'slurm', holder);
    try {
      writeFileSync(join(jobDir, PORT_CHECK), '');
      const id = await submitHoldingPorts(slurm, job, ports, { refuse: (reason) => fail.resources_unavailable(reason), onSubmitted: recordId });
      rmSync(join(jobDir, PORT_CHECK), { force: true });
      return id;
    } catch (err) {
      rmSync(jobDir, { recursive: true, force: true });
      throw err;
    } finally {
      release();
    }
  }

  /** A job submitted just before the server stopped: its id is in the job dir (written by the server and by the job). */
  async recoverJob(cluster: ClusterRecord<SlurmClusterHandle>, spec: JobSpec): Promise<SlurmJobHandle | undefined> {
    const c = clusterHandle(cluster);
    const jobDir = join(c.dir, 'jobs', String(spec.jobId));
    let slurmJobId: string;
    try {
      slurmJobId = readFileSync(join(jobDir, 'slurm_job_id'), 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!/^\d+$/.test(slurmJobId)) return undefined;
    return { slurmJobId, cluster: cluster.name, jobId: spec.jobId, jobDir, numNodes: spec.numNodes, partition: c.partition };
  }

  async resumeJob(cluster: ClusterRecord<SlurmClusterHandle>, _spec: JobSpec, h: SlurmJobHandle, ctx: JobContext): Promise<RunningJob<SlurmJobHandle>> {
    const { slurm } = this.config();
    const lost = await this.finishPortCheck(slurm, cluster, h);
    if (lost.length > 0) {
      ['setup.env', 'run.env'].forEach((f) => rmSync(join(h.jobDir, f), { force: true }));
      const reason = `${cluster.infra}: ports: ${describeHeld(lost)}`;
      ctx.log.line(`[skydeck] Slurm job ${h.slurmJobId} was waiting for its port check when the server stopped; cancelled: ${reason}`);
      return { handle: h, outcome: Promise.resolve({ status: 'FAILED', reason }) };
    }
    ctx.log.line(`[skydeck] reattached to Slurm job ${h.slurmJobId}`);
    return { handle: h, outcome: this.follow(h, ctx, slurm) };
  }

  /**
   * A job the server submitted held and stopped before releasing: released now unless another
   * cluster's job got to its nodes meanwhile (then it is cancelled, and the ports it lost returned).
   */
  private async finishPortCheck(slurm: SlurmTransport, cluster: ClusterRecord<SlurmClusterHandle>, h: SlurmJobHandle): Promise<HeldPort[]> {
    const marker = join(h.jobDir, PORT_CHECK);
    if (!existsSync(marker)) return [];
    const mine = (await slurm.queue()).find((j) => j.id === h.slurmJobId);
    const lost = mine && isHeld(mine) ? await releaseUnlessClashing(slurm, h.slurmJobId, mine.requiredNodes, { cluster: cluster.name, ports: cluster.ports ?? [] }) : [];
    rmSync(marker, { force: true });
    return lost;
  }

  private offsetsFile(h: SlurmJobHandle): string {
    return join(this.dataDir, 'slurm', 'jobs', h.cluster, `${h.jobId}.offsets.json`);
  }

  private follow(h: SlurmJobHandle, ctx: JobContext, slurm: SlurmTransport) {
    const offsets = new StreamOffsets(this.offsetsFile(h), h.numNodes + 1);
    const follower = new SlurmJobFollower({ slurmJobId: h.slurmJobId, jobDir: h.jobDir, numNodes: h.numNodes, partition: h.partition, log: ctx.log, offsets, slurm, onRunning: () => ctx.onRunning(), onWaiting: (reason) => ctx.onWaiting?.(reason), onAllocation: (nodes) => ctx.onAllocation?.(nodes.map((n, rank) => ({ rank, ip: n.ip, host: n.name }))) });
    // A job scancel'd or killed outright never ran its own cleanup: the secrets go now.
    return follower.follow().finally(() => ['setup.env', 'run.env'].forEach((f) => rmSync(join(h.jobDir, f), { force: true })));
  }

  async cancelJob(_cluster: ClusterRecord<SlurmClusterHandle>, h: SlurmJobHandle): Promise<void> {
    const { slurm } = this.config();
    writeFileSync(join(h.jobDir, 'cancelled'), '');
    await slurm.cancel({ id: h.slurmJobId });
    await waitUntilGone(slurm, { id: h.slurmJobId }, `Slurm job ${h.slurmJobId}`);
  }

  async teardown(cluster: ClusterRecord<SlurmClusterHandle>, log: LogWriter): Promise<void> {
    const { config, slurm } = this.config();
    // Through slurmrestd, jobs belong to the token's user; through the commands, to the server's.
    const theirs: SlurmJobFilter = { name: jobName(cluster.name), user: config.rest?.user ?? os.userInfo().username };
    await slurm.cancel(theirs);
    await waitUntilGone(slurm, theirs, `the jobs of cluster ${cluster.name}`);
    const c = cluster.handle;
    if (c) rmSync(c.dir, { recursive: true, force: true });
    rmSync(join(this.dataDir, 'slurm', 'jobs', cluster.name), { recursive: true, force: true });
    log.line(`  cancelled the cluster's Slurm jobs and removed its files`);
  }

  async openShell(cluster: ClusterRecord<SlurmClusterHandle>, rank: number, request: ShellRequest<SlurmJobHandle>, events: ShellEvents): Promise<NodeShell> {
    const { config } = this.config();
    if (config.rest) throw fail.not_supported(`a terminal on ${cluster.infra} needs Slurm's commands (srun) on the server's machine; this server reaches Slurm through slurmrestd`);
    const job = request.runningJobs.find((j) => rank < j.numNodes);
    if (!job) throw fail.cluster_not_up(`cluster ${cluster.name} has no running job on node ${rank}: on Slurm a cluster's nodes exist only inside a job's allocation; start one (skydeck exec ${cluster.name} 'sleep infinity') and open the terminal again`);
    const { SLURM_JWT: _jwt, ...env } = process.env;
    if (config.slurmConf) env.SLURM_CONF = config.slurmConf;
    const args = srunShellArgs({ slurmJobId: job.slurmJobId, rank, jobDir: job.jobDir, workdir: join(clusterHandle(cluster).dir, 'workdir'), request });
    return spawnProcessShell({ file: 'srun', args, cwd: job.jobDir, env, tty: request.tty, host: `${cluster.infra} node ${rank} (job ${job.slurmJobId})` }, events);
  }
}

/** A job of a cluster with ports, as the port rules see it (undefined without ports). */
function portAsk(cluster: ClusterRecord<SlurmClusterHandle>, numNodes: number): PortAsk | undefined {
  if (!cluster.ports?.length) return undefined;
  const r = cluster.resources;
  const ask: ResourceAsk = { numNodes, cpus: parseQuantity(r.cpus), memoryGiB: parseQuantity(r.memory), accelerators: parseAccelerators(r.accelerators) };
  return { cluster: cluster.name, infra: cluster.infra, partition: clusterHandle(cluster).partition, numNodes, ports: cluster.ports, fits: (n) => !shortfall(ask, n) };
}

/** What each node of the cluster must have (sbatch's --cpus-per-task, --mem, --gres). */
function perNode(r: Resources): { cpusPerTask?: number; memoryMb?: number; gres?: string } {
  const cpus = parseQuantity(r.cpus);
  const mem = parseQuantity(r.memory);
  const acc = parseAccelerators(r.accelerators);
  return {
    cpusPerTask: cpus && Math.ceil(cpus.count),
    memoryMb: mem && Math.ceil(mem.count * 1024),
    gres: acc && `gpu:${acc.name.toLowerCase()}:${acc.count}`,
  };
}

async function waitUntilGone(slurm: SlurmTransport, filter: SlurmJobFilter, what: string): Promise<void> {
  const end = Date.now() + CANCEL_WAIT_MS;
  while (Date.now() < end) {
    const listed = await slurm.queued(filter).catch(() => []);
    if (listed.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw fail.infra_failed(`${what} still in the Slurm queue ${CANCEL_WAIT_MS / 1000}s after cancelling`);
}

function clusterHandle(cluster: ClusterRecord<SlurmClusterHandle>): SlurmClusterHandle {
  if (!cluster.handle) throw new Error(`cluster ${cluster.name} has no Slurm partition recorded`);
  return cluster.handle;
}
