// Chooses where a task runs: gathers every enabled infra's placements for the task's resource ask,
// picks the cheapest, and keeps the rest (and every refusal with its reason) for the user to see.
import type { Task } from '../../protocol/task';
import { HttpError } from '../http-error';
import { parseAccelerators, parseQuantity, type InfraBackend, type Placement, type Refusal, type ResourceAsk } from './backend';

export interface PlacementChoice {
  chosen: Placement;
  /** Every placement that would satisfy the ask, the chosen one among them. */
  considered: Placement[];
  refusals: Refusal[];
}

export function askFromTask(task: Task): ResourceAsk {
  return {
    infra: task.resources?.infra,
    numNodes: task.num_nodes ?? 1,
    cpus: parseQuantity(task.resources?.cpus),
    memoryGiB: parseQuantity(task.resources?.memory),
    accelerators: parseAccelerators(task.resources?.accelerators),
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

export async function choosePlacement(backends: readonly InfraBackend[], ask: ResourceAsk): Promise<PlacementChoice> {
  const wantedKind = ask.infra?.split('/')[0];
  const eligible = wantedKind === undefined ? backends : backends.filter((b) => b.kind === wantedKind);
  if (eligible.length === 0) {
    const enabled = backends.map((b) => b.kind).join(', ');
    throw new HttpError(400, 'infra_not_enabled', `infra '${ask.infra}' is not enabled on this server (enabled: ${enabled}); run \`skydeck check\` to see why`);
  }
  const answers = await Promise.all(eligible.map((b) => b.candidates(ask)));
  const considered = answers.flatMap((a) => a.placements).sort((a, b) => a.cost - b.cost);
  const refusals = answers.flatMap((a) => a.refusals);
  const chosen = considered[0];
  if (chosen === undefined) {
    const reasons = refusals.map((r) => `  ${r.infra}: ${r.reason}`).join('\n');
    throw new HttpError(400, 'resources_unavailable', `no enabled infra can run ${describeAsk(ask)}:\n${reasons || '  (no infra answered)'}`, { refusals });
  }
  return { chosen, considered, refusals };
}

/** The "Considered resources" table, as SkyPilot prints it before a launch. */
export function formatConsidered(choice: PlacementChoice): string {
  const header = ['INFRA', 'NODES', 'vCPUs', 'Mem(GB)', 'GPUS', 'CHOSEN'];
  const rows = choice.considered.map((p) => [
    p.infra,
    String(p.numNodes),
    String(p.cpus),
    String(Math.round(p.memoryGiB * 10) / 10),
    p.accelerators ? `${p.accelerators.name}:${p.accelerators.count}` : '-',
    p === choice.chosen ? '✔' : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return ['Considered resources:', line(header), ...rows.map(line)].join('\n');
}
