import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server';

describe('finished jobs', () => {
  it('past the most recent 100 per cluster leave the live state but stay in the queue, and no store file keeps a secret', async () => {
    const server = await startServer();
    try {
      const first = await server.submit('launch', { clusterName: 'many', task: { run: 'true', secrets: { API_KEY: 'hunter2-secret' } } });
      assert.equal((await server.waitFor(first)).status, 'SUCCEEDED');
      for (let batch = 0; batch < 11; batch++) {
        const ids = await Promise.all(Array.from({ length: 10 }, () => server.submit('exec', { clusterName: 'many', task: { run: 'true' } })));
        for (const id of ids) assert.equal((await server.waitFor(id)).status, 'SUCCEEDED');
      }
      const queue = await server.json<{ jobs: { jobId: number; status: string }[] }>('/api/clusters/many/jobs');
      assert.deepEqual(queue.body.jobs.map((j) => j.jobId), Array.from({ length: 111 }, (_, i) => i + 1));
      await server.stop();
      const state = JSON.parse(readFileSync(path.join(server.dataDir, 'state.json'), 'utf8')) as { jobs: Record<string, unknown[]> };
      assert.equal(state.jobs.many!.length, 100);
      const stored = ['state.json', 'requests.jsonl', path.join('job-logs', 'many', 'archived-jobs.jsonl'), ...readdirSync(path.join(server.dataDir, 'history')).map((f) => path.join('history', f))];
      const everything = stored.map((f) => readFileSync(path.join(server.dataDir, f), 'utf8')).join('\n');
      assert.match(everything, /API_KEY/);
      assert.doesNotMatch(everything, /hunter2-secret/);
    } finally {
      await server.dispose();
    }
  });
});
