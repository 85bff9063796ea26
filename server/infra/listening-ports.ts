// Which TCP ports a machine listens on, from the kernel's socket tables (/proc/net/tcp and tcp6):
// read directly on the server's machine and over SSH on a pool host, parsed the same way. Reading
// them binds nothing, and sees sockets on every address (a bind test would see only one).
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Prints the listening rows of both tables, run on a pool host: awk stops reading a table at its first
 * row past the listeners (see pastListeners), so the kernel does not walk, nor SSH carry, the rows of
 * every connection. A host without awk prints both tables whole; one without IPv6 has no tcp6.
 */
export const LISTENING_PORTS_COMMAND =
  'if command -v awk >/dev/null 2>&1; then for t in /proc/net/tcp /proc/net/tcp6; do [ -r "$t" ] && awk \'FNR > 1 && $4 != "0A" && $4 != "03" { exit } $4 == "0A"\' "$t"; done; else cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; fi; true';

/** A row: `  0: 0100007F:1F90 00000000:0000 0A ...`: slot, local address:port, remote address:port, state. */
const ROW = /^ *\d+: [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} ([0-9A-F]{2}) /gm;

/** TCP_LISTEN and TCP_SYN_RECV in the `st` column. */
const LISTEN = '0A';
const SYN_RECV = '03';

/** The ports of sockets in LISTEN state in /proc/net/tcp{,6} text. */
export function parseListeningPorts(text: string): Set<number> {
  const ports = new Set<number>();
  for (const [, port, state] of text.matchAll(ROW)) if (state === LISTEN) ports.add(Number.parseInt(port!, 16));
  return ports;
}

/**
 * The kernel lists a table's listening sockets first (its listening hash), then every other socket (the
 * established hash, where SYN_RECV requests and TIME_WAIT live too). Older kernels listed a listener's
 * SYN_RECV requests right after it, so only a row in another state ends the listening part.
 */
function pastListeners(rows: string): boolean {
  for (const [, , state] of rows.matchAll(ROW)) if (state !== LISTEN && state !== SYN_RECV) return true;
  return false;
}

/**
 * A read of a /proc seq file returns what fits in one page (4 KiB at least), so one this much shorter
 * than a page ended because the table did: the read at the end of the file, which costs the kernel a
 * second walk of every hash bucket, is not needed.
 */
const TABLE_ENDED_BELOW = 4096 - 512;

/**
 * The rows of a table up to its first socket that is not listening (all of them where every socket is).
 * On a busy server (a thousand log followers) that is one read instead of the thousand rows.
 */
async function listeningPart(file: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return ''; // no IPv6, or no /proc/net
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let rows = '';
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      const page = buffer.toString('latin1', 0, bytesRead);
      rows += page;
      if (bytesRead < TABLE_ENDED_BELOW || pastListeners(page)) return rows;
    }
  } finally {
    await handle.close();
  }
}

/**
 * The ports something listens on on this machine (none known where /proc/net is absent), read now:
 * walking the kernel's socket tables takes milliseconds (more under load), so a plan reads them once for
 * all its candidates (PlanSurvey), and only when a candidate has ports; never from an earlier plan,
 * which could miss a process that started listening since.
 */
export async function localListeningPorts(): Promise<Set<number>> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map(listeningPart));
  return parseListeningPorts(tables.join('\n'));
}

/** The ports of `asked` that something listens on. */
export function portsInUse(asked: readonly number[] | undefined, listening: Set<number>): number[] {
  return (asked ?? []).filter((p) => listening.has(p));
}
