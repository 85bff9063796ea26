// The CLI starts the local server itself when nothing answers at a loopback endpoint: once, under a lock.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { freePort, runCli, spawnCli, type CliTarget } from '../helpers/cli';
import { eventually, processAlive, processesWith } from '../helpers/server';

/** A temporary SKYDECK_HOME and a free loopback port; every server started under that home is killed afterwards. */
async function localTarget(t: TestContext): Promise<CliTarget & { dataDir: string; serverPids: () => number[] }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skydeck-autostart-'));
  const dataDir = path.join(home, 'server');
  const serverPids = () => processesWith(`--data-dir ${dataDir}`);
  t.after(() => {
    for (const pid of serverPids()) process.kill(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });
  return { home, url: `http://127.0.0.1:${await freePort()}`, dataDir, serverPids };
}

const serverInfo = (dataDir: string) => JSON.parse(readFileSync(path.join(dataDir, 'server.json'), 'utf8')) as { pid: number; url: string };

describe('local auto-start', () => {
  it('two CLIs racing start exactly one server; api stop stops it; the next command starts it again', async (t) => {
    const target = await localTarget(t);
    const runs = await Promise.all([runCli(target, ['api', 'status']), runCli(target, ['api', 'status']), runCli(target, ['status'])]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.ok(runs.some((r) => /Starting the local SkyDeck API server/.test(r.stderr)));

    const pids = target.serverPids();
    assert.equal(pids.length, 1, `exactly one server, got ${pids.join(', ')}`);
    const info = serverInfo(target.dataDir);
    assert.equal(info.pid, pids[0]);
    assert.equal(info.url, target.url);
    const log = readFileSync(path.join(target.dataDir, 'server.log'), 'utf8');
    assert.equal(log.match(/listening on/g)?.length, 1, log);
    assert.ok(!existsSync(path.join(target.dataDir, 'autostart.lock')), 'the lock is released');

    const stop = await runCli(target, ['api', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), `Stopped the local SkyDeck API server at ${target.url} (pid ${info.pid}).`);
    assert.ok(!processAlive(info.pid));
    assert.ok(!existsSync(path.join(target.dataDir, 'server.json')));
    const again = await runCli(target, ['api', 'stop']);
    assert.equal(again.stdout.trim(), 'No local SkyDeck API server is running.');

    const next = await runCli(target, ['api', 'info']);
    assert.equal(next.code, 0, next.stderr);
    const restarted = serverInfo(target.dataDir);
    assert.notEqual(restarted.pid, info.pid);
    assert.ok(processAlive(restarted.pid));
    assert.match(next.stdout, new RegExp(`Local server: pid ${restarted.pid}`));
    assert.equal((await runCli(target, ['api', 'stop'])).code, 0);
  });

  it('a server left dead with a stale lock and server.json is started afresh', async (t) => {
    const target = await localTarget(t);
    assert.equal((await runCli(target, ['api', 'start'])).code, 0);
    const first = serverInfo(target.dataDir);
    process.kill(first.pid, 'SIGKILL');
    await eventually(() => !processAlive(first.pid), 5_000, 'the server to die');
    // A client that died while starting the server left its lock behind.
    writeFileSync(path.join(target.dataDir, 'autostart.lock'), JSON.stringify({ pid: 999_999_999, createdAt: Date.now() }));
    const run = await runCli(target, ['api', 'status']);
    assert.equal(run.code, 0, run.stderr);
    const second = serverInfo(target.dataDir);
    assert.notEqual(second.pid, first.pid);
    assert.deepEqual(target.serverPids(), [second.pid]);
  });

  it('api start says when the server is already running', async (t) => {
    const target = await localTarget(t);
    const start = await runCli(target, ['api', 'start']);
    assert.equal(start.code, 0, start.stderr);
    const { pid } = serverInfo(target.dataDir);
    assert.match(start.stdout, new RegExp(`SkyDeck API server started at ${target.url} \\(pid ${pid}\\)`));
    const again = await runCli(target, ['api', 'start']);
    assert.equal(again.stdout.trim(), `SkyDeck API server is already running at ${target.url} (pid ${pid}).`);
    assert.deepEqual(target.serverPids(), [pid]);
  });

  it('api start --foreground runs the server attached to the terminal until it is told to stop', async (t) => {
    const target = await localTarget(t);
    const cli = spawnCli(target, ['api', 'start', '--foreground']);
    t.after(() => cli.dispose());
    await cli.waitForOutput(/listening on/);
    assert.equal((await runCli(target, ['api', 'status'])).code, 0);
    cli.child.kill('SIGTERM');
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(target.serverPids(), []);
  });

  it("never starts a second server on the same SKYDECK_HOME when its server runs on another port", async (t) => {
    const target = await localTarget(t);
    assert.equal((await runCli(target, ['api', 'start'])).code, 0);
    const { pid, url } = serverInfo(target.dataDir);
    const elsewhere = { ...target, url: `http://127.0.0.1:${await freePort()}` };
    const run = await runCli(elsewhere, ['api', 'status']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^Error: the SkyDeck API server of .* is already running at ${url} \\(pid ${pid}\\)`, 'm'));
    assert.deepEqual(target.serverPids(), [pid]);
  });

  it('a server that cannot start is reported with the end of its log', async (t) => {
    const target = await localTarget(t);
    // Something that is not a SkyDeck server holds the port and never answers HTTP.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(target.url).port), '127.0.0.1', resolve));
    t.after(() => squatter.close());
    const run = await runCli(target, ['api', 'status']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: the local API server exited with code \d+; last lines of .*server\.log:\n(.*\n)*.*already in use/m);
    assert.deepEqual(target.serverPids(), []);
  });
});
