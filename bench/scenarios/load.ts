// Request rates over keep-alive connections: /api/health, and the short round trip a client makes for
// a quick command (submit `status`, then fetch its result with ?wait).
import type { ApiRequest } from '../../protocol/model';
import type { KeepAliveConnection } from '../lib/http';
import type { BenchServer } from '../lib/server';
import { distribution, nowMs, type Distribution } from '../lib/stats';

export interface Rate {
  connections: number;
  calls: number;
  seconds: number;
  perSecond: number;
  latencyMs: Distribution;
  /** Every call's latency (ms), in completion order. */
  samples: number[];
}

/** Runs `call` back to back on every connection until the time is up or `maxCalls` calls were made. */
export async function drive(conns: KeepAliveConnection[], limits: { seconds: number; maxCalls?: number }, call: (c: KeepAliveConnection) => Promise<unknown>): Promise<Rate> {
  const latencies: number[] = [];
  const t0 = nowMs();
  const deadline = t0 + limits.seconds * 1000;
  let started = 0;
  await Promise.all(
    conns.map(async (conn) => {
      while (nowMs() < deadline && (limits.maxCalls === undefined || started < limits.maxCalls)) {
        started++;
        const c0 = nowMs();
        await call(conn);
        latencies.push(nowMs() - c0);
      }
    }),
  );
  const seconds = (nowMs() - t0) / 1000;
  return { connections: conns.length, calls: latencies.length, seconds, perSecond: latencies.length / seconds, latencyMs: distribution(latencies), samples: latencies };
}

export async function health(conn: KeepAliveConnection): Promise<void> {
  const answer = await conn.request('GET', '/api/health');
  if (answer.status !== 200) throw new Error(`/api/health answered ${answer.status}: ${answer.body.slice(0, 200)}`);
}

/** Submit `status`; returns the request id. */
export async function submitStatus(conn: KeepAliveConnection): Promise<string> {
  return (await conn.json<{ requestId: string }>('POST', '/api/v1/status', 202, {})).requestId;
}

export async function statusRoundTrip(conn: KeepAliveConnection): Promise<void> {
  const id = await submitStatus(conn);
  const request = await conn.json<ApiRequest>('GET', `/api/requests/${id}?wait=30`, 200);
  if (request.status !== 'SUCCEEDED') throw new Error(`status request ${id} ended ${request.status}: ${JSON.stringify(request.error)}`);
}

export async function openConnections(server: BenchServer, n: number): Promise<KeepAliveConnection[]> {
  return Promise.all(Array.from({ length: n }, () => server.connect()));
}
