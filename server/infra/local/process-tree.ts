// Finding and stopping a local job's processes. Each job runs in its own session (spawned detached,
// so its pid is also its process group and session id); anything it forks stays in that session
// unless it calls setsid itself, so killing by session catches children that changed process group.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
  session: number;
  /** Clock ticks after boot: with the pid, identifies a process across pid reuse. */
  startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0]!, pgrp: Number(fields[2]), session: Number(fields[3]), startTime: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

export function processStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

/** Whether the process that had this pid at `startTime` still runs (zombies count as gone). */
export function isRunning(pid: number, startTime?: number): boolean {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Live processes of a job's session or process group. */
export function jobProcesses(sessionId: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat && stat.state !== 'Z' && (stat.session === sessionId || stat.pgrp === sessionId)) pids.push(pid);
  }
  return pids;
}

function signalAll(sessionId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-sessionId, signal);
  } catch {
    // the group may already be gone; its session members are handled below
  }
  for (const pid of jobProcesses(sessionId)) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited between the scan and the signal
    }
  }
}

/**
 * Stops every process of a job: SIGTERM first so it can clean up, SIGKILL for whatever is left after
 * `graceMs`. Resolves once none remain (or after a last SIGKILL sweep).
 */
export async function killJobTree(sessionId: number, graceMs = 250): Promise<void> {
  signalAll(sessionId, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (jobProcesses(sessionId).length === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  for (let attempt = 0; attempt < 20 && jobProcesses(sessionId).length > 0; attempt++) {
    signalAll(sessionId, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 10));
  }
}
