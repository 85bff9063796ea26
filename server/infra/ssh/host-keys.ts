// Host keys of pool hosts, trusted on first use: the first key a host shows is remembered in the data
// dir, and a different key later is refused, so a host that was swapped or spoofed never gets the
// task's code and secrets.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class HostKeys {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'ssh', 'known_hosts.json');
  }

  private read(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  /**
   * Checks the key a host presents. Returns undefined when it is trusted (and remembers a first-seen
   * key), else why it is refused.
   */
  check(address: string, key: Buffer): string | undefined {
    const fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
    const known = this.read();
    const seen = known[address];
    if (seen === fingerprint) return undefined;
    if (seen !== undefined) {
      return `the host key of ${address} changed (remembered ${seen}, now ${fingerprint}); if the host was reinstalled on purpose, remove its entry from ${this.file}`;
    }
    known[address] = fingerprint;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(known, null, 1));
    renameSync(`${this.file}.tmp`, this.file);
    return undefined;
  }
}
