// Managed jobs belong to their user on a team server: another user neither sees, follows nor cancels
// them (and may not list everyone's); an admin sees and cancels everyone's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ManagedJob } from '../../protocol/jobs';
import type { ApiRequest } from '../../protocol/model';
import { eventually, type TestServer } from '../helpers/server';
import { call, startTeamServer, type Account } from '../security/helpers';

describe('managed jobs on a team server', () => {
  let server: TestServer;
  let alice: Account;
  let bob: Account;
  let carol: Account;

  before(async () => {
    const team = await startTeamServer([
      { name: 'alice', role: 'user' },
      { name: 'bob', role: 'user' },
      { name: 'carol', role: 'admin' },
    ]);
    server = team.server;
    ({ alice, bob, carol } = team.accounts);
  });
  after(async () => {
    await call(server, '/api/v1/jobs.cancel', carol.authorization, { body: { all: true, allUsers: true } });
    await server.dispose();
  });

  const submit = async (who: Account, operation: string, body: unknown) => call<{ requestId?: string; error?: { code: string; message: string } }>(server, `/api/v1/${operation}`, who.authorization, { body });
  const done = async (who: Account, id: string) => (await call<ApiRequest>(server, `/api/requests/${id}?wait=30`, who.authorization)).body;
  const list = async (who: Account, allUsers = false) => (await call<{ jobs: ManagedJob[] }>(server, `/api/jobs${allUsers ? '?all_users=1' : ''}`, who.authorization)).body;

  it("only the owner or an admin sees, follows and cancels a managed job", async () => {
    const launched = await submit(alice, 'jobs.launch', { tasks: [{ resources: { infra: 'local' }, run: 'echo alice; sleep 60' }] });
    const request = await done(alice, launched.body.requestId!);
    assert.equal(request.status, 'SUCCEEDED', JSON.stringify(request.error));
    const id = (request.result as { jobId: number }).jobId;
    await eventually(async () => (await list(alice)).jobs.find((j) => j.id === id)?.status === 'RUNNING', 20_000, "alice's job to run");

    assert.deepEqual((await list(bob)).jobs, [], "bob's list is his own");
    assert.equal((await call(server, '/api/jobs?all_users=1', bob.authorization)).status, 403);
    assert.equal((await submit(bob, 'jobs.queue', { allUsers: true })).status, 403);
    const bobsCancel = await submit(bob, 'jobs.cancel', { jobIds: [id] });
    assert.equal(bobsCancel.status, 403);
    assert.match(bobsCancel.body.error!.message, /belongs to alice/);
    assert.equal((await submit(bob, 'jobs.logs', { jobId: id, follow: false })).status, 403);
    // Bob's "cancel all of mine" leaves alice's job alone.
    const mine = await done(bob, (await submit(bob, 'jobs.cancel', { all: true })).body.requestId!);
    assert.deepEqual(mine.result, { cancelled: [] });
    assert.equal((await list(alice)).jobs.find((j) => j.id === id)!.status, 'RUNNING');

    assert.ok((await list(carol, true)).jobs.some((j) => j.id === id), 'the admin sees everyone');
    const cancelled = await done(carol, (await submit(carol, 'jobs.cancel', { jobIds: [id] })).body.requestId!);
    assert.deepEqual(cancelled.result, { cancelled: [id] });
    await eventually(async () => (await list(alice)).jobs.find((j) => j.id === id)?.status === 'CANCELLED', 5000, 'the job to be CANCELLED');
  });
});
