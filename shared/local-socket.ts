// Where a local server listens for its owner's clients: a Unix socket inside its 0700 data dir. Only the
// data dir's owner (and root) can create or connect to it, so a client that reaches the server there
// knows it is its owner's server before it sends the local token; another OS user who binds the TCP
// port first gets nothing secret. Shared by the server (which listens) and the client (which connects).
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { untrustedFolder } from './private-folder';

/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * `<data-dir>/api-<port>.sock`, named after the TCP port so that an endpoint names one server (a client
 * whose endpoint has another port than this data dir's server does not reach it by the back door).
 * When that path is too long for a socket: a socket named after both in `<tmp>/skydeck-<uid>/`, a
 * folder the owner makes with mode 0700 (and both sides check).
 */
export function localSocketPath(dataDir: string, port: number): string {
  const inside = path.join(dataDir, `api-${port}.sock`);
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH_BYTES) return inside;
  return path.join(shortSocketDir(), `${createHash('sha256').update(`${path.resolve(dataDir)}:${port}`).digest('hex').slice(0, 24)}.sock`);
}

export function shortSocketDir(): string {
  return path.join(os.tmpdir(), `skydeck-${process.getuid?.() ?? 'user'}`);
}

/** Why the folder holding the socket cannot be trusted (see untrustedFolder), or undefined when it is fine or does not exist yet. */
export function untrustedSocketFolder(socketPath: string): string | undefined {
  return untrustedFolder(path.dirname(socketPath));
}
