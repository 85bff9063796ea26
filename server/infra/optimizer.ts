// Chooses where a task runs: gathers every enabled infra's placements for the task's resource ask,
// picks the cheapest, and keeps the rest (and every refusal with its reason) for the user to see.
import { resourceCandidates, type Task } from '../../protocol/task';
import { table } from '../../protocol/text-table';
import { fail } from '../errors';
import { parseAccelerators, parseQuantity, type InfraBackend, type Placement, type Refusal, type ResourceAsk } from './backend';

export interface PlacementChoice {
  chosen: Placement;
  /** Every placement that would satisfy the ask, the chosen one among them. */
  considered: Placement[];
  refusals: Refusal[];
}

export function askFromTask(task: Task): ResourceAsk {
  // The first resources candidate (any_of / ordered / accelerator sets give several; see resourceCandidates).
  const [first] = resourceCandidates(task.resources).candidates;
  return {
    infra: first?.infra,
    numNodes: task.num_nodes ?? 1,
    cpus: parseQuantity(first?.cpus),
    memoryGiB: parseQuantity(first?.memory),
    accelerators: parseAccelerators(first?.accelerators),
  };
}

/** Describes an ask in the words the task used, for messages. */
export function describeAsk(ask: ResourceAsk): string {
  const parts = [`${ask.numNodes} node${ask.numNodes === 1 ? '' : 's'}`];
  if (ask.cpus) parts.push(`${ask.cpus.count}${ask.cpus.orMore ? '+' : ''} CPUs`);
  if (ask.memoryGiB) parts.push(`${ask.memoryGiB.count}${ask.memoryGiB.orMore ? '+' : ''} GiB memory`);
  if (ask.accelerators) parts.push(`${ask.accelerators.name}:${ask.accelerators.count}`);
  return parts.join(', ');
}

/** What one node of an infra offers. */
export interface NodeOffer {
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
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
  return undefined;
}

/** Describes a node offer for refusals: `2 CPUs, 23.5 GiB, A100:8`. */
export function describeOffer(offer: NodeOffer): string {
  const acc = offer.accelerators ? `, ${offer.accelerators.name}:${offer.accelerators.count}` : '';
  return `${offer.cpus} CPUs, ${offer.memoryGiB} GiB${acc}`;
}

/** A placement on `nodes` (the ones the infra would use): per-node figures are the smallest node's. */
export function placementOn(infra: string, nodes: NodeOffer[], ask: ResourceAsk, cost: number): Placement {
  const accs = nodes.map((n) => n.accelerators);
  const first = accs[0];
  const sameAcc = first && accs.every((a) => a?.name === first.name);
  return {
    infra,
    numNodes: ask.numNodes,
    cpus: Math.min(...nodes.map((n) => n.cpus)),
    memoryGiB: Math.min(...nodes.map((n) => n.memoryGiB)),
    accelerators: sameAcc ? { name: first.name, count: Math.min(...accs.map((a) => a!.count)) } : undefined,
    cost,
  };
}

/** What turns on an infra kind that is off. */
const HOW_TO_ENABLE: Record<string, string> = {
  ssh: 'define node pools in SKYDECK_HOME/ssh_node_pools.yaml',
  slurm: 'add a `slurm:` section to SKYDECK_HOME/config.yaml',
};

/**
 * Cheapest first; at the same cost the tightest fit (fewest CPUs, then least memory per node), so a
 * small task leaves the big nodes to the tasks that need them; then by name, so the choice is stable.
 */
function preferred(a: Placement, b: Placement): number {
  return a.cost - b.cost || a.cpus - b.cpus || a.memoryGiB - b.memoryGiB || a.infra.localeCompare(b.infra);
}

export async function choosePlacement(backends: readonly InfraBackend[], ask: ResourceAsk): Promise<PlacementChoice> {
  const wantedKind = ask.infra?.split('/')[0];
  const eligible = wantedKind === undefined ? backends : backends.filter((b) => b.kind === wantedKind);
  if (eligible.length === 0) {
    const enabled = backends.map((b) => b.kind).join(', ');
    const how = HOW_TO_ENABLE[wantedKind!];
    throw fail.infra_not_enabled(`infra '${ask.infra}' is not enabled on this server (enabled: ${enabled})${how ? `; ${how}` : ''}; run \`skydeck check\` to see why`);
  }
  const answers = await Promise.all(eligible.map((b) => b.candidates(ask)));
  const considered = answers.flatMap((a) => a.placements).sort(preferred);
  const refusals = answers.flatMap((a) => a.refusals);
  const chosen = considered[0];
  if (chosen === undefined) {
    const reasons = refusals.map((r) => `  ${r.infra}: ${r.reason}`).join('\n');
    throw fail.resources_unavailable(`no enabled infra can run ${describeAsk(ask)}:\n${reasons || '  (no infra answered)'}`, { refusals });
  }
  return { chosen, considered, refusals };
}

/** The "Considered resources" table, as SkyPilot prints it before a launch. */
export function formatConsidered(choice: PlacementChoice): string {
  const rows = table(choice.considered, [
    { header: 'INFRA', value: (p) => p.infra },
    { header: 'NODES', value: (p) => String(p.numNodes) },
    { header: 'vCPUs', value: (p) => String(p.cpus) },
    { header: 'Mem(GB)', value: (p) => String(Math.round(p.memoryGiB * 10) / 10) },
    { header: 'GPUS', value: (p) => (p.accelerators ? `${p.accelerators.name}:${p.accelerators.count}` : '-') },
    { header: 'CHOSEN', value: (p) => (p === choice.chosen ? '✔' : '') },
  ]);
  return `Considered resources:\n${rows}`;
}
