// A git workdir ({url, ref}): cloned by the server into a temporary folder, checked out at `ref`, and
// then synced to the nodes like a folder workdir; the clone is removed once the job has its copy.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fail } from '../errors';

/** Transports git may use: never `ext::` (runs a command) or other helpers a URL could name. */
const ALLOWED_PROTOCOLS = 'file:git:http:https:ssh';
const CLONE_TIMEOUT_MS = 10 * 60_000;

/** A URL naming a repository on the server's own machine (a path or file://), which only its owner may name. */
export function isMachineRepository(url: string): boolean {
  return url.startsWith('/') || url.startsWith('~') || /^file:/i.test(url) || !/^[a-z][a-z0-9+.-]*:|^[^/]+@[^/]+:/i.test(url);
}

/** Why a git workdir URL cannot be cloned at all, if so (checked before anything is created). */
export function gitUrlProblem(url: string): string | undefined {
  if (url.startsWith('-')) return `${url.slice(0, 100)} is not a repository URL`;
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) return `${url.slice(0, 100)} names a git remote helper; give a path, file://, https://, ssh:// or git:// URL`;
  return undefined;
}

function git(args: string[], cwd?: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        signal,
        timeout: CLONE_TIMEOUT_MS,
        maxBuffer: 4 * 2 ** 20,
        // No prompt can be answered here; no user or system config decides what runs.
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(stderr.trim().split('\n').slice(-3).join(' ') || err.message));
        else resolve(stdout);
      },
    );
  });
}

/** Clones the repository at `ref` (a branch, tag or commit; else its default branch) and gives the folder and the commit. */
export async function cloneWorkdir(workdir: { url: string; ref?: string }, signal?: AbortSignal): Promise<{ dir: string; commit: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'skydeck-git-workdir-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const url = workdir.url.replace(/^~(?=\/|$)/, os.homedir());
  try {
    await git(['clone', '--quiet', '--no-checkout', '--', url, dir], undefined, signal).catch((err: Error) => {
      throw fail.task_invalid(`workdir: cannot clone ${workdir.url}: ${err.message}`);
    });
    const ref = workdir.ref ?? 'HEAD';
    // A branch of the remote, a tag, or a commit: whichever the name is.
    const commit = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], dir, signal).catch(() => git(['rev-parse', '--verify', '--quiet', '--end-of-options', `origin/${ref}^{commit}`], dir, signal)).catch(() => {
      throw fail.task_invalid(`workdir: ${workdir.url} has no branch, tag or commit '${ref}'`);
    })).trim();
    await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', commit], dir, signal);
    return { dir, commit, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
