// A git repository for workdir tests: one commit per version, each writing version.txt with the version,
// on main or on a branch made from v1; v1 is tagged, and main is checked out at the end.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Makes the repository at `repo` and returns each version's commit id. */
export function versionRepo(repo: string, versions: readonly (readonly [version: string, branch?: string])[]): Record<string, string> {
  mkdirSync(repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  const commits: Record<string, string> = {};
  git('init', '--quiet', '--initial-branch=main');
  for (const [version, branch] of versions) {
    if (branch) git('checkout', '--quiet', '-b', branch, commits.v1!);
    writeFileSync(path.join(repo, 'version.txt'), `${version}\n`);
    git('add', 'version.txt');
    git('commit', '--quiet', '-m', version);
    commits[version] = git('rev-parse', 'HEAD');
    if (version === 'v1') git('tag', 'v1');
  }
  git('checkout', '--quiet', 'main');
  return commits;
}
