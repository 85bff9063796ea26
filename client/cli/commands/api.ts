// `skydeck api ...`: the API server itself and the requests on it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import type { HealthResponse } from '../../../protocol/api';
import { REQUEST_STATUSES, type RequestStatus, type RequestSummary } from '../../../protocol/model';
import type { ApiClient } from '../../api-client';
import { ClientError, ConnectionError } from '../../errors';
import { relativeTime, shortId, table } from '../../format';
import { homePaths } from '../../home';
import { readServerInfo, startLocalServer, stopLocalServer } from '../../local-server';
import { checkClusterName, checkRequestId, refuseFlag } from '../args';
import { cliContext, connect, whoAmI } from '../context';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { CliExit, EXIT, jsonOutput, print, printJson, writeChunk } from '../output';
import { confirm } from '../prompt';

const SOURCES = { override: 'given explicitly', env: 'from SKYDECK_API_SERVER_ENDPOINT', config: 'from config.yaml', default: 'the local default' } as const;

export async function info(options: { json?: boolean; output?: string }): Promise<void> {
  const json = jsonOutput(options);
  const { client, endpoint, home } = await connect();
  try {
    const health = await client.health();
    const server = endpoint.local ? readServerInfo(home) : undefined;
    if (json) {
      return printJson({ endpoint: endpoint.url, endpointSource: endpoint.source, local: endpoint.local, health, user: client.user, server: server ?? null });
    }
    print(infoText(client, health, server, home));
  } finally {
    client.close();
  }
}

function infoText(client: ApiClient, health: HealthResponse, server: ReturnType<typeof readServerInfo>, home: string): string {
  const { endpoint } = client;
  const lines = [
    `SkyDeck API server: ${endpoint.url} (${endpoint.local ? 'local' : 'remote'}; ${SOURCES[endpoint.source]})`,
    `  Status: ${health.status}, version ${health.version} (commit ${health.commit}), API version ${health.apiVersion}, auth: ${health.auth}`,
  ];
  if (server) lines.push(`  Local server: pid ${server.pid}, started ${relativeTime(server.startedAt)}, log ${homePaths(home).serverLog}`);
  const me = health.user ?? client.user;
  lines.push(`User: ${me.name} (${me.id})`);
  if (health.user && health.user.id !== client.user.id) lines.push(`  (this client's own identity is ${client.user.name} (${client.user.id}); the server authenticated you as above)`);
  return lines.join('\n');
}

export async function requestStatus(
  ids: string[],
  given: { allStatus?: boolean; all?: boolean; allUsers?: boolean; cluster?: string; json?: boolean; output?: string; limit?: number; status?: string; verbose?: boolean },
): Promise<void> {
  const options = { ...given, allStatus: given.allStatus === true || given.all === true };
  ids.forEach(checkRequestId);
  if (options.cluster !== undefined) checkClusterName(options.cluster);
  const json = jsonOutput(options);
  const status = options.status?.toUpperCase();
  if (status !== undefined && !(REQUEST_STATUSES as readonly string[]).includes(status)) {
    throw new CliExit(EXIT.usage, `Error: --status takes one of ${REQUEST_STATUSES.join(', ')}`);
  }
  const { client } = await connect();
  try {
    let requests: RequestSummary[] =
      ids.length > 0
        ? await Promise.all(ids.map((id) => client.getRequest(id)))
        : await client.listRequests({
            all: options.allStatus || status !== undefined,
            limit: options.limit,
            status: status as RequestStatus | undefined,
            cluster: options.cluster,
            // As `sky api status`: your requests, everyone's with -u.
            user: options.allUsers ? undefined : (await whoAmI(client)).id,
          });
    if (ids.length > 0 && options.cluster !== undefined) requests = requests.filter((r) => r.clusterName === options.cluster);
    if (json) return printJson(requests);
    const on = options.cluster === undefined ? '' : ` on cluster ${options.cluster}`;
    if (requests.length === 0) return print(options.allStatus ? `No requests${on}.` : `No ongoing requests${on} (add -a to include finished ones).`);
    print(requestTable(requests, Date.now(), options.verbose));
  } finally {
    client.close();
  }
}

export function requestTable(requests: readonly RequestSummary[], now = Date.now(), fullIds = false): string {
  return table(requests, [
    { header: 'ID', value: (r) => (fullIds ? r.id : shortId(r.id)) },
    { header: 'USER', value: (r) => r.user.name },
    { header: 'NAME', value: (r) => r.name },
    { header: 'CLUSTER', value: (r) => r.clusterName ?? '-' },
    { header: 'CREATED', value: (r) => relativeTime(r.createdAt, now) },
    { header: 'STATUS', value: (r) => r.status },
  ]);
}

/** Reattaches to a request's log. Following, it exits as the request ended (a launch with its job's code). */
export async function logs(id: string | undefined, options: { follow: boolean; tail?: number; serverLogs?: boolean; logPath?: string }): Promise<void> {
  if (options.logPath !== undefined) refuseFlag('-l/--log-path', 'SkyDeck reads request logs by request id, not by a path on the server: skydeck api logs ID');
  if (options.serverLogs) {
    if (id !== undefined) throw new CliExit(EXIT.usage, 'Error: give a request id or --server-logs, not both');
    return serverLogs(options);
  }
  if (id === undefined) throw new CliExit(EXIT.usage, "Error: give a request id (or a unique prefix), or --server-logs for the local server's own log");
  checkRequestId(id);
  const { client } = await connect();
  try {
    const request = await client.getRequest(id);
    const finished = await followRequest(client, request, { follow: options.follow, tail: options.tail });
    if (finished) process.exitCode = finish(finished, { logShown: true });
  } finally {
    client.close();
  }
}

/** `api logs --server-logs`: the local server's log file (following it until Ctrl+C); a remote server's log is on its machine. */
async function serverLogs(options: { follow: boolean; tail?: number }): Promise<void> {
  const { client, home } = cliContext();
  client.close();
  if (!client.endpoint.local) refuseFlag('--server-logs', `the API server at ${client.endpoint.url} is not on this machine; its log is where it runs (docs/deploy.md)`);
  const file = homePaths(home).serverLog;
  if (!existsSync(file)) throw new CliExit(EXIT.error, `Error: no server log at ${file}: the local server writes it when this CLI starts it (a server started by hand logs to its own output)`);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  await writeChunk(options.tail !== undefined ? `${lines.slice(-options.tail - 1).join('\n')}` : text);
  if (!options.follow) return;
  let offset = statSync(file).size;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const size = statSync(file).size;
      if (size < offset) offset = 0; // rotated or truncated: start over
      if (size === offset) return;
      const fd = openSync(file, 'r');
      const buffer = Buffer.alloc(size - offset);
      readSync(fd, buffer, 0, buffer.length, offset);
      closeSync(fd);
      offset = size;
      process.stdout.write(buffer);
    }, 500);
    process.once('SIGINT', () => {
      clearInterval(timer);
      resolve();
    });
  });
}

export async function cancel(ids: string[], options: { all?: boolean; allUsers?: boolean; yes?: boolean }): Promise<void> {
  // As `sky api cancel`: -a is all of yours, -u everyone's (with or without -a).
  const all = options.all === true || options.allUsers === true;
  if (ids.length === 0 && !all) throw new CliExit(EXIT.usage, "Error: give request ids (or unique prefixes) to cancel, -a for all of yours, or -u for everyone's");
  if (ids.length > 0 && all) throw new CliExit(EXIT.usage, 'Error: give request ids or -a/-u, not both');
  ids.forEach(checkRequestId);
  const { client } = await connect();
  try {
    if (all && !options.yes) {
      // As `sky api cancel -a/-u`: name what is about to be cancelled and ask.
      const user = options.allUsers ? undefined : (await whoAmI(client)).id;
      const ongoing = await client.listRequests({ user });
      if (ongoing.length === 0) return print('No ongoing requests to cancel.');
      const list = ongoing.map((r) => `${shortId(r.id)} (${r.name}${options.allUsers ? `, ${r.user.name}` : ''})`).join(', ');
      if (!(await confirm(`Cancelling ${options.allUsers ? "all users'" : 'all your'} ongoing requests: ${list}. Proceed?`))) throw new CliExit(EXIT.error, 'Aborted; nothing was cancelled.');
    }
    const cancelled = await client.cancel(all ? { all: true, allUsers: options.allUsers } : { requestIds: ids });
    if (cancelled.length === 0) print(all ? 'No ongoing requests to cancel.' : 'Nothing was cancelled: the request(s) had already finished.');
    else print(`Cancelled ${cancelled.length} request${cancelled.length === 1 ? '' : 's'}: ${cancelled.map(shortId).join(', ')}`);
  } finally {
    client.close();
  }
}

export async function start(options: { foreground?: boolean; deploy?: boolean; host?: string; enableBasicAuth?: boolean }): Promise<void> {
  const given = [options.deploy && '--deploy', options.host !== undefined && '--host', options.enableBasicAuth && '--enable-basic-auth'].filter(Boolean).join(', ');
  // The local server serves this machine alone; a server others reach needs accounts first, and is started where it runs.
  if (given) refuseFlag(given, 'this starts the local server, on loopback, for you alone; a server for a team is started on its machine with accounts (skydeck users add, then node server.js --host HOST; see docs/deploy.md)');
  const { client, home, localServer } = cliContext();
  try {
    if (options.foreground) return await runInForeground(client, localServer.serverScript, home);
    // This command reports the start itself, so the progress note would only repeat it.
    const started = await startLocalServer(client, { ...localServer, onProgress: undefined });
    const server = readServerInfo(home);
    const pid = server ? ` (pid ${server.pid})` : '';
    print(started ? `SkyDeck API server started at ${client.endpoint.url}${pid}; log: ${homePaths(home).serverLog}` : `SkyDeck API server is already running at ${client.endpoint.url}${pid}.`);
  } finally {
    client.close();
  }
}

/** Runs the server attached to this terminal; Ctrl+C or SIGTERM stop it gracefully. */
async function runInForeground(client: ApiClient, serverScript: string, home: string): Promise<void> {
  if (!client.endpoint.local) throw new ClientError('not_local', `the API server at ${client.endpoint.url} is not on this machine; start it where it runs`);
  try {
    await client.health(1_000);
    throw new CliExit(EXIT.error, `Error: a SkyDeck API server is already running at ${client.endpoint.url}; stop it first with: skydeck api stop`);
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
  }
  const url = new URL(client.endpoint.url);
  const child = spawn(process.execPath, [serverScript, '--host', url.hostname.replace(/^\[|\]$/g, ''), '--port', url.port || '80', '--data-dir', homePaths(home).serverDir], {
    stdio: 'inherit',
  });
  // The terminal sends SIGINT to the server too (same process group); SIGTERM sent to us alone is passed on.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const onInterrupt = () => undefined;
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', forward);
  try {
    const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 0))));
    process.exitCode = code;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', forward);
  }
}

export async function stop(): Promise<void> {
  const { client, home } = cliContext();
  try {
    const stopped = await stopLocalServer(client, home);
    print(stopped.pid ? `Stopped the local SkyDeck API server at ${stopped.url} (pid ${stopped.pid}).` : 'No local SkyDeck API server is running.');
  } finally {
    client.close();
  }
}

