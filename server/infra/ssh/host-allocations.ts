// Which pool hosts belong to which cluster: a host serves one cluster at a time. Kept in the server's
// data dir so a restart remembers; each change is one synchronous read-modify-write, so two launches
// in the same server never take the same host.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonRecord, replaceFile } from '../../store/durable-file';

type Allocations = Record<string, string>;

export class HostAllocations {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'ssh', 'allocations.json');
  }

  private static key(pool: string, host: string): string {
    return `${pool}/${host}`;
  }

  /** Who holds what; a file that does not parse is refused, never read as "every host is free". */
  private read(): Allocations {
    return readJsonRecord(this.file, 'host allocations', 'Restore it from a backup or fix it by hand; remove it only when no SSH cluster is up, or two clusters may get the same host.');
  }

  private write(a: Allocations): void {
    mkdirSync(dirname(this.file), { recursive: true });
    replaceFile(this.file, JSON.stringify(a, null, 1), 'the SSH host allocations');
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
