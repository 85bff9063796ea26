// Streams a request's log to the terminal. Ctrl+C detaches without cancelling anything and says how to come back.
import type { ApiRequest } from '../../protocol/model';
import type { ApiClient } from '../api-client';
import { ConnectionError } from '../errors';
import { shortId } from '../format';
import { EXIT, CliExit, note, writeChunk } from './output';

export interface FollowOptions {
  follow?: boolean;
  tail?: number;
  /**
   * What Ctrl+C says instead of the request's reattach hints, when the request only watches something
   * else (a managed job's log): the hint names that thing, and the watching request is cancelled.
   */
  detach?: { note: string; cancelRequest: true };
}

/**
 * Prints the log as it is written and resolves with the finished request (when following) once it ends.
 * On SIGINT it prints the reattach, browser and cancel hints and throws CliExit(130); the request carries on.
 */
export async function followRequest(client: ApiClient, request: Pick<ApiRequest, 'id' | 'name'>, options: FollowOptions = {}): Promise<ApiRequest | undefined> {
  const follow = options.follow ?? true;
  const abort = new AbortController();
  const detach = () => abort.abort();
  process.on('SIGINT', detach);
  let endsWithNewline = true;
  let quiet = follow;
  const waiting = follow ? reportWaiting(client, request.id, () => quiet, abort.signal) : undefined;
  try {
    for await (const chunk of client.streamLog(request.id, { follow, tail: options.tail, signal: abort.signal })) {
      quiet = false;
      await writeChunk(chunk);
      endsWithNewline = chunk.endsWith('\n');
    }
    if (!abort.signal.aborted) {
      if (!follow) return undefined;
      // The stream ends when the request finishes; the long-poll fetches its outcome (and covers a dropped stream).
      return await client.waitForRequest(request.id, abort.signal);
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      if (err instanceof ConnectionError) {
        const newline = endsWithNewline ? '' : '\n';
        throw new CliExit(EXIT.error, `${newline}Error: ${err.message}\nThe request may still be running on the server; once it answers again: skydeck api logs ${shortId(request.id)}`);
      }
      throw err;
    }
  } finally {
    quiet = false;
    process.removeListener('SIGINT', detach);
    await waiting;
  }
  if (options.detach) {
    await client.cancel({ requestIds: [request.id] }).catch(() => undefined);
    note((endsWithNewline ? '' : '\n') + options.detach.note);
    throw new CliExit(EXIT.interrupted);
  }
  throw detached(client, request, endsWithNewline);
}

const WAIT_CHECK_MS = 1000;

/**
 * While a followed request has printed nothing yet, says why it waits (a full queue, a cluster another
 * request is changing), each time the reason changes, so a silent terminal is never a mystery.
 */
async function reportWaiting(client: ApiClient, id: string, stillQuiet: () => boolean, signal: AbortSignal): Promise<void> {
  let last: string | undefined;
  while (stillQuiet() && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_CHECK_MS));
    if (!stillQuiet() || signal.aborted) return;
    const current = await client.getRequest(id, { signal }).catch(() => undefined);
    const message = current?.statusMessage;
    if (message && message !== last) note(`Waiting: ${message}`);
    last = message;
  }
}

function detached(client: ApiClient, request: Pick<ApiRequest, 'id' | 'name'>, endsWithNewline: boolean): CliExit {
  const id8 = shortId(request.id);
  note(
    (endsWithNewline ? '' : '\n') +
    [
      `Request ${id8} (${request.name}) continues in the background; nothing was cancelled.`,
      `  Reattach:             skydeck api logs ${id8}`,
      `  Follow in a browser:  ${client.streamUrl(request.id)}`,
      `  Cancel:               skydeck api cancel ${id8}`,
    ].join('\n'),
  );
  return new CliExit(EXIT.interrupted);
}
