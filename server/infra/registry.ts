// Which infra backends this server runs with. The local backend is always there; the others are
// enabled by their configuration in SKYDECK_HOME.
import { existsSync } from 'node:fs';
import type { InfraBackend } from './backend';
import { LocalBackend } from './local/local-backend';
import { SlurmBackend } from './slurm/slurm-backend';
import { readSlurmSection } from './slurm/slurm-config';
import { poolsPath } from './ssh/pool-config';
import { SshBackend } from './ssh/ssh-backend';

export interface BackendContext {
  /** SKYDECK_HOME: where ssh_node_pools.yaml and config.yaml live. */
  home: string;
  /** The server's data dir: where backends keep their own state (sandboxes, job dirs). */
  dataDir: string;
  /** Why local jobs may not run right now, if so (see LocalBackend). */
  localRefusal?: () => string | undefined;
}

export function createBackends(ctx: BackendContext): InfraBackend[] {
  const backends: InfraBackend[] = [new LocalBackend(ctx.dataDir, ctx.localRefusal)];
  // A configuration that exists but is broken still enables its backend, whose check() says what is wrong.
  if (existsSync(poolsPath(ctx.home))) backends.push(new SshBackend(ctx.home, ctx.dataDir));
  if (readSlurmSection(ctx.home) !== undefined) backends.push(new SlurmBackend(ctx.home, ctx.dataDir));
  return backends;
}
