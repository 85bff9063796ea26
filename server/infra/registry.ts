// Which infra backends this server runs with. The local backend is always there; the others are
// enabled by their configuration in SKYDECK_HOME.
import type { InfraBackend } from './backend';
import { LocalBackend } from './local/local-backend';

export interface BackendContext {
  /** SKYDECK_HOME: where ssh_node_pools.yaml and config.yaml live. */
  home: string;
  /** The server's data dir: where backends keep their own state (sandboxes, job dirs). */
  dataDir: string;
}

export function createBackends(ctx: BackendContext): InfraBackend[] {
  return [new LocalBackend(ctx.dataDir)];
}
