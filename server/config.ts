// The server's settings, from its command line (and SKYDECK_HOME), validated with clear errors.
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../protocol/api';
import { fail } from './errors';
import { defaultLongConcurrency } from './executor';
import type { JobIsolation } from './infra/local/job-users';

const DEFAULT_JOB_UIDS = '1900000000-1900065535';
const DEFAULT_JOB_SANDBOXES = '/var/lib/skydeck-jobs';

export interface ServerConfig {
  host: string;
  port: number;
  home: string;
  dataDir: string;
  retentionMs: number;
  longConcurrency: number;
  refreshIntervalMs: number;
  /**
   * Open TCP connections (behind a trusted proxy: requests in flight) and WebSocket connections one
   * client may hold, and open connections in all.
   */
  connectionsPerClient: number;
  webSocketsPerClient: number;
  connections: number;
  /**
   * Let team members run jobs on local infra: off unless the operator says so. The jobs then run under
   * uids of their own (one per cluster, from `jobIsolation.uids`), never as the server's OS user.
   */
  teamLocalInfra: boolean;
  jobIsolation: JobIsolation;
  /** Proxies whose X-Forwarded-For names the client (login throttle, connection caps); nobody else's is believed. */
  trustedProxies: string[];
}

export const USAGE = `Usage: skydeck-server [options]

  --host HOST               address to listen on (default 127.0.0.1)
  --port PORT               port to listen on; 0 picks a free one (default ${DEFAULT_PORT})
  --data-dir DIR            store, request logs and job state (default $SKYDECK_HOME/server)
  --request-retention DUR   keep finished requests and their logs this long: 90s, 30m, 24h, 7d (default 24h)
  --long-workers N          long requests (launch, exec, start) run at once (default from CPUs and memory)
  --max-connections-per-client N    open connections one client address may hold; behind a
                                    --trusted-proxy, requests in flight per client (default 512)
  --max-websockets-per-client N     WebSocket connections one client may hold (default 64)
  --max-connections N               open connections in all, a trusted proxy's included (default 8192)
  --refresh-interval DUR    how often idle clusters are checked for autostop (default 30s)
  --team-local-infra        on a team server, let members run jobs on local infra, each cluster's under
                            a uid of its own (needs root or CAP_SETUID..., see docs/deploy.md)
  --job-uids FIRST-LAST     uids local jobs run under with --team-local-infra, used by no OS account
                            (default ${DEFAULT_JOB_UIDS})
  --job-sandboxes DIR       where those jobs' sandboxes live, mode 0711 (default ${DEFAULT_JOB_SANDBOXES})
  --trusted-proxy ADDR      a reverse proxy whose X-Forwarded-For names the client (repeatable; login
                            throttling and connection caps are then per client behind it, not for
                            everyone at once)
  -h, --help                show this help

Environment: SKYDECK_HOME (default ~/.skydeck).

Without accounts the server is a local server: loopback only, driven by whoever can read
<data-dir>/local-token. Accounts make it a team server (and let it listen on other addresses):
  skydeck-server users add|remove|list|set-role|set-password ...   (also: skydeck users ...)
  skydeck-server tokens create|list|revoke ...                     (also: skydeck tokens ...)`;

export function skydeckHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.SKYDECK_HOME || path.join(os.homedir(), '.skydeck'));
}

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw fail.config_invalid(`${flag}: expected a duration such as 90s, 30m, 24h or 7d, got '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'h') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'request-retention': { type: 'string' },
        'long-workers': { type: 'string' },
        'refresh-interval': { type: 'string' },
        'max-connections-per-client': { type: 'string' },
        'max-websockets-per-client': { type: 'string' },
        'max-connections': { type: 'string' },
        'team-local-infra': { type: 'boolean' },
        'job-uids': { type: 'string' },
        'job-sandboxes': { type: 'string' },
        'trusted-proxy': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw fail.config_invalid(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return 'help';
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw fail.config_invalid(`--port: expected 0-65535, got '${values.port}'`);
  const longWorkers = values['long-workers'] === undefined ? defaultLongConcurrency() : Number(values['long-workers']);
  if (!Number.isInteger(longWorkers) || longWorkers < 1) throw fail.config_invalid(`--long-workers: expected a positive whole number, got '${values['long-workers']}'`);
  const home = skydeckHome(env);
  const positive = (flag: string, fallback: number) => {
    const text = values[flag as keyof typeof values] as string | undefined;
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < 1) throw fail.config_invalid(`--${flag}: expected a positive whole number, got '${text}'`);
    return n;
  };
  return {
    host: values.host ?? '127.0.0.1',
    port,
    home,
    dataDir: path.resolve(values['data-dir'] ?? path.join(home, 'server')),
    retentionMs: parseDuration(values['request-retention'] ?? '24h', '--request-retention'),
    longConcurrency: longWorkers,
    refreshIntervalMs: Math.max(1000, parseDuration(values['refresh-interval'] ?? '30s', '--refresh-interval')),
    connectionsPerClient: positive('max-connections-per-client', 512),
    webSocketsPerClient: positive('max-websockets-per-client', 64),
    connections: positive('max-connections', 8192),
    teamLocalInfra: values['team-local-infra'] === true,
    trustedProxies: (values['trusted-proxy'] ?? []).map((a) => {
      if (isIP(a) === 0) throw fail.config_invalid(`--trusted-proxy: expected the proxy's IP address (such as 127.0.0.1), got '${a}'`);
      return a;
    }),
    jobIsolation: { uids: parseUidRange(values['job-uids'] ?? DEFAULT_JOB_UIDS), sandboxes: path.resolve(values['job-sandboxes'] ?? DEFAULT_JOB_SANDBOXES) },
  };
}

function parseUidRange(text: string): { first: number; last: number } {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const [first, last] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(first >= 1000 && last >= first && last < 2 ** 32 - 1)) throw fail.config_invalid(`--job-uids: expected FIRST-LAST with 1000 <= FIRST <= LAST < 4294967295, such as ${DEFAULT_JOB_UIDS}, got '${text}'`);
  return { first, last };
}
