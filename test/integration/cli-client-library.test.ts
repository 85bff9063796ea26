// The client library the CLI and the extension share, against the real server: calls, errors, log streams,
// and the WebSocket connection with its reconnect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HEARTBEAT_MS, STREAM_HEARTBEAT, type ServerMessage } from '../../protocol/api';
import type { RequestStatus } from '../../protocol/model';
import { ApiClient } from '../../client/api-client';
import { withCredentials } from '../../client/auth/credentials';
import { parseEndpoint } from '../../client/endpoint';
import { ApiError, ConnectionError } from '../../client/errors';
import { LiveConnection, type LiveState } from '../../client/live';
import { disposeWithWork, freePort } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';

const USER = { id: 'c0ffee00', name: 'libtest' };

describe('client library', () => {
  let server: TestServer;
  let port: number;
  let client: ApiClient;
  before(async () => {
    port = await freePort();
    server = await startServer({ args: ['--port', String(port)] });
    client = new ApiClient({ endpoint: withCredentials(parseEndpoint(server.url, 'override'), server.home), user: USER, agent: 'skydeck-test' });
  });
  after(async () => {
    client.close();
    await disposeWithWork(server);
  });

  it('submits, long-polls the result and streams the whole log', async () => {
    const health = await client.health();
    assert.equal(health.status, 'healthy');
    const id = await client.submit('launch', { clusterName: 'lib', task: { run: 'echo one; echo two' } });
    const done = await client.waitForRequest(id.slice(0, 8));
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.user.name, 'libtest');
    let log = '';
    for await (const chunk of client.streamLog(id)) log += chunk;
    assert.match(log, /one\ntwo\n/);
    assert.ok(!log.includes('\0'));
    const listed = await client.listRequests({ all: true, cluster: 'lib' });
    assert.ok(listed.some((r) => r.id === id));
    assert.ok((await client.clusters()).some((c) => c.name === 'lib'));
    assert.equal((await client.jobs('lib'))[0]?.jobId, 1);
  });

  it('an aborted stream ends quietly and the request carries on', async () => {
    const id = await client.submit('launch', { clusterName: 'lib', task: { run: 'echo begin; sleep 30' } });
    const abort = new AbortController();
    let seen = '';
    for await (const chunk of client.streamLog(id, { signal: abort.signal })) {
      seen += chunk;
      if (seen.includes('begin')) abort.abort();
    }
    assert.equal((await client.getRequest(id)).status, 'RUNNING');
    assert.deepEqual(await client.cancel({ requestIds: [id.slice(0, 10)] }), [id]);
    assert.equal((await client.waitForRequest(id)).status, 'CANCELLED');
  });

  // The server checks for silence every third of HEARTBEAT_MS, so a heartbeat may take 4/3 of it to come.
  it('heartbeats on a silent stream are dropped from the text', async () => {
    const id = await client.submit('launch', { clusterName: 'beat', task: { run: `echo before; sleep ${(HEARTBEAT_MS * 4) / 3 / 1000 + 2}; echo after` } });
    const raw = (async () => {
      const res = await fetch(`${server.url}/api/stream?request_id=${id}&follow=1&format=plain`, { headers: server.headers() });
      return Buffer.from(await res.arrayBuffer()).toString('utf8');
    })();
    let text = '';
    for await (const chunk of client.streamLog(id)) text += chunk;
    assert.ok((await raw).includes(STREAM_HEARTBEAT), 'the server sent a heartbeat');
    assert.ok(!text.includes(STREAM_HEARTBEAT));
    assert.match(text, /before\n(.*\n)*after\n/);
  });

  it('server errors are ApiErrors with status and code; nothing listening is a ConnectionError', async () => {
    await assert.rejects(client.getRequest('ffffffff'), (err: unknown) => err instanceof ApiError && err.status === 404 && typeof err.code === 'string');
    await assert.rejects(
      client.submit('launch', { clusterName: 'lib', task: { resources: { cpus: 'lots' } } } as never),
      (err: unknown) => err instanceof ApiError && err.status === 400 && err.code === 'task_invalid' && Array.isArray(err.details),
    );
    const nowhere = new ApiClient({ endpoint: parseEndpoint(`http://127.0.0.1:${await freePort()}`, 'override'), user: USER });
    await assert.rejects(nowhere.health(), (err: unknown) => err instanceof ConnectionError && /^cannot reach the SkyDeck API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/.test(err.message));
  });

  it('the live connection delivers request events and log streams, and comes back after a server restart', async (t) => {
    const live = new LiveConnection(client, { minRetryMs: 50, maxRetryMs: 200 });
    t.after(() => live.close());
    const states: LiveState[] = [];
    live.onState(({ state }) => states.push(state));
    const messages: ServerMessage[] = [];
    live.onMessage((m) => messages.push(m));
    live.subscribeRequests();
    await eventually(() => messages.some((m) => m.type === 'requests-snapshot'), 10_000, 'a snapshot');

    const id = await client.submit('launch', { clusterName: 'lib', task: { run: 'echo live-1; sleep 0.3; echo live-2' } });
    let log = '';
    const ended = new Promise<RequestStatus>((resolve, reject) => live.followLog(id, { onData: (d) => (log += d), onEnd: resolve, onError: (m) => reject(new Error(m)) }));
    assert.equal(await ended, 'SUCCEEDED');
    assert.match(log, /live-1\n(.*\n)*live-2/);
    const statuses = () => messages.filter((m): m is Extract<ServerMessage, { type: 'request' }> => m.type === 'request' && m.request.id === id).map((m) => m.request.status);
    await eventually(() => statuses().at(-1) === 'SUCCEEDED', 5_000, 'the SUCCEEDED event');
    assert.ok(statuses().includes('RUNNING'), statuses().join());

    await server.stop();
    await eventually(() => live.current === 'reconnecting', 10_000, 'reconnecting');
    messages.length = 0;
    server = await startServer({ home: server.home, args: ['--port', String(port)] });
    await eventually(() => live.current === 'open', 10_000, 'open again');
    await eventually(() => messages.some((m) => m.type === 'requests-snapshot'), 10_000, 'a snapshot after reconnecting');
    // Each failed retry reports `reconnecting` again, with its reason.
    assert.deepEqual(
      states.filter((s, i) => s !== states[i - 1]),
      ['open', 'reconnecting', 'open'],
    );
  });
});
