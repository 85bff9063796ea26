// Host keys of pool hosts, trusted on first use: the first key a host shows is remembered in the data
// dir, and a different key later is refused, so a host that was swapped or spoofed never gets the
// task's code and secrets.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonRecord, replaceFile } from '../../store/durable-file';

export class HostKeys {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'ssh', 'known_hosts.json');
  }

  /** The remembered keys; a file that does not parse is refused, never read as "no host known yet". */
  private read(): Record<string, string> {
    return readJsonRecord(this.file, 'host keys', 'Restore it from a backup or fix it by hand; removing it trusts every host again on first use.');
  }

  /**
   * Checks the key a host presents. Returns undefined when it is trusted (and remembers a first-seen
   * key), else why it is refused.
   */
  check(address: string, key: Buffer): string | undefined {
    const fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
    let known: Record<string, string>;
    try {
      known = this.read();
    } catch (err) {
      return (err as Error).message;
    }
    const seen = known[address];
    if (seen === fingerprint) return undefined;
    if (seen !== undefined) {
      return `the host key of ${address} changed (remembered ${seen}, now ${fingerprint}); if the host was reinstalled on purpose, remove its entry from ${this.file}`;
    }
    known[address] = fingerprint;
    mkdirSync(dirname(this.file), { recursive: true });
    replaceFile(this.file, JSON.stringify(known, null, 1), 'the SSH host keys');
    return undefined;
  }
}
