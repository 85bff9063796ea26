// SSH node pools and Slurm through the real API server (dist/server.js): launch, cancel, and a server
// killed with -9 mid-job, against the lab's sshd hosts and Slurm cluster (through its commands, and
// through slurmrestd).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { InfraListResponse } from '../../protocol/infra';
import { isRequestFinished, type ApiRequest } from '../../protocol/model';
import { startServer, type TestServer } from '../helpers/server';
import { lab, pgrepOn, sh, slurmConfigYaml, waitFor, writePools, type SlurmTransportKind } from './lab';

/** A SKYDECK_HOME holding the lab's SSH pool and Slurm cluster, and a server on it. */
async function serverOnLab(slurmTransport: SlurmTransportKind = 'commands'): Promise<TestServer> {
  const home = mkdtempSync(join(os.tmpdir(), 'skydeck-itest-'));
  writePools(home);
  writeFileSync(join(home, 'config.yaml'), slurmConfigYaml(join(home, 'slurm-shared'), slurmTransport));
  return startServer({ home });
}

const logOf = async (server: TestServer, id: string) => (await server.fetch(`/api/stream?request_id=${id}&follow=0`)).text();
const jobOf = async (server: TestServer, cluster: string, jobId = 1) =>
  (await server.json<{ jobs: { jobId: number; status: string; exitCode?: number }[] }>(`/api/clusters/${cluster}/jobs`)).body.jobs.find((j) => j.jobId === jobId);
const squeue = async () => (await sh('squeue', ['-h', '-o', '%i'], { SLURM_CONF: lab.slurmConf })).stdout.trim();

/**
 * The request once it has finished. Asks again when the server's long poll answers early (its wait
 * also ends when the HTTP request object closes, which Node may report before the client goes away).
 */
async function finished(server: TestServer, id: string, seconds: number): Promise<ApiRequest> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const request = await server.waitFor(id, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));
    if (isRequestFinished(request.status) || Date.now() > deadline) return request;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function down(server: TestServer, clusterName: string): Promise<void> {
  const done = await finished(server, await server.submit('down', { clusterName }), 60);
  assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.error));
}

/** Whether the server bundle offers the lab infra; the first test finds out and fails loudly if not. */
let labInfraOffered = true;
const NOT_OFFERED = 'the server does not offer the lab infra (see the first test)';

const twoNodeRun = 'echo "rank=$SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES ips=$(echo "$SKYPILOT_NODE_IPS" | paste -sd,)"';

describe('SSH node pools and Slurm through the API server', () => {
  it('lists the lab infra as usable', async () => {
    const server = await serverOnLab();
    try {
      const { body } = await server.json<{ infra: { infra: string; enabled: boolean }[] }>('/api/infra');
      const enabled = body.infra.filter((i) => i.enabled).map((i) => i.infra);
      labInfraOffered = enabled.includes('ssh/lab') && enabled.includes('slurm/debug');
      assert.ok(
        enabled.includes('ssh/lab') && enabled.includes('slurm/debug'),
        `the server does not offer ssh/lab and slurm/debug (${JSON.stringify(body)}): dist/server.js needs the ssh and slurm backends in createBackends() and ssh2's native addons left out of the bundle (docs/infra.md, "The server bundle")`,
      );
    } finally {
      await server.dispose();
    }
  });

  for (const [infra, ips] of [
    ['ssh/lab', () => lab.sshHosts.slice(0, 2).join(',')],
    ['slurm', () => lab.slurmAddrs.slice(0, 2).join(',')],
  ] as const) {
    it(`launches a 2-node task on ${infra}: the considered table, every rank and the node IPs in the request log`, async (t) => {
      if (!labInfraOffered) return t.skip(NOT_OFFERED);
      const server = await serverOnLab();
      const clusterName = `e2e-${infra.split('/')[0]}`;
      try {
        const id = await server.submit('launch', { clusterName, task: { num_nodes: 2, resources: { infra }, run: twoNodeRun } });
        const done = await finished(server, id, 60);
        const log = await logOf(server, id);
        assert.equal(done.status, 'SUCCEEDED', `${JSON.stringify(done.error)}\n${log}`);
        assert.match(log, /Considered resources:/);
        assert.match(log, new RegExp(`^${infra === 'slurm' ? 'slurm/debug' : 'ssh/lab'}\\s+2\\s.*✔`, 'm'));
        assert.match(log, new RegExp(`^\\(head, rank=0\\) rank=0 of 2 ips=${ips()}$`, 'm'));
        assert.match(log, new RegExp(`^\\(node-1, rank=1\\) rank=1 of 2 ips=${ips()}$`, 'm'));
        await down(server, clusterName);
      } finally {
        await server.dispose();
      }
    });
  }

  it('places a 2-node task with no infra named on the SSH pool, with Slurm considered too', async (t) => {
    if (!labInfraOffered) return t.skip(NOT_OFFERED);
    const server = await serverOnLab();
    try {
      const id = await server.submit('launch', { clusterName: 'e2e-choice', task: { num_nodes: 2, run: 'echo placed' } });
      const done = await finished(server, id, 60);
      const log = await logOf(server, id);
      assert.equal(done.status, 'SUCCEEDED', log);
      assert.match(log, /^ssh\/lab\s+2\s.*✔$/m);
      assert.match(log, /^slurm\/debug\s+2\s/m);
      assert.match(log, /^\(node-1, rank=1\) placed$/m);
      await down(server, 'e2e-choice');
    } finally {
      await server.dispose();
    }
  });

  it('refuses a task no enabled infra can hold, before creating anything, with the reason per infra', async (t) => {
    if (!labInfraOffered) return t.skip(NOT_OFFERED);
    const server = await serverOnLab();
    try {
      const id = await server.submit('launch', { clusterName: 'too-big', task: { num_nodes: 8, run: 'true' } });
      const done = await finished(server, id, 30);
      assert.equal(done.status, 'FAILED');
      assert.match(done.error!.message, /ssh\/lab: asked for 8 nodes/);
      assert.match(done.error!.message, /slurm\/debug: asked for 8 nodes/);
      const clusters = await server.json<{ clusters: { name: string }[] }>('/api/clusters');
      assert.ok(!clusters.body.clusters.some((c) => c.name === 'too-big'));
    } finally {
      await server.dispose();
    }
  });

  for (const infra of ['ssh/lab', 'slurm']) {
    it(`stop and start of a cluster on ${infra} are refused before anything is cancelled: its running job goes on`, async (t) => {
      if (!labInfraOffered) return t.skip(NOT_OFFERED);
      const server = await serverOnLab();
      const clusterName = `e2e-nostop-${infra.split('/')[0]}`;
      try {
        const id = await server.submit('launch', { clusterName, task: { num_nodes: 2, resources: { infra }, run: 'echo started; sleep 600' } });
        await waitFor('both nodes to start', async () => ((await logOf(server, id)).match(/started/g) ?? []).length === 2, 30_000);
        const cluster = (await server.json<{ clusters: { name: string; canStop?: boolean }[] }>('/api/clusters')).body.clusters.find((c) => c.name === clusterName);
        assert.equal(cluster?.canStop, false, 'clients are told not to offer stop');
        for (const op of ['stop', 'start']) {
          const refused = await server.json<{ error: { code: string; message: string } }>(`/api/v1/${op}`, { method: 'POST', body: JSON.stringify({ clusterName }) });
          assert.equal(refused.status, 400, JSON.stringify(refused.body));
          assert.match(refused.body.error.message, new RegExp(`cluster ${clusterName} is on ${infra === 'slurm' ? 'slurm/debug' : 'ssh/lab'}: .*(cannot be stopped|nothing to stop).*; use down`));
        }
        assert.equal((await server.waitFor(id, 1)).status, 'RUNNING', 'the launch was cancelled');
        assert.equal((await jobOf(server, clusterName))?.status, 'RUNNING', 'the job was cancelled');
      } finally {
        // Also when an assertion failed: the job would hold the lab's nodes for the tests after this one.
        await down(server, clusterName).catch(() => undefined);
        await server.dispose();
      }
    });
  }

  it('cancelling a launch on ssh/lab stops the job on every host', async (t) => {
    if (!labInfraOffered) return t.skip(NOT_OFFERED);
    const server = await serverOnLab();
    try {
      const id = await server.submit('launch', { clusterName: 'e2e-cancel', task: { num_nodes: 2, resources: { infra: 'ssh/lab' }, run: 'echo started; exec -a "sdk-e2e-cancel-$SKYPILOT_NODE_RANK" sleep 600' } });
      await waitFor('both nodes to start', async () => ((await logOf(server, id)).match(/started/g) ?? []).length === 2, 30_000);
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [id] }) });
      const done = await finished(server, id, 30);
      assert.equal(done.status, 'CANCELLED');
      for (const ip of lab.sshHosts) assert.deepEqual(await pgrepOn(ip, 'sdk-e2e-cancel-'), [], `left on ${ip}`);
      await waitFor('the job to be recorded CANCELLED', async () => (await jobOf(server, 'e2e-cancel'))?.status === 'CANCELLED', 10_000);
      await down(server, 'e2e-cancel');
    } finally {
      await server.dispose();
    }
  });

  it('cancelling a launch on slurm empties the Slurm queue', async (t) => {
    if (!labInfraOffered) return t.skip(NOT_OFFERED);
    const server = await serverOnLab();
    try {
      const id = await server.submit('launch', { clusterName: 'e2e-scancel', task: { num_nodes: 2, resources: { infra: 'slurm' }, run: 'echo started; sleep 600' } });
      await waitFor('both nodes to start', async () => ((await logOf(server, id)).match(/started/g) ?? []).length === 2, 30_000);
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [id] }) });
      const done = await finished(server, id, 30);
      assert.equal(done.status, 'CANCELLED');
      await waitFor('an empty Slurm queue', async () => (await squeue()) === '', 10_000);
      await down(server, 'e2e-scancel');
    } finally {
      await server.dispose();
    }
  });

  it('launches a 2-node task on slurm through slurmrestd, and cancelling it empties the Slurm queue', async (t) => {
    if (!labInfraOffered) return t.skip(NOT_OFFERED);
    const server = await serverOnLab('rest');
    const restLog = join(lab.dir, 'slurm', 'log', 'slurmrestd.out');
    const restLogFrom = statSync(restLog).size;
    try {
      const { body } = await server.json<InfraListResponse>('/api/infra');
      const debug = body.infra.find((i) => i.infra === 'slurm/debug');
      assert.deepEqual([debug?.enabled, debug?.reason], [true, `via slurmrestd at ${lab.slurmRestUrl} (JWT, user root)`]);
      const id = await server.submit('launch', { clusterName: 'e2e-rest', task: { num_nodes: 2, resources: { infra: 'slurm' }, run: `${twoNodeRun}; echo started; sleep 600` } });
      await waitFor('both nodes to start', async () => ((await logOf(server, id)).match(/started/g) ?? []).length === 2, 30_000);
      const log = await logOf(server, id);
      const ips = lab.slurmAddrs.slice(0, 2).join(',').replace(/\./g, '\\.');
      assert.match(log, new RegExp(`^\\(head, rank=0\\) rank=0 of 2 ips=${ips}$`, 'm'));
      assert.match(log, new RegExp(`^\\(node-1, rank=1\\) rank=1 of 2 ips=${ips}$`, 'm'));
      assert.match(readFileSync(restLog, 'utf8').slice(restLogFrom), /POST \/slurm\/v0\.0\.38\/job\/submit/, 'the job was not submitted through slurmrestd');
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [id] }) });
      const done = await finished(server, id, 30);
      assert.equal(done.status, 'CANCELLED');
      assert.equal(await squeue(), '');
      assert.match(readFileSync(restLog, 'utf8').slice(restLogFrom), /DELETE \/slurm\/v0\.0\.38\/job\/\d+/, 'the job was not cancelled through slurmrestd');
      await waitFor('the job to be recorded CANCELLED', async () => (await jobOf(server, 'e2e-rest'))?.status === 'CANCELLED', 10_000);
      await down(server, 'e2e-rest');
    } finally {
      await server.dispose();
    }
  });

  for (const infra of ['ssh/lab', 'slurm']) {
    it(`a server killed with -9 mid-job on ${infra} comes back to the job's right status and full log`, async (t) => {
      if (!labInfraOffered) return t.skip(NOT_OFFERED);
      let server = await serverOnLab();
      const clusterName = `e2e-restart-${infra.split('/')[0]}`;
      try {
        const id = await server.submit('launch', { clusterName, task: { num_nodes: 2, resources: { infra }, run: 'for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done; [ "$SKYPILOT_NODE_RANK" = 1 ] && exit 4; true' } });
        await waitFor('job output', async () => /tick 3\n/.test(await logOf(server, id)), 30_000);
        await server.kill9();
        server = await startServer({ home: server.home });
        const done: ApiRequest = await finished(server, id, 60);
        const log = await logOf(server, id);
        assert.equal(done.status, 'FAILED', log);
        const job = await jobOf(server, clusterName);
        assert.equal(job?.status, 'FAILED', JSON.stringify(job));
        assert.equal(job?.exitCode, 4, `${JSON.stringify(job)}\n${log}`);
        for (let i = 1; i <= 40; i++) {
          for (const who of ['(head, rank=0)', '(node-1, rank=1)']) assert.ok(log.includes(`${who} tick ${i}\n`), `${who} tick ${i} missing:\n${log}`);
        }
        await down(server, clusterName);
      } finally {
        await server.dispose();
      }
    });
  }
});
