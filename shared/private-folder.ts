// Whether a folder is its owner's alone: what a client checks before it trusts what it finds there (the
// local server's socket, the CLI's compiled code).
import { lstatSync } from 'node:fs';

/**
 * Why the folder cannot be trusted (not a folder, someone else's, or writable by others, who could then
 * put their own files there), or undefined when it is fine or does not exist yet.
 */
export function untrustedFolder(dir: string): string | undefined {
  let info;
  try {
    info = lstatSync(dir);
  } catch {
    return undefined;
  }
  const uid = process.getuid?.();
  if (!info.isDirectory()) return `${dir} is not a folder`;
  if (uid !== undefined && info.uid !== uid) return `${dir} belongs to uid ${info.uid}, not to you (uid ${uid})`;
  if ((info.mode & 0o022) !== 0) return `${dir} can be written by other users (mode ${(info.mode & 0o777).toString(8)})`;
  return undefined;
}
