// Throws generated malformed bodies and query strings at the API: no answer may be a 5xx, the server
// must stay up, and the store must be as it was. The generator is seeded; a failure prints the seed
// and the call, and SKYDECK_FUZZ_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cancelBody, OPERATIONS } from '../../protocol/api';
import { startServer, type TestServer } from '../helpers/server';
import { random, type Rng } from './helpers';

const CALLS = Number(process.env.SKYDECK_FUZZ_CALLS ?? 12_000);
const SEED = Number(process.env.SKYDECK_FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 16;


const STRINGS = ['', ' ', 'a', '../../etc/passwd', '/etc/passwd', '%2e%2e%2f', '\u0000', '\r\n', 'ﬀ', '😀', 'x'.repeat(300), '${HOME}', '$(id)', '`id`', '<script>', 'null', '0', '-1', 'true', 'ffffffff', 'A'.repeat(40)];
const KEYS = ['clusterName', 'task', 'run', 'setup', 'num_nodes', 'resources', 'infra', 'cpus', 'envs', 'secrets', 'jobIds', 'all', 'allUsers', 'requestIds', 'detachRun', 'follow', 'tail', '__proto__', 'constructor', 'prototype', ''];

function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return r.pick(STRINGS);
    case 1: return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, NaN]);
    case 2: return r.next() < 0.5;
    case 3: return null;
    case 4: return r.pick(['dev', 'a-b', 'UPPER', '9lives', 'z'.repeat(64)]);
    case 5: return r.int(5);
    case 6: return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(KEYS), value(r, depth + 1)]));
  }
}

function validBody(op: string): Record<string, unknown> {
  switch (op) {
    case 'launch': case 'exec': return { clusterName: 'fuzz', task: { run: 'echo fuzz' } };
    case 'cancel_jobs': return { clusterName: 'fuzz', jobIds: [1] };
    case 'status': return {};
    case 'job_logs': return { clusterName: 'fuzz', jobId: 1 };
    default: return { clusterName: 'fuzz' };
  }
}

/** Randomly damages a valid body's object graph. */
function mutate(r: Rng, body: Record<string, unknown>): unknown {
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const rounds = 1 + r.int(3);
  for (let i = 0; i < rounds; i++) {
    const target = r.next() < 0.5 && typeof copy.task === 'object' && copy.task ? (copy.task as Record<string, unknown>) : copy;
    const keys = Object.keys(target);
    const action = r.int(3);
    if (action === 0 && keys.length > 0) delete target[r.pick(keys)];
    else if (action === 1 && keys.length > 0) target[r.pick(keys)] = value(r);
    else target[r.pick(KEYS)] = value(r);
  }
  return r.next() < 0.1 ? value(r) : copy;
}

/** Text that is not valid JSON. */
function brokenJson(r: Rng, text: string): string | Buffer {
  switch (r.int(5)) {
    case 0: return text.slice(0, Math.max(1, r.int(text.length)));
    case 1: { const i = r.int(text.length); return text.slice(0, i) + r.pick(['{', '}', '"', ',', ':', '\\', '\u0000', ']']) + text.slice(i); }
    case 2: return Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('}')]);
    case 3: return `${text}${text}`;
    default: return r.pick(['{', '{"a":', '[1,2', "{'a':1}", '{"a":1,}', 'NaN', '{"a":undefined}', '\u00ef\u00bb\u00bf{}x']);
  }
}

function isAccepted(op: string, text: string | Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString());
  } catch {
    return false;
  }
  if (op === 'cancel') return cancelBody.safeParse(parsed).success;
  const spec = (OPERATIONS as Record<string, { body: { safeParse(v: unknown): { success: boolean } } }>)[op];
  return spec !== undefined && spec.body.safeParse(parsed ?? {}).success;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const QUERY_KEYS = ['request_id', 'follow', 'tail', 'format', 'all', 'user', 'status', 'limit', 'cluster', 'wait', 'system', 'sig', 'x'];
const QUERY_VALUES = ['', '0', '1', '-1', 'true', 'NaN', '1e9', '601', '../../etc/passwd', '%00', '%ZZ', '%2F', 'PENDING', 'running', 'BOGUS', 'ffffffff-ffff', 'a'.repeat(100), '[]', '{}', 'plain', 'html'];

function query(r: Rng): string {
  const parts = Array.from({ length: r.int(5) }, () => {
    const key = r.next() < 0.9 ? r.pick(QUERY_KEYS) : encodeURIComponent(r.pick(STRINGS));
    const v = r.pick(QUERY_VALUES);
    // wait must never make the server hold a fuzz call for long.
    return `${key}=${key === 'wait' ? r.pick(['-1', 'NaN', '601', 'abc', '0']) : v}`;
  });
  return parts.length ? `?${parts.join('&')}` : r.pick(['', '?', '?&&', '?=', '?a=1&a=2']);
}

function generate(r: Rng, token: string): Call {
  const headers: Record<string, string> = r.next() < 0.95 ? { authorization: `Bearer ${token}` } : {};
  const ops = [...Object.keys(OPERATIONS), 'cancel'];
  if (r.next() < 0.55) {
    const op = r.pick(ops);
    const path = op === 'cancel' ? '/api/cancel' : `/api/v1/${op}`;
    let body: string | Buffer;
    const seedBody = op === 'cancel' ? { requestIds: ['ffffffff'] } : validBody(op);
    do {
      const shaped = JSON.stringify(mutate(r, seedBody)) ?? 'null';
      body = r.next() < 0.4 ? brokenJson(r, shaped) : shaped;
    } while (isAccepted(op, body));
    headers['content-type'] = r.next() < 0.9 ? 'application/json' : r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data']);
    return { method: 'POST', path: r.next() < 0.05 ? `/api/v1/${r.pick(['nope', '..%2Flaunch', 'LAUNCH', '__proto__', 'constructor'])}` : path, headers, body };
  }
  const id = r.pick(['../x', 'zz', 'ffffffffffff', '%2e%2e', 'FFFFFFFF-0000', 'abc/def', '0000-', '-', '1'.repeat(40)]);
  const path = r.pick(['/api/requests', `/api/requests/${encodeURIComponent(id)}`, '/api/stream', '/api/clusters', `/api/clusters/${encodeURIComponent(r.pick(STRINGS))}/jobs`, '/api/health', '/metrics', '/api/nope']);
  // A short hex request_id may name a real running request, which a stream would rightly follow forever.
  const q = query(r);
  return { method: 'GET', path: `${path}${q}${path === '/api/stream' ? `${q.length > 1 ? '&' : '?'}follow=0` : ''}`, headers };
}

describe('fuzzing the API', () => {
  let server: TestServer;
  let token: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  before(async () => {
    server = await startServer();
    token = readFileSync(path.join(server.dataDir, 'local-token'), 'utf8').trim();
  });
  after(async () => {
    agent.destroy();
    await server.dispose();
  });

  const send = (call: Call) =>
    new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const req = http.request({ host: hostname, port, method: call.method, path: call.path, headers: call.headers, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.end(call.body);
    });

  const snapshot = async () => {
    const get = async (p: string) => (await fetch(server.url + p, { headers: { authorization: `Bearer ${token}` } })).json();
    const requests = ((await get('/api/requests?all=1&limit=100000')) as { requests: { id: string; user: { name: string }; status: string }[] }).requests.filter((r) => r.user.name !== 'skydeck-system');
    return JSON.stringify({ requests, clusters: await get('/api/clusters') });
  };

  it(`answers ${CALLS} malformed calls without a 5xx, stays up and changes nothing (seed ${SEED})`, async () => {
    const seedRequest = await server.submit('status', {});
    await server.waitFor(seedRequest);
    const before = await snapshot();
    const r = random(SEED);
    const statuses = new Map<number, number>();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CALLS) {
          next++;
          const call = generate(r, token);
          let status: number;
          try {
            status = await send(call);
          } catch (err) {
            throw new Error(`seed ${SEED}: ${call.method} ${call.path} ${String(call.body).slice(0, 200)}: ${(err as Error).message}\n${server.output().slice(-2000)}`);
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          assert.ok(status >= 200 && status < 500, `seed ${SEED}: ${call.method} ${call.path} ${String(call.body).slice(0, 300)} answered ${status}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(`fuzz: ${CALLS} calls in ${seconds.toFixed(1)} s (${Math.round(CALLS / seconds)}/s), seed ${SEED}, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    assert.equal(server.process.exitCode, null, 'the server is still running');
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    assert.equal(await snapshot(), before, 'the store is unchanged');
    assert.doesNotMatch(server.output(), /internal error/);
    const accepted = [...statuses].filter(([s]) => s === 202).reduce((n, [, c]) => n + c, 0);
    assert.equal(accepted, 0, 'no malformed call was accepted as a request');
  });
});
