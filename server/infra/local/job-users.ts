// Local jobs on a team server run under uids of their own, never as the server's OS user: each cluster
// takes a uid from a range reserved for SkyDeck and owns its sandbox (0700) and nothing else, so a
// member's job can read neither the server's data dir nor another cluster's files, nor signal them.
//
// Every write into a sandbox is made *as its uid* (setpriv), never by the server: a job controls the
// files in its sandbox and could turn any of them into a symlink to a file only the server may write.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, createReadStream, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail } from '../../errors';
import type { SandboxFiles } from './sandbox-files';

export interface UidRange {
  first: number;
  last: number;
}

export interface JobIsolation {
  uids: UidRange;
  /** Where the sandboxes live: outside the data dir (0700), each 0700 and owned by its cluster's uid. */
  sandboxes: string;
}

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_KILL, CAP_SETGID, CAP_SETUID: hand a sandbox over, read and remove it, stop its jobs, become its uid. */
const NEEDED_CAPS: [string, number][] = [
  ['CAP_CHOWN', 0],
  ['CAP_DAC_OVERRIDE', 1],
  ['CAP_KILL', 5],
  ['CAP_SETGID', 6],
  ['CAP_SETUID', 7],
];

/** The systemd lines that give a non-root server what it needs, for the docs and the refusal. */
export const SYSTEMD_CAPS = `AmbientCapabilities=${NEEDED_CAPS.map(([n]) => n).join(' ')}`;

/** The command, run as root, that starts this very server again as its user with those capabilities (no systemd). */
function withCapsCommand(): string {
  const caps = NEEDED_CAPS.map(([n]) => `+${n.slice(4).toLowerCase()}`).join(',');
  let user: string;
  try {
    user = `--reuid=${os.userInfo().username} --regid=${process.getgid?.()} --init-groups`;
  } catch {
    user = `--reuid=${process.getuid?.()} --regid=${process.getgid?.()} --clear-groups`; // a uid without a passwd entry
  }
  // Its environment too: root's HOME would move the default data dir.
  const env = Object.entries({ HOME: os.homedir(), SKYDECK_HOME: process.env.SKYDECK_HOME }).flatMap(([k, v]) => (v ? [`${k}=${v}`] : []));
  const argv = ['env', ...env, process.execPath, ...process.execArgv, ...process.argv.slice(1)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return `setpriv ${user} --inh-caps=${caps} --ambient-caps=${caps} -- ${argv.join(' ')}`;
}

/** Why this server cannot run isolated local jobs as configured, with what to run; undefined when it can. */
export function jobIsolationProblem(iso: JobIsolation): string | undefined {
  const effective = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  const missing = NEEDED_CAPS.filter(([, bit]) => (effective & (1n << BigInt(bit))) === 0n).map(([n]) => n);
  if (missing.length > 0) {
    return `--team-local-infra runs each cluster's jobs under a uid of its own (${iso.uids.first}-${iso.uids.last}), never as this server's OS user, and this server cannot switch uids (missing ${missing.join(', ')}). Run it as root, or give it those capabilities: in its systemd unit, ${SYSTEMD_CAPS}; without systemd, start it as root with\n  ${withCapsCommand()}\n(see docs/deploy.md, "Local jobs on a team server")`;
  }
  if (spawnSync('setpriv', ['--version']).status !== 0) return `--team-local-infra needs setpriv (util-linux) to start jobs under their own uid: apt-get install util-linux`;
  const taken = passwdUidsIn(iso.uids);
  if (taken.length > 0) return `--job-uids ${iso.uids.first}-${iso.uids.last} holds uids of existing OS users (${taken.slice(0, 3).join(', ')}): pick a range no account uses, such as 1900000000-1900065535`;
  try {
    // The server's umask is 077: the mode is set apart from the creation.
    if (mkdirSync(iso.sandboxes, { recursive: true }) !== undefined) chmodSync(iso.sandboxes, 0o711);
  } catch (err) {
    return `--job-sandboxes ${iso.sandboxes}: cannot create it (${(err as NodeJS.ErrnoException).code}); run: mkdir -p ${iso.sandboxes} && chown ${process.getuid?.()} ${iso.sandboxes} && chmod 711 ${iso.sandboxes}`;
  }
  const st = statSync(iso.sandboxes);
  if (st.uid !== process.getuid?.() || (st.mode & 0o777) !== 0o711) {
    return `--job-sandboxes ${iso.sandboxes} must be owned by this server's user and mode 0711 (jobs may enter their own sandbox, list none); run: chown ${process.getuid?.()} ${iso.sandboxes} && chmod 711 ${iso.sandboxes}`;
  }
  for (let dir = path.dirname(iso.sandboxes); ; dir = path.dirname(dir)) {
    const s = statSync(dir);
    if ((s.mode & 0o001) === 0) return `--job-sandboxes ${iso.sandboxes}: jobs cannot reach it, ${dir} is not searchable by other users (mode ${(s.mode & 0o777).toString(8)}); pick a folder outside it, such as /var/lib/skydeck-jobs, or run: chmod o+x ${dir}`;
    if (dir === path.dirname(dir)) break;
  }
  return undefined;
}

function passwdUidsIn(range: UidRange): number[] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => Number(line.split(':')[2]))
      .filter((uid) => uid >= range.first && uid <= range.last);
  } catch {
    return [];
  }
}

/** The argv that runs `argv` as `uid`, with no supplementary groups, no capabilities and no way to gain privileges. */
export function asUid(uid: number, argv: string[]): [string, string[]] {
  return ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--ambient-caps=-all', '--nnp', '--', ...argv]];
}

export class JobUsers {
  constructor(readonly isolation: JobIsolation) {}

  /**
   * Creates a cluster's sandbox owned by the lowest uid of the range no other sandbox holds (the owner
   * of each sandbox directory is its record), or answers the uid of the one that exists. Synchronous,
   * so two launches in one server can never take the same uid.
   */
  claim(sandbox: string): number {
    const held = this.uidOf(sandbox);
    if (held !== undefined) return held;
    const used = new Set(
      readdirSync(this.isolation.sandboxes).flatMap((name) => {
        const uid = this.uidOf(path.join(this.isolation.sandboxes, name));
        return uid === undefined ? [] : [uid];
      }),
    );
    let uid = this.isolation.uids.first;
    while (used.has(uid)) uid++;
    if (uid > this.isolation.uids.last) throw fail.resources_unavailable(`every uid of --job-uids ${this.isolation.uids.first}-${this.isolation.uids.last} holds a cluster: tear one down`);
    mkdirSync(sandbox, { mode: 0o700 });
    spawnSync('chown', [`${uid}:${uid}`, sandbox]);
    return uid;
  }

  /** The uid owning a sandbox (undefined when there is none, or it is not one of ours). */
  uidOf(sandbox: string): number | undefined {
    try {
      const { uid } = statSync(sandbox);
      return uid >= this.isolation.uids.first && uid <= this.isolation.uids.last ? uid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The files of the sandbox, written as its uid. */
  files(uid: number): SandboxFiles {
    const run = (argv: string[], input?: NodeJS.ReadableStream | string) => runAs(uid, argv, input);
    return {
      mkdir: (dirs) => run(['mkdir', '-p', '--', ...dirs]),
      write: (file, content) => run(['sh', '-c', 'umask 077 && cat > "$1"', 'sh', file], content),
      remove: (files) => run(['rm', '-f', '--', ...files]),
      async copyInto(source, target, isDir) {
        if (!isDir) return run(['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', 'sh', target], createReadStream(source));
        // The server reads the source (its own uploads), the job's uid writes the copy.
        const reader = spawn('tar', ['-C', source, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let readError = '';
        reader.stderr!.on('data', (d) => (readError += d));
        await run(['sh', '-c', 'mkdir -p -- "$1" && tar -C "$1" -xf - --no-same-owner', 'sh', target], reader.stdout!);
        const code = reader.exitCode ?? (await new Promise<number | null>((resolve) => reader.once('exit', resolve)));
        if (code !== 0) throw fail.job_start_failed(`could not read ${source}: ${readError.trim()}`);
      },
    };
  }

  /** Stops every process of a uid (whatever it forked, setsid or not), before its sandbox goes. */
  async killAll(uid: number): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const pids = readdirSync('/proc').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && ownerOf(pid) === uid);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function ownerOf(pid: number): number | undefined {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

function runAs(uid: number, argv: string[], input?: NodeJS.ReadableStream | string): Promise<void> {
  const [file, args] = asUid(uid, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('error', (err) => reject(fail.job_start_failed(`could not run ${argv[0]} as uid ${uid}: ${err.message}`)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(fail.job_start_failed(`${argv[0]} as uid ${uid} failed: ${stderr.trim() || `exit ${code}`}`))));
    if (typeof input === 'string') child.stdin!.end(input);
    else if (input) {
      input.on('error', (err) => child.stdin!.destroy(err));
      input.pipe(child.stdin!);
    }
    child.stdin?.on('error', () => undefined);
  });
}
