// Chaos: the server is killed with -9 again and again while requests are being submitted, jobs are
// starting and logs are streaming, some kills landing right after a job's spawn. After the last restart
// nothing stored is lost or corrupt: every accepted request is there and finishes, an interrupted one is
// marked as such, a request that followed its job to the end has every line once and in order, its
// status matches its job's, and no job process is left running untracked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ApiRequest } from '../../protocol/model';
import { eventually, processesWith, startServer, type TestServer } from '../helpers/server';
import { random } from './helpers';

const SEED = Number(process.env.SKYDECK_FUZZ_SEED ?? Date.now() % 2 ** 31);
const KILLS = Number(process.env.SKYDECK_CHAOS_KILLS ?? 6);
const LINES = 15;
const CLUSTERS = ['chaos-a', 'chaos-b', 'chaos-c'];

interface Submitted {
  key: string;
  operation: string;
  body: unknown;
  /** The id the server answered with (undefined while a kill cut the answer off). */
  id?: string;
  /** A definite 4xx (exec onto a cluster that does not exist yet). */
  refused?: number;
  /** The tag its job prints on every line, for launch and exec. */
  tag?: string;
}

describe('chaos: kill -9 in the middle of writes', () => {
  it(`loses nothing over ${KILLS} kills under a few hundred requests (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const r = random(SEED);
    const marker = `chaos-${process.pid}-${Date.now()}`;
    let server: TestServer = await startServer({ args: ['--long-workers', '3'] });
    const submitted: Submitted[] = [];
    const submit = async (s: Submitted): Promise<void> => {
      try {
        const res = await server.fetch(`/api/v1/${s.operation}`, { method: 'POST', body: JSON.stringify(s.body), headers: { 'idempotency-key': s.key } });
        if (res.status === 202) s.id = ((await res.json()) as { requestId: string }).requestId;
        else {
          if (res.status >= 400 && res.status < 500) s.refused = res.status;
          await res.body?.cancel();
        }
      } catch {
        // cut off by the kill: retried with the same key after the restart
      }
    };
    const job = (n: number) => {
      const tag = `t${n}`;
      return { tag, run: `for i in $(seq 1 ${LINES}); do echo "${tag} $i"; sleep 0.0$((RANDOM % 5)); done; exec -a ${marker} true` };
    };
    const newWork = (n: number): Submitted => {
      const pick = r.int(10);
      const cluster = r.pick(CLUSTERS);
      if (pick < 6) {
        const { tag, run } = job(n);
        return { key: randomUUID(), operation: r.next() < 0.5 ? 'launch' : 'exec', body: { clusterName: cluster, task: { run } }, tag };
      }
      if (pick < 8) return { key: randomUUID(), operation: 'status', body: {} };
      // A long job, cancelled later: it must be stopped whole even across restarts.
      return { key: randomUUID(), operation: 'launch', body: { clusterName: cluster, task: { run: `echo long; exec -a ${marker} sleep 300` } }, tag: 'long' };
    };

    let n = 0;
    const followers: WebSocket[] = [];
    try {
      for (let round = 0; round < KILLS; round++) {
        // A follower streaming everything, as a CLI or the dashboard would.
        const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`, { headers: server.headers() });
        ws.on('error', () => undefined);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe-requests' })));
        followers.push(ws);
        // A burst of submits, then the kill at a random moment, or right after a job starts.
        const burst = Array.from({ length: 25 + r.int(15) }, () => newWork(n++));
        submitted.push(...burst);
        const sending = Promise.all(burst.map((s, i) => new Promise((resolve) => setTimeout(resolve, i * 8)).then(() => submit(s))));
        if (round % 2 === 0) {
          await eventually(async () => {
            for (const s of submitted.filter((x) => x.id && x.tag && x.tag !== 'long').slice(-20)) {
              const log = await (await server.fetch(`/api/stream?request_id=${s.id}&follow=0`)).text().catch(() => '');
              if (/Job \d+ submitted/.test(log)) return true;
            }
            return false;
          }, 30_000, 'a job to start').catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, r.int(15)));
        } else {
          await new Promise((resolve) => setTimeout(resolve, 100 + r.int(900)));
        }
        // Some cancels of what runs long.
        const longs = submitted.filter((s) => s.tag === 'long' && s.id);
        if (longs.length > 0) await server.fetch('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: [r.pick(longs).id] }) }).catch(() => undefined);
        await server.kill9();
        await sending;
        server = await startServer({ home: server.home, args: ['--long-workers', '3'] });
        // Submits the kill cut off are sent again with their key: each runs once.
        for (const s of submitted.filter((x) => !x.id && !x.refused)) await submit(s);
      }

      const lost = submitted.filter((s) => !s.id && !s.refused);
      assert.deepEqual(lost.map((s) => s.key), [], 'every submit got its request after a retry');
      const accepted = submitted.filter((s) => s.id);
      const ids = accepted.map((s) => s.id!);
      assert.equal(new Set(ids).size, ids.length, 'no retry made a second request');
      // Everything long is cancelled; everything else finishes on its own.
      await server.fetch('/api/cancel', { method: 'POST', body: JSON.stringify({ requestIds: accepted.filter((s) => s.tag === 'long').map((s) => s.id) }) });
      const final = new Map<string, ApiRequest>();
      for (const s of accepted) {
        const deadline = Date.now() + 120_000;
        let req: ApiRequest;
        do req = await server.waitFor(s.id!, 30);
        while (!['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(req.status) && Date.now() < deadline);
        final.set(s.id!, req);
      }
      const stuck = [...final.values()].filter((q) => !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(q.status));
      if (stuck.length > 0) {
        // What a stuck request was waiting for, so that a failure here can be understood from CI's log.
        for (const q of stuck) {
          const log = await (await server.fetch(`/api/stream?request_id=${q.id}&follow=0`)).text().catch((err: Error) => err.message);
          const jobs = q.clusterName ? (await server.json(`/api/clusters/${q.clusterName}/jobs`)).body : undefined;
          console.log(`stuck ${q.id}: ${JSON.stringify({ status: q.status, statusMessage: q.statusMessage, result: q.result })}\n  log tail: ${JSON.stringify(log.slice(-400))}\n  jobs of ${q.clusterName}: ${JSON.stringify(jobs)}`);
        }
        console.log(`server output (last restart):\n${server.output().split('\n').slice(-40).join('\n')}`);
      }
      assert.deepEqual(stuck.map((q) => `${q.id} ${q.name} ${q.status}`), [], 'no request stuck');

      const problems: string[] = [];
      const jobs = new Map<string, { jobId: number; status: string; requestId?: string }[]>();
      for (const c of CLUSTERS) {
        const res = await server.json<{ jobs: { jobId: number; status: string; requestId?: string }[] }>(`/api/clusters/${c}/jobs`);
        jobs.set(c, res.status === 200 ? res.body.jobs : []);
      }
      let followedToTheEnd = 0;
      for (const s of accepted.filter((x) => x.tag && x.tag !== 'long')) {
        const req = final.get(s.id!)!;
        if (req.status === 'FAILED') {
          // Interrupted by a kill (or refused: exec before its cluster existed): said so, never silently.
          if (!/restart|stopped|does not exist|not found|no cluster|INIT|launch again|provision/i.test(req.error?.message ?? '')) problems.push(`${s.id} ${req.name} FAILED without saying it was interrupted: ${req.error?.message}`);
          continue;
        }
        if (req.status !== 'SUCCEEDED') continue;
        followedToTheEnd++;
        const log = await (await server.fetch(`/api/stream?request_id=${s.id}&follow=0`)).text();
        const lines = log.split('\n').filter((l) => l.startsWith(`${s.tag} `));
        const expected = Array.from({ length: LINES }, (_, i) => `${s.tag} ${i + 1}`);
        if (JSON.stringify(lines) !== JSON.stringify(expected)) problems.push(`${s.id} log gap or duplicate: ${JSON.stringify(lines)}`);
        const result = req.result as { clusterName: string; jobId: number } | undefined;
        const jobStatus = result && jobs.get(result.clusterName)?.find((j) => j.jobId === result.jobId)?.status;
        if (jobStatus !== 'SUCCEEDED') problems.push(`${s.id} SUCCEEDED but its job is ${jobStatus}`);
      }
      // A job that succeeded is never reported by a FAILED request that followed it without saying why.
      assert.deepEqual(problems, []);
      assert.ok(followedToTheEnd > 20, `only ${followedToTheEnd} requests followed their job to the end`);
      assert.deepEqual(readdirSync(server.dataDir).filter((f) => f.includes('unreadable')), [], 'no store file was unreadable after a kill');

      for (const c of CLUSTERS) await server.waitFor(await server.submit('down', { clusterName: c }), 60);
      await eventually(() => processesWith(marker).length === 0, 10_000, `no job process left running (${processesWith(marker).join(', ')})`);
      const outcomes = new Map<string, number>();
      for (const q of final.values()) {
        const why = q.status === 'FAILED' ? `FAILED (${(q.error?.message ?? '').replace(/[0-9a-f-]{8,}|\d+/g, 'N').slice(0, 60)})` : q.status;
        outcomes.set(why, (outcomes.get(why) ?? 0) + 1);
      }
      console.log(`# chaos: ${KILLS} kills, ${submitted.length} requests (${followedToTheEnd} followed their job to the end), seed ${SEED}: 0 lost, 0 stuck, 0 log gaps or duplicates, 0 orphans; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    } finally {
      for (const ws of followers) ws.terminate();
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
      await server.dispose();
    }
  });
});
