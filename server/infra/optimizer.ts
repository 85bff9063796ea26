// Chooses where a task runs: asks every eligible backend for placements of each resource candidate,
// turns the ones that need what a backend cannot do into refusals naming the key, and picks by the
// candidates' order (for `ordered`), then by cost, as SkyPilot does. Everything considered and every
// refusal is kept for the user to see.
import { parseAcceleratorCount, resourceCandidates, type ResourceCandidate, type Task } from '../../protocol/task';
import { portRanges } from '../../protocol/task-units';
import type { Cluster } from '../../protocol/model';
import { table } from '../../protocol/text-table';
import { fail } from '../errors';
import { isSupported, parseQuantity, type BackendCapabilities, type InfraBackend, type Placement, type Refusal, type ResourceAsk } from './backend';
import { describeAsk } from './fit';
import { PlanSurvey } from './plan-survey';
import type { InfraBackends } from './registry';

/** A task's resource candidates: one ask, or several from `any_of` / `ordered` / accelerator sets. */
export interface ResourcePlan {
  candidates: ResourceAsk[];
  /** `ordered`: the first candidate that fits anywhere wins; otherwise the cheapest of all. */
  ordered: boolean;
}

/** A placement of one candidate. */
export interface ConsideredPlacement extends Placement {
  /** Index into the plan's candidates. */
  candidate: number;
}

export interface ConsideredRefusal extends Refusal {
  candidate: number;
}

export interface PlacementChoice {
  chosen: ConsideredPlacement;
  /** Every placement that would satisfy a candidate, the chosen one among them. */
  considered: ConsideredPlacement[];
  refusals: ConsideredRefusal[];
  plan: ResourcePlan;
}

/** Ports a task names (`8080`, `8000-8010`), each one. */
export function expandPorts(ports: readonly string[] | undefined): number[] | undefined {
  if (!ports || ports.length === 0) return undefined;
  return portRanges(ports).flatMap((r) => Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i));
}

/**
 * One resources candidate as an ask. Its infra is `KIND[/REGION[/ZONE]]` (`*` for any kind): for SSH and
 * Slurm the second part names the pool or partition, so only a third part is a zone they cannot honour;
 * under `*` the parts are a region and a zone.
 */
export function askFromCandidate(c: ResourceCandidate, numNodes: number): ResourceAsk {
  const [kind, second, third] = (c.infra ?? '').split('/');
  const anyKind = kind === '' || kind === '*';
  const image = typeof c.image_id === 'string' ? c.image_id : c.image_id ? Object.values(c.image_id)[0] : undefined;
  return {
    infra: anyKind ? undefined : [kind, second].filter((x) => x !== undefined && x !== '*').join('/'),
    numNodes,
    cpus: parseQuantity(c.cpus),
    memoryGiB: parseQuantity(c.memory),
    accelerators: parseAcceleratorCount(c.accelerators),
    diskSizeGB: c.disk_size,
    useSpot: c.use_spot,
    instanceType: c.instance_type,
    region: anyKind && second !== undefined && second !== '*' ? second : undefined,
    zone: third !== undefined && third !== '*' ? third : undefined,
    diskTier: c.disk_tier,
    networkTier: c.network_tier,
    imageId: image,
    ports: expandPorts(c.ports),
    autostop: c.autostop ? { idleMinutes: c.autostop.idle_minutes, down: c.autostop.down } : undefined,
  };
}

/** The ask of a task with one resources candidate (the first, when it has several). */
export function askFromTask(task: Task): ResourceAsk {
  return planFromTask(task).candidates[0]!;
}

/** Every resources candidate of the task, as SkyPilot's optimizer considers them. */
export function planFromTask(task: Task): ResourcePlan {
  const { candidates, ordered } = resourceCandidates(task.resources);
  const mountTargets = task.file_mounts ? Object.keys(task.file_mounts) : undefined;
  return { candidates: candidates.map((c) => ({ ...askFromCandidate(c, task.num_nodes ?? 1), ...(mountTargets ? { mountTargets } : {}) })), ordered };
}

/**
 * The task keys that need a backend capability, in the order SkyPilot's schema lists them: each with
 * how the ask words it when set (`instance_type p3.2xlarge`), or undefined when the ask does not set it.
 * The docs' per-infra table is generated from this list and the backends' capabilities.
 */
export const KEY_CAPABILITIES: readonly { key: string; capability: keyof BackendCapabilities<unknown>; given(ask: ResourceAsk): string | undefined }[] = [
  { key: 'use_spot', capability: 'spot', given: (a) => (a.useSpot === true ? 'use_spot' : undefined) },
  { key: 'instance_type', capability: 'instanceTypes', given: (a) => a.instanceType && `instance_type ${a.instanceType}` },
  { key: 'region', capability: 'regions', given: (a) => a.region && `region ${a.region}` },
  { key: 'zone', capability: 'zones', given: (a) => a.zone && `zone ${a.zone}` },
  { key: 'disk_tier', capability: 'diskTiers', given: (a) => a.diskTier && `disk_tier ${a.diskTier}` },
  { key: 'network_tier', capability: 'networkTiers', given: (a) => a.networkTier && `network_tier ${a.networkTier}` },
  { key: 'ports', capability: 'ports', given: (a) => (a.ports?.length ? 'ports' : undefined) },
  { key: 'image_id', capability: 'containerImages', given: (a) => a.imageId && `image_id ${a.imageId}` },
  // With down, autostop tears the cluster down, which every infra can.
  { key: 'autostop', capability: 'stopStart', given: (a) => (a.autostop && !a.autostop.down ? 'autostop' : undefined) },
];

/** `[key as the task wrote it, the capability]` for each capability key the ask sets. */
function capabilityKeys(ask: ResourceAsk, caps: BackendCapabilities<unknown>): [string, unknown][] {
  return KEY_CAPABILITIES.flatMap(({ capability, given }) => {
    const key = given(ask);
    return key === undefined ? [] : [[key, caps[capability]] as [string, unknown]];
  });
}

/** The first key of the ask the backend cannot honour at all, as a refusal reason (`use_spot: no spot capacity...`). */
export function capabilityVerdict(ask: ResourceAsk, backend: InfraBackend): { key: string; reason: string } | undefined {
  if (ask.imageId !== undefined && !ask.imageId.startsWith('docker:')) {
    return { key: 'image_id', reason: `image_id ${ask.imageId}: ${backend.kind} infra runs container images only (image_id: docker:IMAGE); machine images belong to a cloud` };
  }
  for (const [key, capability] of capabilityKeys(ask, backend.capabilities)) {
    if (!isSupported(capability)) {
      const name = key.split(' ')[0]!;
      const extra = name === 'autostop' ? '; autostop with down: true (or --down) tears it down instead' : '';
      return { key: name, reason: `${key}: ${(capability as { unsupported: string }).unsupported}${extra}` };
    }
  }
  return undefined;
}

/**
 * Cheapest first; at the same cost the tightest fit (fewest CPUs, then least memory per node), so a
 * small task leaves the big nodes to the tasks that need them; then by name, so the choice is stable.
 */
function preferred(a: Placement, b: Placement): number {
  return a.cost - b.cost || a.cpus - b.cpus || a.memoryGiB - b.memoryGiB || a.infra.localeCompare(b.infra);
}

/** The clusters already on the infra, whose declared ports a new cluster on the same host cannot have. */
export type ExistingClusters = readonly Pick<Cluster, 'name' | 'infra' | 'nodes' | 'ports'>[];

/**
 * `ports: 8080 is held by cluster web on vm`: a port of the ask that another cluster on one of the
 * placement's hosts declared (a port serves one cluster per host, as the endpoint says which).
 */
export function portClash(ask: ResourceAsk, placement: Placement, existing: ExistingClusters): { key: string; reason: string } | undefined {
  if (!ask.ports?.length || !placement.hosts) return undefined;
  for (const cluster of existing) {
    if (cluster.infra !== placement.infra) continue;
    const host = cluster.nodes.map((n) => n.host).find((h) => h !== undefined && placement.hosts!.includes(h));
    const taken = host === undefined ? [] : ask.ports.filter((p) => cluster.ports?.includes(p));
    if (taken.length > 0) return { key: 'ports', reason: `ports: ${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} held by cluster ${cluster.name} on ${host}` };
  }
  return undefined;
}

async function considerCandidate(backends: InfraBackend[], ask: ResourceAsk, candidate: number, existing: ExistingClusters, survey: PlanSurvey): Promise<{ placements: ConsideredPlacement[]; refusals: ConsideredRefusal[] }> {
  const placements: ConsideredPlacement[] = [];
  const refusals: ConsideredRefusal[] = [];
  await Promise.all(
    backends.map(async (backend) => {
      const answer = await backend.candidates(ask, survey);
      refusals.push(...answer.refusals.map((r) => ({ ...r, candidate })));
      const verdict = capabilityVerdict(ask, backend);
      for (const p of answer.placements) {
        const refused = verdict ?? portClash(ask, p, existing);
        if (refused) refusals.push({ infra: p.infra, candidate, ...refused });
        else placements.push({ ...p, candidate });
      }
    }),
  );
  return { placements, refusals };
}

/** Places the plan on the enabled infra; `existing` are the other clusters (their ports are taken on their hosts). */
export async function choosePlacement(infra: InfraBackends, plan: ResourcePlan, existing: ExistingClusters = []): Promise<PlacementChoice> {
  const survey = new PlanSurvey();
  const answers = await Promise.all(plan.candidates.map((ask, i) => considerCandidate(infra.eligible(ask.infra), ask, i, existing, survey)));
  const considered = answers.flatMap((a) => a.placements).sort((a, b) => (plan.ordered ? a.candidate - b.candidate : 0) || preferred(a, b));
  const refusals = answers.flatMap((a) => a.refusals).sort((a, b) => a.candidate - b.candidate || a.infra.localeCompare(b.infra));
  const chosen = considered[0];
  if (chosen === undefined) {
    const several = plan.candidates.length > 1;
    const reasons = refusals.map((r) => `  ${r.infra}${several ? ` (${describeAsk(plan.candidates[r.candidate]!)})` : ''}: ${r.reason}`).join('\n');
    const what = several ? `any of ${plan.candidates.length} resource candidates` : describeAsk(plan.candidates[0]!);
    throw fail.resources_unavailable(`no enabled infra can run ${what}:\n${reasons || '  (no infra answered)'}`, { refusals });
  }
  return { chosen, considered, refusals, plan };
}

/** The "Considered resources" table, as SkyPilot prints it before a launch, then why the others were refused. */
export function formatConsidered(choice: PlacementChoice): string {
  const several = choice.plan.candidates.length > 1;
  const rows = table(choice.considered, [
    ...(several ? [{ header: 'CANDIDATE', value: (p: ConsideredPlacement) => describeAsk(choice.plan.candidates[p.candidate]!) }] : []),
    { header: 'INFRA', value: (p) => p.infra },
    { header: 'NODES', value: (p) => String(p.numNodes) },
    { header: 'vCPUs', value: (p) => String(p.cpus) },
    { header: 'Mem(GB)', value: (p) => String(Math.round(p.memoryGiB * 10) / 10) },
    { header: 'GPUS', value: (p) => (p.accelerators ? `${p.accelerators.name}:${p.accelerators.count}` : '-') },
    { header: 'CHOSEN', value: (p) => (p === choice.chosen ? '✔' : '') },
  ]);
  const refused = choice.refusals.map((r) => `  ${r.infra}${several ? ` (${describeAsk(choice.plan.candidates[r.candidate]!)})` : ''}: ${r.reason}`);
  return `Considered resources:\n${rows}${refused.length > 0 ? `\nNot possible:\n${refused.join('\n')}` : ''}`;
}
