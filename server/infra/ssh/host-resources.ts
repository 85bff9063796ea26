// What each pool host offers (CPUs, memory, free disk, GPUs), asked over SSH and cached: hosts do not change
// often, and the optimizer asks on every launch.
import type { SshConnections, SshTarget } from './connection';

export interface HostResources {
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
  /** GiB free to the login user where clusters live (their home: see remote-job.ts). */
  diskFreeGB?: number;
}

/** Prints nproc, MemTotal in kB, kB available in $HOME, then one GPU model name per line (none without nvidia-smi). */
const PROBE = [
  'nproc',
  "awk '/^MemTotal:/ {print $2}' /proc/meminfo",
  // -P: one line per filesystem however long its name; a failing df prints an empty line.
  `df -Pk "$HOME" 2>/dev/null | awk 'NR==2 {print $4}' | grep . || echo`,
  'command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null',
  'true',
].join('; ');

const FRESH_MS = 5 * 60_000;
/** An unreachable host is asked again sooner: it may just have booted. */
const FAILED_FRESH_MS = 10_000;

export function parseProbe(stdout: string): HostResources {
  const [nproc, memKb, diskKb, ...gpuLines] = stdout.split('\n').map((l) => l.trim());
  const cpus = Number.parseInt(nproc ?? '', 10);
  const kb = Number.parseInt(memKb ?? '', 10);
  const free = Number.parseInt(diskKb ?? '', 10);
  if (!Number.isFinite(cpus) || !Number.isFinite(kb)) throw new Error(`unexpected answer to the resource probe: ${JSON.stringify(stdout.slice(0, 200))}`);
  const gpus = gpuLines.filter(Boolean).map(gpuName);
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g, (counts.get(g) ?? 0) + 1);
  // A node offers one accelerator type in SkyPilot's model: the most common one.
  const top = [...counts].sort((a, b) => b[1] - a[1])[0];
  return {
    cpus,
    memoryGiB: Math.round((kb / 2 ** 20) * 10) / 10,
    accelerators: top && { name: top[0], count: top[1] },
    ...(Number.isFinite(free) ? { diskFreeGB: Math.floor((free / 2 ** 20) * 10) / 10 } : {}),
  };
}

/** `NVIDIA A100-SXM4-40GB` -> `A100`, `Tesla V100-PCIE-16GB` -> `V100`: the names tasks ask for. */
function gpuName(full: string): string {
  const words = full.split(/\s+/).filter((w) => !/^(NVIDIA|Tesla|GeForce|Quadro)$/i.test(w));
  return (words[0] ?? full).split('-')[0]!;
}

export class HostResourceCache {
  private readonly cache = new Map<string, { at: number; ok: boolean; value: Promise<HostResources> }>();

  constructor(private readonly connections: SshConnections) {}

  get(target: SshTarget): Promise<HostResources> {
    const key = `${target.user}@${target.ip}:${target.port}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < (hit.ok ? FRESH_MS : FAILED_FRESH_MS)) return hit.value;
    const entry = { at: Date.now(), ok: true, value: this.connections.run(target, PROBE).then(parseProbe) };
    entry.value.catch(() => (entry.ok = false));
    this.cache.set(key, entry);
    return entry.value;
  }
}
