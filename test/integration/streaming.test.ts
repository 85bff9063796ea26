import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../protocol/api';
import { startServer, type TestServer } from '../helpers/server';

describe('log streaming, WebSocket events and metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('follows a request log as it is written and ends when the request finishes', async () => {
    const id = await server.submit('launch', { clusterName: 'stream', task: { run: 'for i in 1 2 3 4 5; do echo "chunk $i at $(date +%s%3N)"; sleep 0.4; done' } });
    const res = await server.fetch(`/api/stream?request_id=${id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const arrivals: number[] = [];
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const piece = decoder.decode(chunk, { stream: true });
      for (const _ of piece.matchAll(/chunk \d at/g)) arrivals.push(Date.now());
      text += piece;
    }
    const lines = [...text.matchAll(/chunk (\d) at (\d+)/g)];
    assert.deepEqual(lines.map((m) => m[1]), ['1', '2', '3', '4', '5']);
    // Live, not all at the end: the first line reached this client before the job had written its last
    // (the job stamps each line with the time it wrote it; both clocks are this machine's). A causal check,
    // not a duration, so a loaded machine that delivers late but in order still passes.
    const lastWritten = Number(lines[4]![2]);
    assert.ok(arrivals[0]! < lastWritten, `the first line arrived ${arrivals[0]! - lastWritten} ms after the last was written`);
    assert.match(text, /succeeded/);
  });

  it('serves the tail of a finished log, and the whole log without follow', async () => {
    const id = await server.submit('launch', { clusterName: 'stream', task: { run: 'seq 1 100' } });
    await server.waitFor(id);
    const tail = await (await server.fetch(`/api/stream?request_id=${id}&tail=3&follow=0`)).text();
    assert.equal(tail.trimEnd().split('\n').length, 3);
    const whole = await (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
    for (let i = 1; i <= 100; i++) assert.ok(whole.includes(`\n${i}\n`), `line ${i}`);
    assert.equal((await server.fetch(`/api/stream?request_id=${id}&tail=-1`)).status, 400);
  });

  it('gives a browser a live page with a strict CSP', async () => {
    const id = await server.submit('status', {});
    const res = await server.fetch(`/api/stream?request_id=${id}`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
    const html = await res.text();
    assert.match(html, /format/);
    assert.match(html, new RegExp(id.slice(0, 8)));
  });

  it('pushes request events and log streams over the WebSocket', async () => {
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/api/ws', { headers: server.headers() });
    const messages: ServerMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    try {
      ws.send(JSON.stringify({ type: 'subscribe-requests' }));
      const until = async (pred: (m: ServerMessage) => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!messages.some(pred)) {
          if (Date.now() > deadline) throw new Error(`no ${what}; got ${JSON.stringify(messages).slice(0, 500)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until((m) => m.type === 'requests-snapshot', 'snapshot');
      const id = await server.submit('launch', { clusterName: 'wsc', task: { run: 'echo over-the-socket' } });
      await until((m) => m.type === 'request' && m.event === 'created' && m.request.id === id, 'created event');
      await until((m) => m.type === 'request' && m.request.id === id && m.request.status === 'RUNNING', 'RUNNING event');
      await until((m) => m.type === 'request' && m.request.id === id && m.request.status === 'SUCCEEDED', 'SUCCEEDED event');
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's1', requestId: id.slice(0, 8) }));
      await until((m) => m.type === 'log-end' && m.sub === 's1', 'log end');
      const chunks = messages.filter((m): m is Extract<ServerMessage, { type: 'log' }> => m.type === 'log' && m.sub === 's1');
      const logged = chunks.map((m) => m.data).join('');
      assert.match(logged, /over-the-socket/);
      // Offsets let a client resume exactly where it was: from the middle, the rest and nothing else.
      assert.equal(chunks.at(-1)!.offset, Buffer.byteLength(logged));
      const middle = Buffer.byteLength(logged.slice(0, logged.indexOf('over-the-socket')));
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's3', requestId: id, offset: middle }));
      await until((m) => m.type === 'log-end' && m.sub === 's3', 'log end of the resumed stream');
      const resumed = messages.filter((m): m is Extract<ServerMessage, { type: 'log' }> => m.type === 'log' && m.sub === 's3').map((m) => m.data).join('');
      assert.equal(resumed, logged.slice(logged.indexOf('over-the-socket')));
      ws.send('not json');
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's2', requestId: '../etc' }));
      await until((m) => m.type === 'error' && m.code === 'bad_message', 'error for bad JSON');
      await until((m) => m.type === 'error' && m.sub === undefined && /requestId/.test(m.message), 'error for a bad id');
    } finally {
      ws.close();
    }
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/api/elsewhere', { headers: server.headers() });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 400);
  });

  it('exposes Prometheus metrics', async () => {
    const id = await server.submit('status', {});
    await server.waitFor(id);
    const text = await (await server.fetch('/metrics')).text();
    assert.match(text, /^# TYPE skydeck_requests_finished_total counter$/m);
    assert.match(text, /skydeck_requests_finished_total\{name="status",status="SUCCEEDED"\} [1-9]/);
    assert.match(text, /skydeck_queue_depth 0/);
    assert.match(text, /^skydeck_log_followers \d+$/m);
    assert.match(text, /skydeck_request_duration_seconds_bucket\{name="launch",le="\+Inf"\} [1-9]/);
  });
});

describe('bad input gets a clear 4xx and loses nothing', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => server.fetch(path, { method: 'POST', body, headers });
  const errorOf = async (res: Response) => ({ status: res.status, body: (await res.json()) as { error: { code: string; message: string; details?: { path: string }[] } } });

  it('malformed JSON, wrong content type, oversized and deeply nested bodies', async () => {
    let e = await errorOf(await post('/api/v1/launch', '{"clusterName": "x", '));
    assert.equal(e.status, 400);
    assert.match(e.body.error.message, /not valid JSON/);
    e = await errorOf(await post('/api/v1/launch', '{}', { 'content-type': 'text/plain' }));
    assert.equal(e.status, 415);
    e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: 'big', task: { run: 'x'.repeat(2 * 1024 * 1024) } })));
    assert.equal(e.status, 413);
    e = await errorOf(await post('/api/v1/status', '['.repeat(100) + ']'.repeat(100)));
    assert.equal(e.status, 400);
    assert.match(e.body.error.message, /deeper/);
  });

  it('task errors name the key path; nothing is created', async () => {
    const before = (await server.json<{ requests: unknown[] }>('/api/requests?all=1')).body.requests.length;
    let e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: 'bad', task: { resources: { cpus: 'lots' } } })));
    assert.equal(e.status, 400);
    assert.equal(e.body.error.code, 'task_invalid');
    assert.equal(e.body.error.details![0]!.path, 'task.resources.cpus');
    e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: 'bad', task: { runn: 'echo' } })));
    assert.match(e.body.error.message, /runn/);
    e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: 'bad', task: { resources: { infra: 'aws' }, run: 'echo' } })));
    assert.equal(e.body.error.code, 'task_invalid');
    assert.equal(e.body.error.details![0]!.path, 'task.resources.infra');
    assert.match(e.body.error.message, /infra 'aws' is not enabled on this server \(enabled: local/);
    e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: 'bad', task: { envs: { TOKEN: null }, run: 'echo' } })));
    assert.match(e.body.error.message, /envs\.TOKEN/);
    e = await errorOf(await post('/api/v1/launch', JSON.stringify({ clusterName: '../etc', task: { run: 'echo' } })));
    assert.equal(e.status, 400);
    assert.match(e.body.error.message, /clusterName/);
    const afterCount = (await server.json<{ requests: unknown[] }>('/api/requests?all=1')).body.requests.length;
    assert.equal(afterCount, before);
    assert.equal((await server.json<{ clusters: unknown[] }>('/api/clusters')).body.clusters.length, 0);
  });

  it('a task that asks for more than the machine has fails before anything is created', async () => {
    const plan = await errorOf(await post('/api/plan', JSON.stringify({ task: { resources: { cpus: '4096' }, run: 'echo' } })));
    assert.equal(plan.status, 400);
    assert.equal(plan.body.error.code, 'resources_unavailable');
    assert.match(plan.body.error.message, /4096 CPUs; this machine has \d+/);
    const id = await server.submit('launch', { clusterName: 'huge', task: { num_nodes: 3, run: 'echo' } });
    const done = await server.waitFor(id);
    assert.equal(done.status, 'FAILED');
    assert.match(done.error!.message, /3 nodes; local infra has 1 node/);
    assert.equal((await server.json('/api/clusters/huge/jobs')).status, 404);
  });

  it('unknown routes and operations are 404 JSON, never a stack trace', async () => {
    const e = await errorOf(await post('/api/v1/explode', '{}'));
    assert.equal(e.status, 404);
    assert.doesNotMatch(JSON.stringify(e.body), /at .*\.js:\d+/);
    const r = await errorOf(await server.fetch('/nope'));
    assert.equal(r.status, 404);
    const stream = await errorOf(await server.fetch('/api/stream?request_id=zz%2F..%2F'));
    assert.equal(stream.status, 400);
  });
});
