// Every process the benchmark starts, directly (servers, CLI runs) or through a server (jobs, which run
// detached in their own sessions inside the benchmark's temp dir), is ended by pid when it is done,
// and on any exit path: normal end, a thrown error, Ctrl+C.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User plus system CPU time of a process so far, in milliseconds (from /proc/PID/stat). */
export function cpuMs(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const children = new Set<ChildProcess>();
const tempRoots = new Set<string>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A temp dir removed at exit (unless kept for inspection); job processes working inside it are ended too. */
export function trackTempRoot(dir: string): void {
  tempRoots.add(dir);
}

/** Pids of processes whose working directory lies under `dir` (jobs run in their cluster's sandbox). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + '/')) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

export function killProcessesUnder(dir: string): number {
  const pids = processesUnder(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

let keepTemp = false;
export function keepTempDirs(keep: boolean): void {
  keepTemp = keep;
}

/** Synchronous, so it also runs from process.on('exit'). */
export function cleanUpEverything(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempRoots) {
    killProcessesUnder(dir);
    if (!keepTemp) rmSync(dir, { recursive: true, force: true });
  }
  tempRoots.clear();
}

export function installExitHandlers(): void {
  process.on('exit', cleanUpEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every process it started\n`);
      cleanUpEverything();
      process.exit(130);
    });
  }
}
