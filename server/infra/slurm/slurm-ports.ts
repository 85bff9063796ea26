// Ports on Slurm: a cluster's declared ports are held on the nodes of its running jobs. Each SkyDeck
// job carries its cluster's ports in its Slurm comment, so whoever asks Slurm (this server, another
// SkyDeck server on the same Slurm cluster, a restarted one) sees which node holds which port; a job
// that wants a port is kept off (sbatch --exclude) the nodes where another cluster holds it.
import type { SlurmAllocation } from './slurm-transport';

const PORTS_COMMENT = 'skydeck-ports=';
const JOB_PREFIX = 'skydeck-';

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

/** One port held on a node: which cluster's job holds it. */
export interface HeldPort {
  node: string;
  port: number;
  cluster: string;
}

/**
 * The asked ports that SkyDeck clusters other than `except` hold now, per node: from the jobs that have
 * nodes (running or completing) and name a SkyDeck cluster.
 */
export function heldPorts(allocations: readonly SlurmAllocation[], asked: readonly number[], except?: string): Map<string, HeldPort[]> {
  const byNode = new Map<string, HeldPort[]>();
  if (asked.length === 0) return byNode;
  for (const job of allocations) {
    const cluster = clusterOfJobName(job.name);
    if (cluster === undefined || cluster === except) continue;
    const taken = portsOfComment(job.comment).filter((p) => asked.includes(p));
    for (const node of job.nodes) {
      for (const port of taken) {
        const held = byNode.get(node) ?? [];
        if (!held.some((h) => h.port === port && h.cluster === cluster)) byNode.set(node, [...held, { node, port, cluster }]);
      }
    }
  }
  return byNode;
}

/** `8080 is held by cluster web on n1; 8081 is held by cluster api on n2`. */
export function describeHeld(held: readonly HeldPort[]): string {
  return held.map((h) => `${h.port} is held by cluster ${h.cluster} on ${h.node}`).join('; ');
}

/**
 * The refusal of a partition whose nodes that fit are too few once those holding the ports are left
 * out: `ports: partition debug has 0 of its 2 nodes without them in use, 1 asked; 8080 is held by ...`.
 */
export function portsRefusal(partition: string, usable: number, free: number, asked: number, held: readonly HeldPort[]): string {
  return `ports: partition ${partition} has ${free} of its ${usable} usable node${usable === 1 ? '' : 's'} without them in use, ${asked} asked; ${describeHeld(held)}`;
}
