// The `log` message of one chunk, encoded once and shared: the followers of a log get the same chunk,
// and most of them under the same subscription name (clients number theirs from `log-1`), so a
// thousand sockets are handed one Buffer instead of a thousand JSON.stringify copies of 64 KiB.
import type { ServerMessage } from '../../protocol/api';
import type { LogChunk } from '../logs/log-tail';

interface Encoded {
  /** The chunk's text as a JSON string literal, escaped once for every subscription name. */
  data: Buffer;
  /** The last whole message built, and for whom: consecutive followers under one name share it. */
  key?: string;
  message?: Buffer;
}

const encoded = new WeakMap<LogChunk, Encoded>();

export function logMessage(chunk: LogChunk, sub: string, requestId: string): Buffer {
  let e = encoded.get(chunk);
  if (!e) encoded.set(chunk, (e = { data: Buffer.from(JSON.stringify(chunk.text)) }));
  const key = `${sub}\n${requestId}`;
  if (e.key !== key) {
    // The typed message with its data left empty, then the escaped text put in its place.
    const [head, rest] = JSON.stringify({ type: 'log', sub, requestId, data: '', offset: chunk.end } satisfies ServerMessage).split('"data":""');
    e.message = Buffer.concat([Buffer.from(`${head}"data":`), e.data, Buffer.from(rest!)]);
    e.key = key;
  }
  return e.message!;
}
