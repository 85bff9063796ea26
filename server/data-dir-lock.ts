// One server per data dir: two processes rewriting the same store would lose each other's changes.
// The lock is a file holding the owner's pid, created exclusively; a lock whose process is gone
// (or a zombie) is stale and taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fail } from './errors';
import { isRunning } from './infra/local/process-tree';

export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } catch {
        // A full disk: the lock holds without the pid (read as stale), so the server can still start
        // and let its user clean up.
      }
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw fail.config_invalid(`another SkyDeck server (pid ${owner}) is using the data dir ${dataDir}; stop it first (skydeck api stop) or give another --data-dir`);
      }
      rmSync(file, { force: true });
    }
  }
  throw fail.config_invalid(`could not lock the data dir ${dataDir}: another server is starting at the same moment`);
}
