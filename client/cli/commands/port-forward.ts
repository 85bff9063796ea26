// `skydeck port-forward CLUSTER PORT [--local-port N]`: a port the cluster's task declared, on
// 127.0.0.1 of this machine, through the API server (so it works against a remote team server whose
// head nodes this machine cannot reach). Runs until Ctrl+C, or until the cluster is torn down or stops.
import { PortForward, type ForwardProblem } from '../../forward';
import { LiveConnection } from '../../live';
import { checkClusterName } from '../args';
import { connect } from '../context';
import { CliExit, EXIT, note, print } from '../output';

export async function portForward(cluster: string, port: number, options: { localPort?: number }): Promise<void> {
  checkClusterName(cluster);
  if (port < 1 || port > 65535) throw new CliExit(EXIT.usage, `Error: PORT must be 1-65535, got ${port}`);
  if (options.localPort !== undefined && options.localPort > 65535) throw new CliExit(EXIT.usage, `Error: --local-port must be 0-65535, got ${options.localPort}`);
  const { client } = await connect();
  // The server checks the cluster, the port and who is asking before anything listens here.
  const forward = await PortForward.open(client, { cluster, port, localPort: options.localPort });
  print(`Forwarding ${forward.url} to port ${port} of cluster ${cluster} through ${client.endpoint.url}; Ctrl+C stops.`);
  forward.onProblem((p) => note(`port-forward: ${p.message}`));

  // Cluster events end the forward as soon as the cluster goes, not at the next connection.
  const live = new LiveConnection(client);
  live.subscribeClusters();
  const ended = new Promise<ForwardProblem | undefined>((resolve) => {
    forward.onEnd(resolve);
    live.onMessage((m) => {
      if (m.type === 'clusters-snapshot' && !m.clusters.some((c) => c.name === cluster)) resolve({ code: 'cluster_ended', message: `cluster ${cluster} does not exist any more` });
      else if (m.type === 'cluster' && m.cluster.name === cluster && (m.event === 'removed' || m.cluster.status !== 'UP')) {
        resolve({ code: 'cluster_ended', message: m.event === 'removed' ? `cluster ${cluster} was torn down` : `cluster ${cluster} is ${m.cluster.status}` });
      }
    });
    const stop = () => resolve(undefined);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const why = await ended;
  live.close();
  forward.dispose();
  if (why) throw new CliExit(EXIT.error, `Error: ${why.message}; the forward ended`);
}
