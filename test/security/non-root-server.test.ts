// A team server run as an OS user of its own, not root, with the five capabilities docs/deploy.md gives
// it, started the way that doc says without systemd (setpriv from root): a member's local job runs
// under a uid of its own (neither the server's nor root's), with no capabilities, and cannot read the
// data dir; down stops what it left running and removes its sandbox. Without the capabilities the
// server refuses --team-local-infra and prints the command that fixes it: the one the doc gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiRequest } from '../../protocol/model';
import { eventually, processAlive, startServer, type TestServer } from '../helpers/server';
import { anotherOsUser, basic, call, type Account, type OtherUser } from './helpers';

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_KILL, CAP_SETGID, CAP_SETUID: as docs/deploy.md writes them for setpriv. */
const CAPS = '+chown,+dac_override,+kill,+setgid,+setuid';
const CAP_BITS = (1n << 0n) | (1n << 1n) | (1n << 5n) | (1n << 6n) | (1n << 7n);

const capsOf = (pid: number | 'self', set: 'CapEff' | 'CapBnd') => BigInt(`0x${new RegExp(`${set}:\\s*([0-9a-f]+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`);
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

function unsupported(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (useradd, setpriv)';
  if (!/--ambient-caps/.test(spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout ?? '')) return 'needs setpriv with --ambient-caps (util-linux 2.31+)';
  if ((capsOf('self', 'CapBnd') & CAP_BITS) !== CAP_BITS) return 'the capabilities are outside this machine\'s bounding set';
  return undefined;
}

describe('a team server run as a non-root user with capabilities (--team-local-infra)', { skip: unsupported() }, () => {
  let other: OtherUser;
  let server: TestServer | undefined;
  let bob: Account;
  let sandboxParent: string;
  let sandboxes: string;
  let argsOfServer: string[];
  let asServerUser: string[];
  const firstUid = 1_900_000_000 + Math.floor(Math.random() * 60_000) * 1000;
  const jobUids = { first: firstUid, last: firstUid + 999 };

  before(() => {
    other = anotherOsUser()!;
    const gid = spawnSync('id', ['-g', other.name], { encoding: 'utf8' }).stdout.trim();
    asServerUser = [`--reuid=${other.name}`, `--regid=${gid}`, '--init-groups'];
    // The accounts, made as the doc says: as the server's user, in the default data dir of its SKYDECK_HOME.
    for (const [name, role] of [['alice', 'admin'], ['bob', 'user']]) {
      const r = spawnSync('setpriv', [...asServerUser, '--', ...env(), process.execPath, other.serverJs, 'users', 'add', name, '--role', role, '--password-stdin'], { input: `${name}-password\n`, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    bob = { name: 'bob', password: 'bob-password', authorization: basic('bob', 'bob-password') };
    // The sandbox folder, set up with the doc's command (in a folder of the test's, searchable by all).
    sandboxParent = mkdtempSync(path.join(os.tmpdir(), 'skydeck-jobs-'));
    chmodSync(sandboxParent, 0o755);
    sandboxes = path.join(sandboxParent, 'sandboxes');
    const setup = spawnSync('sh', ['-c', `mkdir -p ${sandboxes} && chown ${other.name} ${sandboxes} && chmod 711 ${sandboxes}`], { encoding: 'utf8' });
    assert.equal(setup.status, 0, setup.stderr);
    argsOfServer = ['--team-local-infra', '--job-sandboxes', sandboxes, '--job-uids', `${jobUids.first}-${jobUids.last}`];
  });

  after(async () => {
    await server?.dispose();
    // Whatever a job uid of this test still runs (a failed assertion may have left one).
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      try {
        if (Number.isInteger(pid) && uidOf(pid) >= jobUids.first && uidOf(pid) <= jobUids.last) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(sandboxParent, { recursive: true, force: true });
    other?.dispose();
  });

  const env = () => ['env', `HOME=${other.home}`, `SKYDECK_HOME=${other.home}`];
  const serverArgv = () => [process.execPath, other.serverJs, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(other.home, 'server'), ...argsOfServer];

  it('without the capabilities, refuses to start and prints the setpriv command that gives them', () => {
    const r = spawnSync('setpriv', [...asServerUser, '--', ...env(), ...serverArgv()], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot switch uids \(missing CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_KILL, CAP_SETGID, CAP_SETUID\)/);
    assert.match(r.stderr, /AmbientCapabilities=CAP_CHOWN CAP_DAC_OVERRIDE CAP_KILL CAP_SETGID CAP_SETUID/);
    const fix = /start it as root with\n {2}(.*)\n/.exec(r.stderr)?.[1];
    assert.equal(fix, ['setpriv', ...asServerUser, `--inh-caps=${CAPS}`, `--ambient-caps=${CAPS}`, '--', ...env(), ...serverArgv()].join(' '), r.stderr);
  });

  it('with them (that command), runs as its user holding exactly those capabilities', async () => {
    server = await startServer({
      home: other.home,
      args: argsOfServer,
      launcher: { prefix: ['setpriv', ...asServerUser, `--inh-caps=${CAPS}`, `--ambient-caps=${CAPS}`, '--', ...env()], serverJs: other.serverJs },
    });
    const pid = server.process.pid!;
    const uid = Number(spawnSync('id', ['-u', other.name], { encoding: 'utf8' }).stdout.trim());
    assert.equal(uidOf(pid), uid, 'the server runs as its OS user');
    assert.equal(capsOf(pid, 'CapEff'), CAP_BITS, 'with those five capabilities and no other');
    assert.equal((await call(server, '/api/health', undefined)).status, 200);
  });

  it("runs a member's job under a uid of its own, without capabilities, kept out of the data dir; down stops what it left and removes its sandbox", async (t) => {
    if (!server) return t.skip('the server did not start');
    const data = server.dataDir;
    const probe = ['users.json', 'state.json', 'tokens.json'].map((f) => `if cat ${data}/${f} >/dev/null 2>&1; then echo "LEAK ${f}"; else echo "DENIED ${f}"; fi`);
    const run = [
      'echo "uid $(id -u) gid $(id -g) groups $(id -G)"',
      'grep CapEff /proc/self/status',
      ...probe,
      `if ls ${data} >/dev/null 2>&1; then echo "LEAK ls"; else echo "DENIED ls"; fi`,
      // A process left behind, outside the job's session: down must stop it too (CAP_KILL).
      'setsid sleep 600 </dev/null >/dev/null 2>&1 & echo "left $!"',
    ].join('\n');
    const launched = await call<{ requestId: string }>(server, '/api/v1/launch', bob.authorization, { body: { clusterName: 'bobs', task: { run } } });
    assert.equal(launched.status, 202, JSON.stringify(launched.body));
    const done = (await call<ApiRequest>(server, `/api/requests/${launched.body.requestId}?wait=60`, bob.authorization)).body;
    const log = await (await fetch(`${server.url}/api/stream?request_id=${launched.body.requestId}&follow=0&format=plain`, { headers: { authorization: bob.authorization } })).text();
    assert.equal(done.status, 'SUCCEEDED', log);

    const [, jobUid, jobGid, groups] = /^uid (\d+) gid (\d+) groups (.*)$/m.exec(log)!.map(String);
    const serverUid = uidOf(server.process.pid!);
    assert.ok(Number(jobUid) >= jobUids.first && Number(jobUid) <= jobUids.last, `job uid ${jobUid} from --job-uids`);
    assert.notEqual(Number(jobUid), serverUid, "not the server's uid");
    assert.notEqual(Number(jobUid), 0, 'not root');
    assert.equal(jobGid, jobUid, 'its own gid');
    assert.equal(groups.trim(), jobUid, 'no supplementary groups');
    assert.match(log, /^CapEff:\s+0+$/m, 'no capabilities');
    for (const what of ['users.json', 'state.json', 'tokens.json', 'ls']) assert.match(log, new RegExp(`^DENIED ${what}$`, 'm'), log);
    assert.doesNotMatch(log, /LEAK/);

    const sandbox = path.join(sandboxes, 'bobs');
    const st = statSync(sandbox);
    assert.equal(st.uid, Number(jobUid), 'the sandbox is the job uid\'s');
    assert.equal(st.mode & 0o777, 0o700);
    const left = Number(/^left (\d+)$/m.exec(log)![1]);
    assert.equal(uidOf(left), Number(jobUid), 'the left-behind process runs as the job uid');

    const down = await call<{ requestId: string }>(server, '/api/v1/down', bob.authorization, { body: { clusterName: 'bobs' } });
    assert.equal(down.status, 202);
    const downDone = (await call<ApiRequest>(server, `/api/requests/${down.body.requestId}?wait=60`, bob.authorization)).body;
    assert.equal(downDone.status, 'SUCCEEDED', JSON.stringify(downDone.error));
    await eventually(() => !processAlive(left), 10_000, 'the left-behind process to be stopped');
    assert.equal(existsSync(sandbox), false, 'the sandbox is removed');
  });
});
