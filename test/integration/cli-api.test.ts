// `skydeck api status | logs | cancel | info` as a real process against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestSummary } from '../../protocol/model';
import { disposeWithWork, runCli } from '../helpers/cli';
import { eventually, startServer, type TestServer } from '../helpers/server';

describe('skydeck api', () => {
  let server: TestServer;
  let finishedId: string;
  let runningId: string;

  before(async () => {
    server = await startServer();
    const finished = await runCli(server, ['launch', '-c', 'apic', '-y', '--async', 'for i in 1 2 3 4 5; do echo "line $i"; done']);
    finishedId = finished.stdout.trim();
    await server.waitFor(finishedId);
    const running = await runCli(server, ['launch', '-c', 'apic', '-y', '--async', 'echo started; sleep 60']);
    runningId = running.stdout.trim();
    await eventually(async () => (await server.json<{ status: string }>(`/api/requests/${runningId}`)).body.status === 'RUNNING', 15_000, 'RUNNING');
  });
  after(() => disposeWithWork(server));

  it('api status lists ongoing requests as ID, USER, NAME, CLUSTER, CREATED, STATUS', async () => {
    const run = await runCli(server, ['api', 'status'], { env: { SKYDECK_USER: 'carol' } });
    assert.equal(run.code, 0, run.stderr);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    assert.match(header!, /^ID\s+USER\s+NAME\s+CLUSTER\s+CREATED\s+STATUS$/);
    const row = rows.find((r) => r.startsWith(runningId.slice(0, 8)));
    assert.ok(row, run.stdout);
    assert.match(row, /^[0-9a-f]{8}\s+\S+\s+launch\s+apic\s+(just now|\d+s ago)\s+RUNNING$/);
    assert.ok(!run.stdout.includes(finishedId.slice(0, 8)), 'finished requests only with -a');
  });

  it('api status -a includes finished requests, and --json gives full records', async () => {
    const all = await runCli(server, ['api', 'status', '-a']);
    assert.match(all.stdout, new RegExp(`${finishedId.slice(0, 8)}.*SUCCEEDED`));
    const json = await runCli(server, ['api', 'status', '-a', '--json']);
    const requests = JSON.parse(json.stdout) as RequestSummary[];
    assert.ok(requests.some((r) => r.id === finishedId && r.status === 'SUCCEEDED'));
    assert.ok(requests.some((r) => r.id === runningId && r.status === 'RUNNING'));
    const one = await runCli(server, ['api', 'status', finishedId.slice(0, 6), '--json']);
    assert.deepEqual((JSON.parse(one.stdout) as RequestSummary[]).map((r) => r.id), [finishedId]);
  });

  it('api logs with an id prefix replays a finished log and exits with its job exit code', async () => {
    const run = await runCli(server, ['api', 'logs', finishedId.slice(0, 5)]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /line 1\nline 2\nline 3\nline 4\nline 5\n/);
  });

  it('api logs --tail N starts N lines from the end', async () => {
    const run = await runCli(server, ['api', 'logs', finishedId.slice(0, 8), '--tail', '2', '--no-follow']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, run.stdout);
    assert.doesNotMatch(run.stdout, /line 1/);
  });

  it('api logs --no-follow on a running request prints what is there and returns while it runs on', async () => {
    const run = await runCli(server, ['api', 'logs', runningId.slice(0, 8), '--no-follow'], { timeoutMs: 10_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /started/);
    assert.equal((await server.json<{ status: string }>(`/api/requests/${runningId}`)).body.status, 'RUNNING');
  });

  it('unknown and malformed ids are errors without a stack trace', async () => {
    const unknown = await runCli(server, ['api', 'logs', 'ffffffff']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: /);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    const malformed = await runCli(server, ['api', 'cancel', '../etc']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /not a request id/);
  });

  it('api info shows the endpoint, health, version and the user', async () => {
    const run = await runCli(server, ['api', 'info'], { env: { SKYDECK_USER: 'dora', SKYDECK_USER_ID: 'd0d0d0d0' } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`SkyDeck API server: ${server.url} \\(local; from SKYDECK_API_SERVER_ENDPOINT\\)`));
    assert.match(run.stdout, /Status: healthy, version \S+ \(commit \S+\), API version 1/);
    assert.match(run.stdout, /User: dora \(d0d0d0d0\)/);
    const json = JSON.parse((await runCli(server, ['api', 'info', '--json'])).stdout) as { endpoint: string; health: { status: string }; user: { id: string } };
    assert.equal(json.endpoint, server.url);
    assert.equal(json.health.status, 'healthy');
    assert.match(json.user.id, /^[0-9a-f]{8}$/);
  });

  it('api cancel ID cancels a running request; cancelling it again cancels nothing', async () => {
    const run = await runCli(server, ['api', 'cancel', runningId.slice(0, 8)]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `Cancelled 1 request: ${runningId.slice(0, 8)}`);
    assert.equal((await server.waitFor(runningId)).status, 'CANCELLED');
    const again = await runCli(server, ['api', 'cancel', runningId.slice(0, 8)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing was cancelled/);
  });

  it('api cancel -a cancels all ongoing requests', async () => {
    const ids = await Promise.all([1, 2].map(async () => (await runCli(server, ['launch', '-c', 'apid', '-y', '--async', 'sleep 60'])).stdout.trim()));
    const run = await runCli(server, ['api', 'cancel', '-a', '-y']);
    assert.equal(run.code, 0, run.stderr);
    for (const id of ids) assert.ok(run.stdout.includes(id.slice(0, 8)), run.stdout);
    for (const id of ids) assert.equal((await server.waitFor(id)).status, 'CANCELLED');
    const none = await runCli(server, ['api', 'status']);
    assert.match(none.stdout, /No ongoing requests/);
  });
});
