// Writing into a local cluster's sandbox: directly when jobs run as the server's own user (a local
// server), or as the cluster's own uid on a team server (see job-users.ts).
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SandboxFiles {
  mkdir(dirs: string[]): Promise<void>;
  /** A file only its owner may read (scripts holding the task's secrets). */
  write(file: string, content: string): Promise<void>;
  remove(files: string[]): Promise<void>;
  /** Copies a file or folder of the server's machine to `target`, merging into what is there. */
  copyInto(source: string, target: string, isDir: boolean): Promise<void>;
}

export const serverUserFiles: SandboxFiles = {
  mkdir: async (dirs) => void (await Promise.all(dirs.map((d) => mkdir(d, { recursive: true, mode: 0o700 })))),
  write: (file, content) => writeFile(file, content, { mode: 0o600 }),
  remove: async (files) => void (await Promise.all(files.map((f) => rm(f, { force: true })))),
  async copyInto(source, target, isDir) {
    if (isDir) await cp(source, target, { recursive: true, force: true });
    else {
      await mkdir(path.dirname(target), { recursive: true });
      await cp(source, target, { force: true });
    }
  },
};
