// Which pool hosts belong to which cluster: a host serves one cluster at a time. Kept in the server's
// data dir so a restart remembers; each change is one synchronous read-modify-write, so two launches
// in the same server never take the same host.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Allocations = Record<string, string>;

export class HostAllocations {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'ssh', 'allocations.json');
  }

  private static key(pool: string, host: string): string {
    return `${pool}/${host}`;
  }

  private read(): Allocations {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Allocations;
    } catch {
      return {};
    }
  }

  private write(a: Allocations): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(a, null, 1));
    renameSync(`${this.file}.tmp`, this.file);
  }

  /** The cluster holding a host, if any. */
  holder(pool: string, host: string): string | undefined {
    return this.read()[HostAllocations.key(pool, host)];
  }

  /** Takes the hosts for the cluster, or throws naming the first one another cluster holds. */
  take(pool: string, hosts: string[], cluster: string): void {
    const a = this.read();
    for (const h of hosts) {
      const holder = a[HostAllocations.key(pool, h)];
      if (holder !== undefined && holder !== cluster) throw new Error(`host ${h} of pool ${pool} is taken by cluster ${holder}`);
    }
    for (const h of hosts) a[HostAllocations.key(pool, h)] = cluster;
    this.write(a);
  }

  /** Frees every host the cluster holds, in any pool. */
  release(cluster: string): void {
    const a = this.read();
    for (const [k, v] of Object.entries(a)) if (v === cluster) delete a[k];
    this.write(a);
  }
}
