// What a backend hands back when asked for a shell on one of a cluster's nodes. The terminal session
// (terminal-sessions.ts) only moves bytes between this and its WebSocket; the backend decides how the
// shell is reached (a local PTY, an SSH channel, srun inside the job's allocation).

export interface ShellRequest<JobHandle = unknown> {
  /** Variables the shell starts with on top of the node's own (the SKYPILOT_* ones of its rank). */
  env: Record<string, string>;
  /** Run just this (`bash -lc`) instead of an interactive login shell. */
  command?: string;
  /** A PTY of this size; without it the shell runs on plain pipes. */
  tty?: { cols: number; rows: number };
  /** Handles of the cluster's running jobs, for backends whose nodes exist only inside a job (Slurm). */
  runningJobs: JobHandle[];
}

export interface ShellExit {
  code: number | null;
  signal?: string;
}

/** Where a shell's output and end go; set once, when the shell is opened. */
export interface ShellEvents {
  onData(chunk: Buffer): void;
  onExit(exit: ShellExit): void;
  /** The shell has taken all input written so far (after `write` returned false). */
  onDrain(): void;
}

export interface NodeShell {
  /** The node's host name, for the client's title. */
  readonly host: string;
  /** Returns false when the shell's input buffer is full: stop reading the client until `onDrain`. */
  write(data: Buffer): boolean;
  /** The client's input has ended (a command reading stdin sees end of file). */
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** Stop / restart reading the shell's output (the client is behind). */
  pause(): void;
  resume(): void;
  /** Ends the shell as a closed terminal does (SIGHUP to its session); `onExit` follows. */
  hangUp(): void;
}

/** Bytes of input a shell may hold before the session stops reading its client. */
export const SHELL_INPUT_HIGH_WATER = 256 * 1024;
