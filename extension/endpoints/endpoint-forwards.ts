// The forwards Open in Browser keeps for a remote API server's endpoints: one local listener per cluster
// port (client/forward.ts), made on first open and reused by later ones, ended when its cluster goes
// (torn down, stopped: the Clusters model says so), when the window connects to another server, and on
// deactivate.
import type { ApiClient } from '../../client/api-client';
import type { PortForward } from '../../client/forward';
import type { Services } from '../services';

interface Kept {
  forward: PortForward;
  /** The connection it goes through: a forward made through another server's client is not reused. */
  client: ApiClient;
}

export class EndpointForwards {
  private readonly kept = new Map<string, Kept>();
  private readonly subscriptions: { dispose(): void }[];

  constructor(private readonly s: Services) {
    this.subscriptions = [
      s.clusters.onDidChange(() => {
        for (const [key, { forward }] of this.kept) {
          const cluster = s.clusters.get(forward.options.cluster);
          if (cluster?.status !== 'UP') this.end(key, cluster ? `cluster ${cluster.name} is ${cluster.status}` : `cluster ${forward.options.cluster} is gone`);
        }
      }),
      s.session.onDidChange(() => {
        const current = s.session.connection?.client;
        for (const [key, kept] of this.kept) if (kept.client !== current) this.end(key, 'the window connected to another API server');
      }),
    ];
  }

  /** The forward of this cluster port through `client`: the one kept, or a new one (the server checks the caller first). */
  async forward(client: ApiClient, cluster: string, port: number): Promise<PortForward> {
    const key = `${cluster}:${port}`;
    const kept = this.kept.get(key);
    if (kept && kept.client === client && !kept.forward.isEnded) return kept.forward;
    if (kept) this.end(key, 'replaced');
    // Loaded on first use: activation does not pay for ws and the forward.
    const { PortForward } = await import('../../client/forward');
    const forward = await PortForward.open(client, { cluster, port });
    this.kept.set(key, { forward, client });
    this.s.logger.info(`forwarding port ${port} of ${cluster} to ${forward.url} through ${client.endpoint.url}`);
    forward.onProblem((p) => this.s.logger.warn(`forward of ${cluster} port ${port}: ${p.message}`));
    forward.onEnd((p) => {
      if (this.kept.get(key)?.forward === forward) this.kept.delete(key);
      this.s.logger.info(`forward of ${cluster} port ${port} ended: ${p.message}`);
    });
    return forward;
  }

  /** How many forwards are kept now (for tests and the log). */
  get size(): number {
    return this.kept.size;
  }

  private end(key: string, why: string): void {
    const kept = this.kept.get(key);
    if (!kept) return;
    this.kept.delete(key);
    kept.forward.dispose();
    this.s.logger.info(`forward of ${key} (${kept.forward.url}) ended: ${why}`);
  }

  dispose(): void {
    for (const key of [...this.kept.keys()]) this.end(key, 'the extension is deactivating');
    for (const sub of this.subscriptions) sub.dispose();
  }
}

const forwardsOf = new WeakMap<Services, EndpointForwards>();

/** The window's forwards, made on first use and disposed with the extension. */
export function endpointForwards(s: Services): EndpointForwards {
  let forwards = forwardsOf.get(s);
  if (!forwards) {
    forwards = new EndpointForwards(s);
    forwardsOf.set(s, forwards);
    s.context.subscriptions.push(forwards);
  }
  return forwards;
}
