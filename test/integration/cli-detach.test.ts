// Ctrl+C while the CLI streams a request detaches: nothing is cancelled, and the hints printed are right.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiRequest, RequestSummary } from '../../protocol/model';
import { disposeWithWork, runCli, spawnCli } from '../helpers/cli';
import { startServer, type TestServer } from '../helpers/server';

describe('Ctrl+C while streaming', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => disposeWithWork(server));

  it('leaves the request running, prints how to reattach, follow in a browser and cancel, and exits 130', async (t) => {
    const cli = spawnCli(server, ['launch', '-c', 'detach', '-y', 'echo tick-1; sleep 1.5; echo tick-2; sleep 0.5; echo tick-3']);
    t.after(() => cli.dispose());
    await cli.waitForOutput(/tick-1/);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    assert.equal(run.code, 130, run.stderr);

    const { body } = await server.json<{ requests: RequestSummary[] }>('/api/requests?all=1');
    const request = body.requests.find((r) => r.clusterName === 'detach')!;
    assert.equal(request.status, 'RUNNING', 'the request carries on after the client left');
    const id8 = request.id.slice(0, 8);
    assert.equal(run.stderr.match(/continues in the background/g)?.length, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`Request ${id8} \\(launch\\) continues in the background; nothing was cancelled\\.`));
    assert.match(run.stderr, new RegExp(`skydeck api logs ${id8}\\b`));
    assert.match(run.stderr, new RegExp(`skydeck api cancel ${id8}\\b`));
    const browserUrl = new RegExp(`(http://\\S+/api/stream\\?request_id=\\S+)`).exec(run.stderr)?.[1];
    assert.ok(browserUrl?.startsWith(`${server.url}/api/stream?request_id=${request.id}`), browserUrl);
    assert.doesNotMatch(run.stdout, /tick-3/);

    const done = await server.waitFor(request.id);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal((done.result as { exitCode: number }).exitCode, 0);

    // The printed hints work: the reattach command replays the whole log, the browser URL serves it.
    const reattach = await runCli(server, ['api', 'logs', id8]);
    assert.equal(reattach.code, 0, reattach.stderr);
    assert.match(reattach.stdout, /tick-1\n(.*\n)*tick-2\n(.*\n)*tick-3/);
    // A browser has no token: the link alone must open this log.
    const page = await fetch(browserUrl!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /tick-3/);
  });

  it('Ctrl+C during api logs detaches the same way, and the request can then be cancelled with the printed command', async (t) => {
    const id = (await runCli(server, ['launch', '-c', 'detach', '-y', '--async', 'echo waiting; sleep 60'])).stdout.trim();
    const cli = spawnCli(server, ['api', 'logs', id.slice(0, 8)]);
    t.after(() => cli.dispose());
    await cli.waitForOutput(/waiting/);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    assert.equal(run.code, 130);
    assert.equal((await server.json<ApiRequest>(`/api/requests/${id}`)).body.status, 'RUNNING');
    const cancelCommand = /skydeck (api cancel \S+)/.exec(run.stderr)![1]!.split(' ');
    const cancel = await runCli(server, cancelCommand);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal((await server.waitFor(id)).status, 'CANCELLED');
  });
});
