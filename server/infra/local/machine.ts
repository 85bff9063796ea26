// What the server's own machine offers: the single node of the local infra.
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface MachineResources {
  cpus: number;
  memoryGiB: number;
  accelerators?: { name: string; count: number };
  /** How accelerators were looked for, to explain an empty answer. */
  acceleratorNote: string;
}

let cached: Promise<MachineResources> | undefined;

export function machineResources(): Promise<MachineResources> {
  cached ??= detect();
  return cached;
}

async function detect(): Promise<MachineResources> {
  const cpus = os.availableParallelism();
  const memoryGiB = Math.round((os.totalmem() / 2 ** 30) * 10) / 10;
  const gpus = await nvidiaGpus();
  if (gpus.length === 0) return { cpus, memoryGiB, acceleratorNote: 'no NVIDIA GPU found (nvidia-smi absent or listed none)' };
  // A node offers one accelerator type in SkyPilot's model; take the most common one.
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g, (counts.get(g) ?? 0) + 1);
  const [name, count] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  return { cpus, memoryGiB, accelerators: { name, count }, acceleratorNote: `detected with nvidia-smi` };
}

/** GPU model names as SkyPilot spells them (`NVIDIA A100-SXM4-40GB` -> `A100`). */
function nvidiaGpus(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 3000 }, (err, stdout) => {
      if (err) return resolve([]);
      resolve(
        stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((n) => n.replace(/^NVIDIA\s+/i, '').replace(/^(Tesla|GeForce|Quadro)\s+/i, '').split(/[-\s]/)[0]!),
      );
    });
  });
}

/**
 * GB (GiB, as clouds size the disks SkyPilot's disk_size asks for) free to this user on the filesystem holding `dir`, asked
 * of the nearest folder that exists (the data dir may not be made yet).
 */
export async function freeDiskGB(dir: string): Promise<number> {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      const s = await statfs(at);
      return Math.floor(((s.bavail * s.bsize) / 2 ** 30) * 10) / 10;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || at === path.dirname(at)) throw err;
    }
  }
}
