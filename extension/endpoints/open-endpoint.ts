// Open in Browser on a port a cluster's task declared (`resources.ports`): straight to the head node when
// this window's machine can reach it, else through a port forward over the API server.
import * as vscode from 'vscode';
import type { Endpoint } from '../../client/endpoint';
import { clusterEndpoints } from '../../protocol/model';
import { connectedClient, showApiError } from '../commands/api';
import { pickCluster, type ClusterRef } from '../commands/clusters';
import { externalUri } from '../external-uri';
import type { Services } from '../services';
import type { ClusterNode } from '../views/clusters-tree';
import { endpointForwards } from './endpoint-forwards';

type EndpointRef = Extract<ClusterNode, { kind: 'endpoint' }>;

/**
 * Whether endpoints are opened through the server. The rule: directly only when the connected server is
 * this machine's own local server, which the client reaches over the owner's Unix socket
 * (`endpoint.localSocket`, set only with the local token): then the server, its clusters' head nodes
 * (127.0.0.1 for local infra) and this window's host share one machine. Any other server, a team server
 * even at a loopback address (an SSH tunnel's far end is another machine), has head nodes on its own
 * network, which this machine may not reach: those are forwarded through the server.
 */
export function opensThroughServer(endpoint: Endpoint): boolean {
  return endpoint.localSocket === undefined;
}

/**
 * Opens the endpoint. Either way the URL goes through asExternalUri, so that in a remote window
 * (code-server, Remote-SSH) VS Code forwards the port of the window's machine again, to the browser's.
 */
export async function openEndpoint(s: Services, ref?: EndpointRef | ClusterRef): Promise<void> {
  let endpoint: { port: number; url: string } | undefined;
  let cluster: string | undefined;
  if (ref !== undefined && typeof ref !== 'string' && ref.kind === 'endpoint') {
    endpoint = ref;
    cluster = ref.cluster;
  } else {
    cluster = await pickCluster(s, ref, 'SkyDeck: Open Endpoint', (c) => clusterEndpoints(c).length > 0);
    const endpoints = cluster ? clusterEndpoints(s.clusters.get(cluster) ?? { nodes: [] }) : [];
    if (cluster && endpoints.length === 0) void vscode.window.showInformationMessage(`SkyDeck: ${cluster} has no endpoints (its task declared no resources.ports).`);
    endpoint = endpoints.length <= 1 ? endpoints[0] : (await vscode.window.showQuickPick(endpoints.map((e) => ({ label: `port ${e.port}`, description: e.url, e })), { title: `SkyDeck: endpoint of ${cluster}` }))?.e;
  }
  if (!endpoint || !cluster) return;
  const client = connectedClient(s);
  if (!client) return;
  let url = endpoint.url;
  if (opensThroughServer(client.endpoint)) {
    try {
      url = (await endpointForwards(s).forward(client, cluster, endpoint.port)).url;
    } catch (err) {
      return showApiError(s, `forwarding port ${endpoint.port} of ${cluster} through ${client.endpoint.url}`, err);
    }
  }
  const external = await externalUri(url);
  s.logger.info(`endpoint ${endpoint.url} of ${cluster} opened as ${external.toString(true)}${url !== endpoint.url ? ` (forwarded at ${url})` : ''}`);
  await vscode.env.openExternal(external);
}
