// Which TCP ports a machine listens on, from the kernel's socket tables (/proc/net/tcp and tcp6):
// read directly on the server's machine and over SSH on a pool host, parsed the same way. Reading
// them binds nothing, and sees sockets on every address (a bind test would see only one).
import { readFile } from 'node:fs/promises';

/** Prints both tables; a host without IPv6 has no tcp6. */
export const LISTENING_PORTS_COMMAND = 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true';

/** TCP_LISTEN in the `st` column. */
const LISTEN = '0A';

/** The ports of sockets in LISTEN state in /proc/net/tcp{,6} text. */
export function parseListeningPorts(text: string): Set<number> {
  const ports = new Set<number>();
  for (const line of text.split('\n')) {
    // `  0: 0100007F:1F90 00000000:0000 0A ...`: slot, local address:port, remote, state.
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== LISTEN || !local?.includes(':')) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isFinite(port)) ports.add(port);
  }
  return ports;
}

/**
 * Reading the tables costs the kernel a walk of every socket (~15 ms on a busy machine): one read serves
 * the candidates of one plan, which are weighed within a few milliseconds. Kept short, because a read
 * older than that can miss a process that started listening just before the launch.
 */
const FRESH_MS = 50;
let recent: { at: number; ports: Promise<Set<number>> } | undefined;

/** The ports something listens on on this machine (none known where /proc/net is absent), read at most every 50 ms. */
export function localListeningPorts(): Promise<Set<number>> {
  if (recent && Date.now() - recent.at < FRESH_MS) return recent.ports;
  const ports = Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => ''))).then((tables) => parseListeningPorts(tables.join('\n')));
  recent = { at: Date.now(), ports };
  return ports;
}

/** The ports of `asked` that something listens on. */
export function portsInUse(asked: readonly number[] | undefined, listening: Set<number>): number[] {
  return (asked ?? []).filter((p) => listening.has(p));
}
