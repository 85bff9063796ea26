// Reads a JSON request body with a size limit and a nesting limit; bad bodies are 4xx, never 500.
import type { Context } from 'koa';
import { fail } from '../errors';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** A client dripping a body byte by byte must not hold a connection for long. */
const BODY_DEADLINE_MS = 30_000;
const MAX_DEPTH = 32;

export async function readJsonBody(ctx: Context, limit = BODY_LIMIT_BYTES): Promise<unknown> {
  const length = Number(ctx.get('content-length') || 0);
  if (length > limit) throw fail.body_too_large(`request body is ${length} bytes; the limit is ${limit}`);
  if (length === 0 && !ctx.get('transfer-encoding')) return undefined;
  if (!ctx.is('application/json')) throw fail.unsupported_media_type('send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  const deadline = setTimeout(() => ctx.req.destroy(fail.request_timeout(`request body not received within ${BODY_DEADLINE_MS / 1000} s`)), BODY_DEADLINE_MS);
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw fail.body_too_large(`request body is over the limit of ${limit} bytes`);
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(deadline);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  // Checked on the text, before parsing: a body nested 400k levels deep is refused without building it.
  if (nestsDeeperThan(text, MAX_DEPTH)) throw fail.bad_request(`request body nests deeper than ${MAX_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail.bad_request(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Whether brackets outside strings nest deeper than `max`, in one pass without recursion. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
