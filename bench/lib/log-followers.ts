// Child process of bench:security: N WebSocket followers of one request's log, each hashing what it
// receives. Kept out of the bench's own process so that parsing 1,000 sockets' messages does not delay
// the health probe, whose latency must be the server's alone.
//   parent -> child: { type: 'start', url, headers, requestId, count }, then { type: 'collect', bytes }
//   child -> parent: { type: 'attached', count }, then { type: 'collected', followers: FollowerResult[] }
// The sockets stay open until the child is ended: 1,000 closing at once is not part of what is measured.
import { createHash } from 'node:crypto';
import WebSocket from 'ws';

export interface FollowerResult {
  bytes: number;
  digest: string;
  dropped?: string;
}

type Command = { type: 'start'; url: string; headers: Record<string, string>; requestId: string; count: number } | { type: 'collect'; bytes: number };

interface Follower {
  ws: WebSocket;
  bytes: number;
  hash: ReturnType<typeof createHash>;
  dropped?: string;
}

function attach(url: string, headers: Record<string, string>, requestId: string): Promise<Follower> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, { headers, perMessageDeflate: false });
    const f: Follower = { ws, bytes: 0, hash: createHash('sha256') };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; data?: string; code?: string; message?: string };
      if (m.type === 'log' && m.data) {
        f.hash.update(m.data);
        f.bytes += Buffer.byteLength(m.data);
      } else if (m.type === 'error') f.dropped = `${m.code}: ${m.message}`;
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe-log', sub: 's', requestId, follow: true }));
      resolve(f);
    });
  });
}

const followers: Follower[] = [];

process.on('message', async (command: Command) => {
  if (command.type === 'start') {
    // In batches: a thousand handshakes at once would meet the server's accept backlog.
    for (let i = 0; i < command.count; i += 50) {
      const batch = Array.from({ length: Math.min(50, command.count - i) }, () => attach(command.url, command.headers, command.requestId));
      followers.push(...(await Promise.all(batch)));
    }
    process.send!({ type: 'attached', count: followers.length });
  } else {
    while (!followers.every((f) => f.bytes >= command.bytes || f.dropped)) await new Promise((r) => setTimeout(r, 50));
    const results: FollowerResult[] = followers.map((f) => ({ bytes: f.bytes, digest: f.hash.digest('hex'), dropped: f.dropped }));
    process.send!({ type: 'collected', followers: results });
  }
});
