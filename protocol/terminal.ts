// The terminal WebSocket (`GET /api/terminal`): one interactive shell on one cluster node per connection.
// Terminal bytes travel as binary frames both ways; text frames carry the small JSON control messages
// below. The server never interprets the bytes: the PTY is on the node (or the server's machine for
// local infra) and the terminal emulator is the client's (VS Code's, or the user's own terminal).
import * as z from 'zod';
import type { ErrorCode } from './errors';

export const TERMINAL_PATH = '/api/terminal';

/** The query string that opens a session: which cluster and node, and how to start the shell. */
export const terminalQuery = z.object({
  cluster: z.string().min(1).max(63),
  /** The node's rank (0 = head). */
  node: z.coerce.number().int().min(0).max(4095).default(0),
  /** With a command, the shell runs just it (`bash -lc`) and the session ends with its exit code. */
  command: z.string().min(1).max(16 * 1024).optional(),
  /** `0` runs without a PTY (plain pipes): for commands whose output goes to a file or a pipe. */
  tty: z.enum(['0', '1']).default('1'),
  cols: z.coerce.number().int().min(1).max(1000).default(80),
  rows: z.coerce.number().int().min(1).max(1000).default(24),
});
export type TerminalQuery = z.input<typeof terminalQuery>;

export const terminalClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }),
  /** The client's input has ended (`skydeck ssh c -- cmd < file`). */
  z.object({ type: z.literal('eof') }),
]);
export type TerminalClientMessage = z.infer<typeof terminalClientMessage>;

export type TerminalServerMessage =
  /** The shell is running; output follows as binary frames. */
  | { type: 'ready'; cluster: string; node: number; host: string }
  /** The shell ended (the server closes the socket right after). `code` is null when a signal ended it. */
  | { type: 'exit'; code: number | null; signal?: string; reason?: string }
  /** The shell could not be started or was ended by the server (cluster torn down, stopped...). */
  | { type: 'error'; code: ErrorCode; message: string };

/** How a client that reports an exit code maps a shell killed by a signal (128 + n, as shells do). */
export const SIGNAL_EXIT_BASE = 128;
