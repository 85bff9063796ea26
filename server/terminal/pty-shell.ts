// A shell started as a process on the server's machine: under a PTY from node-pty (a maintained native
// addon, the one VS Code itself uses) for interactive use, or on plain pipes for a command whose output
// is captured. Local infra uses it directly; Slurm uses it to run `srun --pty` into the job's allocation.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { IPty } from 'node-pty';
import { SHELL_INPUT_HIGH_WATER, type NodeShell, type ShellEvents } from './node-shell';

type NodePty = typeof import('node-pty');
let nodePty: NodePty | undefined;

/**
 * node-pty is a native addon, so it cannot live inside the esbuild bundle: the build copies it beside
 * the bundle (dist/vendor/node-pty, see esbuild.config.mjs); from sources it is the dev dependency.
 */
export function loadNodePty(): NodePty {
  if (nodePty) return nodePty;
  const load = createRequire(__filename);
  const errors: string[] = [];
  for (const where of [path.join(__dirname, 'vendor', 'node-pty'), 'node-pty']) {
    try {
      return (nodePty = load(where) as NodePty);
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0]!);
    }
  }
  throw new Error(`terminals need node-pty (a native addon) beside the server, and it does not load here: ${errors.join('; ')}`);
}

export interface ProcessShellOptions {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  tty?: { cols: number; rows: number };
  host: string;
}

export function spawnProcessShell(options: ProcessShellOptions, events: ShellEvents): NodeShell {
  return options.tty ? ptyShell(options, options.tty, events) : pipeShell(options, events);
}

function ptyShell(o: ProcessShellOptions, size: { cols: number; rows: number }, events: ShellEvents): NodeShell {
  const pty: IPty = loadNodePty().spawn(o.file, o.args, { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd: o.cwd, env: { ...o.env, TERM: 'xterm-256color' } as Record<string, string> });
  pty.onData((text) => events.onData(Buffer.from(text, 'utf8')));
  pty.onExit(({ exitCode, signal }) => events.onExit(signal ? { code: null, signal: signalName(signal) } : { code: exitCode }));
  // node-pty queues writes the PTY is not ready for; how much is queued is not public, so the session
  // counts what it has written against what node-pty reports drained (its write queue is empty).
  return {
    host: o.host,
    write: (data) => {
      pty.write(data);
      return queuedInput(pty) < SHELL_INPUT_HIGH_WATER || (waitForDrain(pty, events), false);
    },
    // A PTY has no end of input short of the user typing Ctrl+D, which arrives as a byte.
    endInput: () => undefined,
    resize: (cols, rows) => pty.resize(cols, rows),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    // Closing the PTY is what closing a real terminal does: the kernel hangs up the shell's session (SIGHUP
    // to it and its foreground job) and their reads of the terminal fail from then on, so even a shell
    // that ignores SIGHUP (`trap '' HUP`) ends. A SIGHUP sent to the shell alone left that one running.
    // (node-pty's terminals have destroy(), which closes the PTY and then sends SIGHUP; IPty omits it.)
    hangUp: () => (pty as IPty & { destroy(): void }).destroy(),
  };
}

/** Bytes node-pty still holds for the PTY (its private write queue; 0 if a later version renames it). */
function queuedInput(pty: IPty): number {
  const queue = (pty as unknown as { _writeStream?: { _writeQueue?: { buffer: Buffer; offset: number }[] } })._writeStream?._writeQueue;
  return queue ? queue.reduce((n, t) => n + t.buffer.length - t.offset, 0) : 0;
}

function waitForDrain(pty: IPty, events: ShellEvents): void {
  const timer = setInterval(() => {
    if (queuedInput(pty) >= SHELL_INPUT_HIGH_WATER / 2) return;
    clearInterval(timer);
    events.onDrain();
  }, 10);
  pty.onExit(() => clearInterval(timer));
}

function pipeShell(o: ProcessShellOptions, events: ShellEvents): NodeShell {
  // Its own process group, so a hang-up reaches everything the command started.
  const child = spawn(o.file, o.args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (d: Buffer) => events.onData(d));
  child.stderr.on('data', (d: Buffer) => events.onData(d));
  child.stdin.on('drain', () => events.onDrain());
  child.stdin.on('error', () => undefined);
  child.on('error', (err) => {
    events.onData(Buffer.from(`${err.message}\n`));
    events.onExit({ code: 127 });
  });
  child.on('close', (code, signal) => events.onExit(signal ? { code: null, signal } : { code }));
  return {
    host: o.host,
    write: (data) => child.stdin.write(data),
    endInput: () => child.stdin.end(),
    resize: () => undefined,
    pause: () => {
      child.stdout.pause();
      child.stderr.pause();
    },
    resume: () => {
      child.stdout.resume();
      child.stderr.resume();
    },
    hangUp: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGHUP');
      } catch {
        // already gone
      }
    },
  };
}

function signalName(signal: number): string {
  const entry = Object.entries(os.constants.signals).find(([, n]) => n === signal);
  return entry?.[0] ?? String(signal);
}
