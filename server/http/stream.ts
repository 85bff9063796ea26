// GET /api/stream: a request's log as chunked text, followed live until the request finishes, with a
// heartbeat on long silences. A browser gets a small page that follows the same stream.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { z } from 'zod';
import { HEARTBEAT_MS, STREAM_HEARTBEAT, type streamQuery } from '../../protocol/api';
import type { Core } from '../core';
import { tailOffset } from '../logs/follow';
import type { LogChunk } from '../logs/log-tail';
import { logPage } from './log-page';

export async function streamLog(ctx: Context, core: Core, q: z.output<typeof streamQuery>): Promise<void> {
  const id = core.requests.resolveId(q.request_id);
  const { follow, tail } = q;

  if (q.format !== 'plain' && ctx.accepts('text/plain', 'text/html') === 'text/html' && (ctx.get('accept') ?? '').includes('text/html')) {
    const nonce = randomBytes(16).toString('base64');
    ctx.type = 'text/html';
    ctx.set('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'`);
    ctx.body = logPage(core.requests.summary(id)!, nonce);
    return;
  }

  const path = core.requests.logPath(id);
  const from = tail !== undefined ? await tailOffset(path, tail) : 0;
  const out = new PassThrough();
  ctx.type = 'text/plain; charset=utf-8';
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Flushed at once so a proxy or client sees the stream start before the first log line.
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = out;

  let lastWrite = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= HEARTBEAT_MS) {
      out.write(STREAM_HEARTBEAT);
      lastWrite = Date.now();
    }
  }, HEARTBEAT_MS / 3);
  const end = () => {
    clearInterval(heartbeat);
    out.end();
  };
  const reader = {
    onChunk: (chunk: LogChunk) => {
      lastWrite = Date.now();
      // The file's own bytes, not its decoded text: a log that is not UTF-8 arrives as it is.
      if (out.write(chunk.bytes)) return true;
      // A slow reader: no more for it until its buffer drains; it then reads on from its offset.
      out.once('drain', () => follower.resume());
      return false;
    },
    onEnd: end,
  };
  const follower = core.followRequestLog(id, from, reader, { follow });
  // The response's close is the client going away; the request's close only means its body was read.
  ctx.res.once('close', () => {
    follower.close();
    end();
  });
}
