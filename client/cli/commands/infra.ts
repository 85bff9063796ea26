// `check` and `gpus list`: the server's infra inventory (GET /api/infra, protocol/infra.ts) as tables.
import { acceleratorOffers, type InfraNode, type InfraStatus } from '../../../protocol/infra';
import { table } from '../../format';
import { connect } from '../context';
import { CliExit, EXIT, jsonOutput, note, print, printJson } from '../output';

async function inventory(): Promise<InfraStatus[]> {
  const { client } = await connect();
  try {
    return await client.infra();
  } finally {
    client.close();
  }
}

/** Whether `infra` is `wanted` or lies under it: `ssh` holds `ssh/lab`. */
const within = (infra: string, wanted: string) => infra === wanted || infra.startsWith(`${wanted}/`);

/** `check [INFRA...]`, as `sky check`: every kind of infra (or the ones named), on or off, why not and how to turn it on; -v adds the nodes. */
export async function check(names: string[], options: { json?: boolean; output?: string; verbose?: boolean; workspace?: string }): Promise<void> {
  const json = jsonOutput(options);
  if (options.workspace !== undefined) note(`-w/--workspace ${options.workspace}: SkyDeck has no workspaces; every infra of the server is checked.`);
  const all = await inventory();
  const unknown = names.filter((n) => !all.some((i) => within(i.infra, n.toLowerCase())));
  if (unknown.length > 0) throw new CliExit(EXIT.usage, `Error: no infra named ${unknown.join(', ')} on this server; it has ${[...new Set(all.map((i) => i.infra))].join(', ')}`);
  const infra = names.length === 0 ? all : all.filter((i) => names.some((n) => within(i.infra, n.toLowerCase())));
  if (json) return printJson(infra);
  print(
    table(infra, [
      { header: 'INFRA', value: (i) => i.infra },
      { header: 'ENABLED', value: (i) => (i.enabled ? 'yes' : 'no') },
      { header: 'REASON', value: (i) => [i.reason, i.hint && `to enable: ${i.hint}`].filter(Boolean).join('; ') },
    ]),
  );
  if (options.verbose) {
    const nodes = infra.flatMap((i) => (i.nodes ?? []).map((node) => ({ infra: i.infra, node })));
    print(nodes.length > 0 ? `\n${nodeTable(nodes)}` : '\nNo nodes to show.');
  }
  const enabled = infra.filter((i) => i.enabled).map((i) => i.infra);
  note(enabled.length > 0 ? `Enabled infra: ${enabled.join(', ')}` : 'No infra is enabled.');
}

export function nodeTable(rows: readonly { infra: string; node: InfraNode }[]): string {
  const figure = (n: number | undefined, unit: string) => (n === undefined ? '-' : `${n}${unit}`);
  return table(rows, [
    { header: 'INFRA', value: (r) => r.infra },
    { header: 'NODE', value: (r) => r.node.name },
    { header: 'ADDRESS', value: (r) => r.node.address ?? '-' },
    { header: 'STATE', value: (r) => r.node.state },
    { header: 'vCPUs', value: (r) => figure(r.node.cpus, '') },
    { header: 'MEM', value: (r) => figure(r.node.memoryGiB, ' GiB') },
    { header: 'DISK FREE', value: (r) => figure(r.node.diskFreeGB, ' GB') },
    { header: 'GPUS', value: (r) => (r.node.accelerators ? `${r.node.accelerators.name}:${r.node.accelerators.count}` : '-') },
    { header: 'CLUSTERS', value: (r) => r.node.clusters.join(',') || '-' },
  ]);
}

/**
 * `gpus list [NAME]`, as `sky gpus list` / `sky show-gpus`: the accelerators on the enabled infra, per
 * type and infra (local and SSH hosts as nvidia-smi lists them, Slurm nodes by their GRES).
 */
export interface GpusListOptions {
  infra?: string;
  /** SkyPilot's older spelling of --infra's parts: kind, then pool or partition. */
  cloud?: string;
  region?: string;
  json?: boolean;
  output?: string;
  /** Accepted with a note: every accelerator is listed, there are no prices or regions. */
  all?: boolean;
  allRegions?: boolean;
  verbose?: boolean;
}

export async function gpusList(name: string | undefined, options: GpusListOptions): Promise<void> {
  const json = jsonOutput(options);
  if (options.infra !== undefined && (options.cloud !== undefined || options.region !== undefined)) throw new CliExit(EXIT.usage, 'Error: give --infra, or --cloud [--region], not both');
  if (options.region !== undefined && options.cloud === undefined) throw new CliExit(EXIT.usage, 'Error: --region goes with --cloud (the pool or partition of that kind of infra)');
  const wanted = options.infra ?? (options.cloud === undefined ? undefined : [options.cloud.toLowerCase(), options.region].filter(Boolean).join('/'));
  if (options.all || options.allRegions || options.verbose) {
    note(`${[options.all && '-a', options.allRegions && '--all-regions', options.verbose && '-v'].filter(Boolean).join(', ')}: every accelerator on the enabled infra is listed, one row per infra; there are no prices or regions to add.`);
  }
  const infra = (await inventory()).filter((i) => wanted === undefined || within(i.infra, wanted));
  if (wanted !== undefined && infra.length === 0) throw new CliExit(EXIT.usage, `Error: no infra named ${wanted} on this server; \`skydeck check\` lists them`);
  const offers = acceleratorOffers(infra).filter((o) => name === undefined || o.name.toLowerCase() === name.toLowerCase());
  if (json) return printJson(offers);
  const enabled = infra.filter((i) => i.enabled).map((i) => i.infra);
  if (offers.length === 0) {
    const what = name === undefined ? 'No accelerators' : `No ${name} accelerators`;
    print(`${what} on the enabled infra (${enabled.join(', ') || 'none'}): local and SSH hosts are asked with nvidia-smi, Slurm nodes by their GRES.`);
    return;
  }
  print(
    table(offers, [
      { header: 'GPU', value: (o) => o.name },
      { header: 'INFRA', value: (o) => o.infra },
      { header: 'QTY PER NODE', value: (o) => o.perNode.join(', ') },
      { header: 'NODES (USABLE/ALL)', value: (o) => `${o.usableNodes}/${o.nodes}` },
      { header: 'TOTAL', value: (o) => String(o.total) },
    ]),
  );
}
