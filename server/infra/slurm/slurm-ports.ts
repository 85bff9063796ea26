// Ports on Slurm: a cluster's declared ports are held on the nodes of its jobs. Each SkyDeck job carries
// its cluster's ports in its Slurm comment, so whoever asks Slurm (this server, another SkyDeck server on
// the same Slurm cluster, a restarted one) sees which node holds which port. A pending job holds no node
// of its own, so a job that wants ports is pinned (sbatch --nodelist) to nodes where no other cluster's
// job, running or pending, holds one of them: its required nodes then say where it will run, to everyone.
// The choice and the submission are one step per Slurm cluster: one at a time in this server, and
// between servers by submitting held and yielding to an earlier job that chose the same node.
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeUsable, type SlurmNode } from './slurm-cli';
import type { SlurmJobRequest, SlurmQueuedJob, SlurmTransport } from './slurm-transport';

const PORTS_COMMENT = 'skydeck-ports=';
const JOB_PREFIX = 'skydeck-';
/** How many times a job that lost its nodes to another server's job is placed again before it is refused. */
const ATTEMPTS = 3;
/**
 * How long a submission waits for ending jobs that hold its ports to leave the queue. Slurm kills an
 * ending job's processes within its KillWait (30 s by default); a job still ending after that is on a
 * node that stopped answering, and is counted as a holder.
 */
const ENDING_WAIT_MS = 35_000;
const ENDING_POLL_MS = 250;

export function jobName(cluster: string): string {
  return `${JOB_PREFIX}${cluster}`;
}

export function clusterOfJobName(name: string): string | undefined {
  return name.startsWith(JOB_PREFIX) ? name.slice(JOB_PREFIX.length) : undefined;
}

/** The comment a job of a cluster with these ports is submitted with (undefined without ports). */
export function portsComment(ports: readonly number[] | undefined): string | undefined {
  return ports?.length ? `${PORTS_COMMENT}${ports.join(',')}` : undefined;
}

/** The ports a job's comment names (none for a comment SkyDeck did not write). */
export function portsOfComment(comment: string): number[] {
  if (!comment.startsWith(PORTS_COMMENT)) return [];
  return comment
    .slice(PORTS_COMMENT.length)
    .split(',')
    .map((p) => Number.parseInt(p, 10))
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
}

/** One port held on a node: which cluster's job holds it, and the job when it is pending there. */
export interface HeldPort {
  node: string;
  port: number;
  cluster: string;
  /** The Slurm job pinned to the node that has not started yet. */
  pendingJob?: string;
}

/** Where a queued job is or will be: its allocation, or before it has one the nodes it is pinned to. */
function nodesOf(job: SlurmQueuedJob): string[] {
  return job.nodes.length > 0 ? job.nodes : job.requiredNodes;
}

/**
 * The asked ports that SkyDeck clusters other than `except` hold, per node: from every job in the queue
 * that names a SkyDeck cluster, on its allocation or, while pending, on the nodes it is pinned to.
 */
export function heldPorts(queue: readonly SlurmQueuedJob[], asked: readonly number[], except?: string): Map<string, HeldPort[]> {
  const byNode = new Map<string, HeldPort[]>();
  if (asked.length === 0) return byNode;
  for (const job of queue) {
    const cluster = clusterOfJobName(job.name);
    if (cluster === undefined || cluster === except) continue;
    const taken = portsOfComment(job.comment).filter((p) => asked.includes(p));
    const pending = job.nodes.length === 0 ? { pendingJob: job.id } : {};
    for (const node of nodesOf(job)) {
      for (const port of taken) {
        const held = byNode.get(node) ?? [];
        if (!held.some((h) => h.port === port && h.cluster === cluster)) byNode.set(node, [...held, { node, port, cluster, ...pending }]);
      }
    }
  }
  return byNode;
}

/**
 * Ended, its processes being killed (COMPLETING): it holds its ports for a moment more, and then nothing.
 * A plan does not count it; a submission waits for it to be gone (`queueWithoutEnding`).
 */
export function isEnding(job: SlurmQueuedJob): boolean {
  return job.state === 'COMPLETING';
}

/**
 * The queue once no ending job of another cluster holds one of the asked ports: a job that ended just
 * before may still have the port bound, and refusing or moving a launch for it would be wrong a moment
 * later. Gives up waiting after ENDING_WAIT_MS, and then the queue counts those jobs as holders.
 */
export async function queueWithoutEnding(slurm: SlurmTransport, ask: Pick<PortAsk, 'cluster' | 'ports'>): Promise<SlurmQueuedJob[]> {
  const end = Date.now() + ENDING_WAIT_MS;
  for (;;) {
    const queue = await slurm.queue();
    if (heldPorts(queue.filter(isEnding), ask.ports, ask.cluster).size === 0 || Date.now() > end) return queue;
    await sleep(ENDING_POLL_MS);
  }
}

/** `8080 is held by cluster web on n1; 8081 is held by cluster api on n2 (pending job 42)`. */
export function describeHeld(held: readonly HeldPort[]): string {
  return held.map((h) => `${h.port} is held by cluster ${h.cluster} on ${h.node}${h.pendingJob ? ` (pending job ${h.pendingJob})` : ''}`).join('; ');
}

/**
 * The refusal of a partition whose nodes that fit are too few once those holding the ports are left
 * out: `ports: partition debug has 0 of its 2 nodes without them in use, 1 asked; 8080 is held by ...`.
 */
export function portsRefusal(partition: string, usable: number, free: number, asked: number, held: readonly HeldPort[]): string {
  return `ports: partition ${partition} has ${free} of its ${usable} usable node${usable === 1 ? '' : 's'} without them in use, ${asked} asked; ${describeHeld(held)}`;
}

/** Idle nodes first, then those partly in use: the pinned job starts soonest there. */
function readiness(node: SlurmNode): number {
  const state = node.state.replace(/[*~#!%$@^-]+$/, '');
  return state === 'idle' ? 0 : state === 'mix' ? 1 : 2;
}

/** A job of a cluster with ports: where, how many nodes, which ports, which nodes fit it. */
export interface PortAsk {
  cluster: string;
  /** `slurm/<partition>`, for the refusal. */
  infra: string;
  partition: string;
  numNodes: number;
  ports: readonly number[];
  /** Whether a usable node of the partition has what each of the job's nodes asks for. */
  fits: (node: SlurmNode) => boolean;
}

/**
 * The nodes to pin a job to: `numNodes` of `fit` (the partition's usable nodes that have what the job
 * asks for) where no other cluster holds one of its ports, readiest first; or the refusal that names the
 * ports and their holders.
 */
export function choosePortNodes(fit: readonly SlurmNode[], held: ReadonlyMap<string, HeldPort[]>, numNodes: number, partition: string): { nodes: SlurmNode[] } | { refusal: string } {
  const free = fit.filter((n) => !held.has(n.name)).sort((a, b) => readiness(a) - readiness(b));
  if (free.length >= numNodes) return { nodes: free.slice(0, numNodes) };
  return { refusal: portsRefusal(partition, fit.length, free.length, numNodes, fit.flatMap((n) => held.get(n.name) ?? [])) };
}

/** The partition's usable nodes that have what each of the job's nodes asks for. */
export function portFit(nodes: readonly SlurmNode[], ask: Pick<PortAsk, 'partition' | 'fits'>): SlurmNode[] {
  return nodes.filter((n) => n.partition === ask.partition && nodeUsable(n.state) && ask.fits(n));
}

/** Submitted held (sbatch --hold) and not released yet. */
export function isHeld(job: SlurmQueuedJob): boolean {
  return job.state === 'PENDING' && job.reason.startsWith('JobHeld');
}

/**
 * The other clusters' jobs that keep the held job `id` (pinned to `nodes`) off its nodes: those sharing a
 * port and a node with it that were submitted before it, or are no longer held (past their own check).
 * A later job still held yields to this one in its own check, so of two servers that chose the same
 * node at once, exactly one goes ahead.
 */
export function clashes(queue: readonly SlurmQueuedJob[], id: string, nodes: readonly string[], ask: Pick<PortAsk, 'cluster' | 'ports'>): HeldPort[] {
  const before = queue.filter((j) => j.id !== id && (Number.parseInt(j.id, 10) < Number.parseInt(id, 10) || !isHeld(j)));
  return [...heldPorts(before, ask.ports, ask.cluster).values()].flat().filter((h) => nodes.includes(h.node));
}

/**
 * Releases the held job `id` unless another cluster's job got to one of its nodes first (`clashes`);
 * then it is cancelled and the ports it lost are returned. Cancelled too when Slurm cannot be asked,
 * so no held job is left behind holding nodes.
 */
export async function releaseUnlessClashing(slurm: SlurmTransport, id: string, nodes: readonly string[], ask: Pick<PortAsk, 'cluster' | 'ports'>): Promise<HeldPort[]> {
  try {
    const lost = clashes(await queueWithoutEnding(slurm, ask), id, nodes, ask);
    if (lost.length === 0) await slurm.release(id);
    else await slurm.cancel({ id });
    return lost;
  } catch (err) {
    await slurm.cancel({ id }).catch(() => undefined);
    throw err;
  }
}

/**
 * Submits a job that holds ports, pinned to nodes free of them, held until `releaseUnlessClashing` lets
 * it go; a job that lost a node to another server's is placed again. Throws `refuse(reason)` when too
 * few nodes are left. `onSubmitted` learns each job id at once (a restart finds the job by it). The
 * caller runs one such submission at a time per Slurm cluster.
 */
export async function submitHoldingPorts(
  slurm: SlurmTransport,
  job: SlurmJobRequest,
  ask: PortAsk,
  opts: { refuse: (reason: string) => Error; onSubmitted: (id: string) => void },
): Promise<string> {
  let lost: HeldPort[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const [nodes, queue] = await Promise.all([slurm.nodes(), queueWithoutEnding(slurm, ask)]);
    const chosen = choosePortNodes(portFit(nodes, ask), heldPorts(queue, ask.ports, ask.cluster), ask.numNodes, ask.partition);
    if ('refusal' in chosen) throw opts.refuse(`${ask.infra}: ${chosen.refusal}`);
    const pinned = chosen.nodes.map((n) => n.name);
    const id = await slurm.submit({ ...job, nodelist: pinned, hold: true });
    opts.onSubmitted(id);
    lost = await releaseUnlessClashing(slurm, id, pinned, ask);
    if (lost.length === 0) return id;
  }
  throw opts.refuse(`${ask.infra}: ports: another SkyDeck server placed a job on the same nodes ${ATTEMPTS} times; ${describeHeld(lost)}`);
}
