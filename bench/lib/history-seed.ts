// Fills a data dir with finished requests before its server starts, in the on-disk form the server
// keeps them (server/store/history.ts): JSON lines in <data-dir>/history/<segmentStartMs>.jsonl.
// The segment is the current one, so everything is inside the retention window and nothing expires.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ApiRequest } from '../../protocol/model';

/** The server's segment width for the default 24 h retention (server/core.ts: retention / 24, at most 1 h). */
const SEGMENT_MS = 3_600_000;

export interface Seeded {
  count: number;
  bytes: number;
  /** A few ids that exist, for lookups. */
  sampleIds: string[];
}

/** Four in five are `status` calls, one in five a `launch` with a small task: the mix of a busy team server. */
function finishedRequest(i: number, now: number): ApiRequest {
  const user = { id: (0xa0000000 + (i % 16)).toString(16), name: `user${i % 16}` };
  const createdAt = now - 60_000 + (i % 50_000);
  const common = { id: randomUUID(), status: 'SUCCEEDED' as const, user, createdAt, startedAt: createdAt + 1, finishedAt: createdAt + 3 };
  if (i % 5 !== 0) return { ...common, name: 'status', schedule: 'short', body: {}, result: { clusters: [] } };
  const clusterName = `train-${i % 97}`;
  return {
    ...common,
    name: 'launch',
    schedule: 'long',
    clusterName,
    body: {
      clusterName,
      task: { name: 'train', resources: { infra: 'local', cpus: '1+' }, envs: { EPOCHS: '3', LR: '0.001' }, setup: 'pip install -r requirements.txt', run: 'python train.py --epochs $EPOCHS --lr $LR' },
    },
    result: { clusterName, jobId: 1 + (i % 1000), exitCode: 0, jobStatus: 'SUCCEEDED' },
  };
}

export function seedHistory(dataDir: string, count: number, now = Date.now()): Seeded {
  const dir = path.join(dataDir, 'history');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const segment = Math.floor(now / SEGMENT_MS) * SEGMENT_MS;
  const fd = openSync(path.join(dir, `${segment}.jsonl`), 'a', 0o600);
  let bytes = 0;
  const sampleIds: string[] = [];
  try {
    let batch: string[] = [];
    for (let i = 0; i < count; i++) {
      const request = finishedRequest(i, now);
      if (i % Math.max(1, Math.floor(count / 20)) === 0) sampleIds.push(request.id);
      batch.push(JSON.stringify(request));
      if (batch.length === 5000 || i === count - 1) {
        const text = batch.join('\n') + '\n';
        bytes += writeSync(fd, text);
        batch = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  return { count, bytes, sampleIds };
}
