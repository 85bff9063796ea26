// Whether nodes fit a resource ask, and the words every backend uses to say why not: one place, so
// local, SSH and Slurm refuse alike.
import { unsupported, type BackendCapabilities, type Placement, type Refusal, type ResourceAsk } from './backend';

/** What one node of an infra offers. */
export interface NodeOffer {
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
  /** GB free where a cluster's files would live; absent when the infra does not say. */
  diskFreeGB?: number;
}

/** Describes an ask in the words the task used, for messages: `2 nodes, 4+ CPUs, A100:1`. */
export function describeAsk(ask: ResourceAsk): string {
  return [`${ask.numNodes} node${ask.numNodes === 1 ? '' : 's'}`, describeNodeAsk(ask)].filter(Boolean).join(', ');
}

/** What one node must have: `4+ CPUs, 16 GiB memory, A100:1` (empty when the ask says nothing). */
export function describeNodeAsk(ask: ResourceAsk): string {
  const parts: string[] = [];
  if (ask.cpus) parts.push(`${ask.cpus.count}${ask.cpus.orMore ? '+' : ''} CPUs`);
  if (ask.memoryGiB) parts.push(`${ask.memoryGiB.count}${ask.memoryGiB.orMore ? '+' : ''} GiB memory`);
  if (ask.accelerators) parts.push(`${ask.accelerators.name}:${ask.accelerators.count}`);
  if (ask.diskSizeGB !== undefined) parts.push(`${ask.diskSizeGB} GB disk`);
  return parts.join(', ');
}

/**
 * Why one node cannot serve one node of the ask, or undefined when it can. On fixed hosts and Slurm
 * nodes `4` and `4+` both mean "at least 4": nothing can be resized to match exactly.
 */
export function shortfall(ask: ResourceAsk, offer: NodeOffer): string | undefined {
  if (ask.cpus && offer.cpus < ask.cpus.count) return `${offer.cpus} CPUs, ${ask.cpus.count} asked`;
  if (ask.memoryGiB && offer.memoryGiB < ask.memoryGiB.count) return `${offer.memoryGiB} GiB memory, ${ask.memoryGiB.count} asked`;
  if (ask.accelerators) {
    const have = offer.accelerators;
    if (!have) return `no accelerators, ${ask.accelerators.name}:${ask.accelerators.count} asked`;
    if (have.name.toLowerCase() !== ask.accelerators.name.toLowerCase()) return `${have.name}:${have.count}, ${ask.accelerators.name} asked`;
    if (have.count < ask.accelerators.count) return `${have.name}:${have.count}, ${ask.accelerators.count} asked`;
  }
  if (ask.diskSizeGB !== undefined) {
    if (offer.diskFreeGB === undefined) return `free disk unknown, disk_size ${ask.diskSizeGB} GB asked`;
    if (offer.diskFreeGB < ask.diskSizeGB) return `${offer.diskFreeGB} GB disk free, ${ask.diskSizeGB} asked`;
  }
  return undefined;
}

/**
 * The `disk_size` refusal of an infra none of whose nodes has that much free, naming the key and the
 * best figure (`disk_size 500 GB: the largest host has 80 GB free`); undefined when some node has it.
 * On fixed hosts disk_size means free space where the cluster lives, as cpus means at least that many.
 */
export function diskVerdict(ask: ResourceAsk, infra: string, offers: NodeOffer[], noun: 'host' | 'node' | 'machine', unknown = `${infra} does not say how much disk its ${noun}s have free`): Refusal | undefined {
  const want = ask.diskSizeGB;
  if (want === undefined || offers.length === 0) return undefined;
  const known = offers.flatMap((o) => (o.diskFreeGB === undefined ? [] : [o.diskFreeGB]));
  if (known.some((free) => free >= want)) return undefined;
  const reason =
    known.length === 0
      ? `disk_size ${want} GB: ${unknown}`
      : `disk_size ${want} GB: ${noun === 'machine' ? 'this machine' : `the largest ${noun}`} has ${Math.max(...known)} GB free`;
  return { infra, key: 'disk_size', reason };
}

/** Describes a node offer for refusals: `2 CPUs, 23.5 GiB, A100:8`. */
export function describeOffer(offer: NodeOffer): string {
  const acc = offer.accelerators ? `, ${offer.accelerators.name}:${offer.accelerators.count}` : '';
  return `${offer.cpus} CPUs, ${offer.memoryGiB} GiB${acc}`;
}

/** `n1 has 2 CPUs, 3.8 GiB: 2 CPUs, 64 asked`: why one node does not fit. */
export function nodeShortOf(name: string, offer: NodeOffer, short: string): string {
  return `${name} has ${describeOffer(offer)}: ${short}`;
}

/**
 * The refusal of a pool or partition that has too few nodes that fit:
 * `asked for 3 nodes; partition debug has 2 nodes that fit; n3 is down`.
 */
export function tooFewNodes(ask: ResourceAsk, where: string, fitting: number, noun: 'host' | 'node', why: string[]): string {
  const free = noun === 'host' ? 'free host' : 'node';
  return `asked for ${describeAsk(ask)}; ${where} has ${fitting} ${free}${fitting === 1 ? '' : 's'} that fit${why.length > 0 ? `; ${why.join('; ')}` : ''}`;
}

/** A placement on `nodes` (the ones the infra would use): per-node figures are the smallest node's. */
export function placementOn(infra: string, nodes: NodeOffer[], numNodes: number, cost: number): Placement {
  const accs = nodes.map((n) => n.accelerators);
  const first = accs[0];
  const sameAcc = first && accs.every((a) => a?.name === first.name);
  return {
    infra,
    numNodes,
    cpus: Math.min(...nodes.map((n) => n.cpus)),
    memoryGiB: Math.min(...nodes.map((n) => n.memoryGiB)),
    accelerators: sameAcc ? { name: first.name, count: Math.min(...accs.map((a) => a!.count)) } : undefined,
    cost,
  };
}

/** What infra of fixed nodes is, for its refusals: `an SSH node pool is a set of fixed hosts`. */
export interface FixedNodes {
  are: string;
  /** Whether its nodes are one (`its disk has`) or many (`their disks have`). */
  one: boolean;
  /** What to name instead of a region or zone (`the pool: infra: ssh/<pool>`). */
  nameInstead?: string;
  /** What to ask for instead of an instance type. */
  instanceTypesHint?: string;
  /** Its own wording for spot, when `<are>, not spot instances` does not fit. */
  spot?: string;
}

/**
 * The capabilities of infra whose nodes are fixed (this machine, SSH pool hosts, Slurm nodes): none of
 * the cloud choices (spot, instance types, regions, zones, disk and network tiers), each refused in the
 * same words; the backend gives what differs (stop/start, ports, container images).
 */
export function fixedNodeCapabilities<H>(nodes: FixedNodes, own: Pick<BackendCapabilities<H>, 'stopStart' | 'ports' | 'containerImages'>): BackendCapabilities<H> {
  const name = nodes.nameInstead ? ` (name ${nodes.nameInstead})` : '';
  const disk = nodes.one ? 'its disk has' : 'their disks have';
  const network = nodes.one ? 'its network has' : 'their network has';
  return {
    spot: unsupported(nodes.spot ?? `${nodes.are}, not spot instances`),
    instanceTypes: unsupported(`${nodes.are}; it has no instance types${nodes.instanceTypesHint ? ` (${nodes.instanceTypesHint})` : ''}`),
    regions: unsupported(`${nodes.are}; it has no regions${name}`),
    zones: unsupported(`${nodes.are}; it has no zones${name}`),
    diskTiers: unsupported(`${nodes.are}; ${disk} no tiers to choose from`),
    networkTiers: unsupported(`${nodes.are}; ${network} no tiers to choose from`),
    ...own,
  };
}
