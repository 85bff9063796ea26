// The local server's second door: its owner's clients reach it over a Unix socket that only the owner
// can open (see shared/local-socket.ts), so the local token never has to travel over TCP.
import { mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { shortSocketDir, untrustedSocketFolder } from '../../shared/local-socket';
import { fail } from '../errors';

/** Listens on `socketPath`; a socket left by a killed server is replaced (the caller holds the data-dir lock). */
export async function listenOnSocket(server: Server, socketPath: string): Promise<void> {
  if (path.dirname(socketPath) === shortSocketDir()) mkdirSync(shortSocketDir(), { recursive: true, mode: 0o700 });
  const problem = untrustedSocketFolder(socketPath);
  if (problem) throw fail.config_invalid(`cannot open the local socket ${socketPath}: ${problem}`);
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    throw fail.config_invalid(`cannot listen on the local socket ${socketPath}: ${err.message}`);
  });
}
