import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster, RequestSummary } from '../../protocol/model';
import { eventually, startServer } from '../helpers/server';

describe('status-refresh daemon', () => {
  it('runs as a system request and stops clusters idle past their autostop', async () => {
    const server = await startServer({ args: ['--refresh-interval', '1s'] });
    try {
      const ongoing = (await server.json<{ requests: RequestSummary[] }>('/api/requests')).body.requests;
      assert.equal(ongoing.length, 0, 'system requests are left out of the default listing');
      const withSystem = (await server.json<{ requests: RequestSummary[] }>('/api/requests?system=1')).body.requests;
      const daemon = withSystem.find((r) => r.name === 'status-refresh-daemon');
      assert.equal(daemon?.status, 'RUNNING');
      assert.equal(daemon?.user.name, 'skydeck-system');

      const id = await server.submit('launch', { clusterName: 'idle', idleMinutesToAutostop: 0, task: { run: 'echo short job' } });
      assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
      const busy = await server.submit('launch', { clusterName: 'busy', idleMinutesToAutostop: 0, task: { run: 'sleep 4' } });
      const clusters = async () => (await server.json<{ clusters: Cluster[] }>('/api/clusters')).body.clusters;
      await eventually(async () => (await clusters()).find((c) => c.name === 'idle')?.status === 'STOPPED', 10_000, 'autostop');
      // A cluster with a running job is not idle.
      assert.equal((await clusters()).find((c) => c.name === 'busy')?.status, 'UP');
      const stops = (await server.json<{ requests: RequestSummary[] }>('/api/requests?all=1')).body.requests.filter((r) => r.name === 'stop');
      assert.equal(stops[0]?.user.name, 'skydeck-system');
      await server.json('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [busy] }) });

      await server.stop();
      // The daemon's request ends with the server.
      const restarted = await startServer({ home: server.home });
      try {
        const old = await restarted.json<{ status: string }>(`/api/requests/${daemon!.id}`);
        assert.equal(old.body.status, 'SUCCEEDED');
      } finally {
        await restarted.stop();
      }
    } finally {
      await server.dispose();
    }
  });
});
