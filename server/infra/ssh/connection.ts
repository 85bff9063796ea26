// SSH connections to pool hosts (ssh2): short commands share one cached connection per host; a job's
// follower opens its own, whose keepalive is how a host that drops mid-job is noticed.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { fail } from '../../errors';
import type { HostKeys } from './host-keys';

export interface SshTarget {
  /** The host's name in its pool, used in messages. */
  name: string;
  ip: string;
  port: number;
  user: string;
  identityFile: string;
}

/** Seconds of silence after which a host counts as gone: keepalive interval x (count + 1). */
const KEEPALIVE_INTERVAL_MS = 1000;
const KEEPALIVE_COUNT_MAX = 3;
const CONNECT_TIMEOUT_MS = 8000;

export function describeTarget(t: SshTarget): string {
  return t.name === t.ip ? `${t.user}@${t.ip}:${t.port}` : `${t.name} (${t.user}@${t.ip}:${t.port})`;
}

export async function connect(target: SshTarget, hostKeys: HostKeys): Promise<Client> {
  let privateKey: Buffer;
  try {
    privateKey = await readFile(target.identityFile);
  } catch (err) {
    throw new Error(`cannot read identity_file ${target.identityFile} for ${describeTarget(target)}: ${(err as Error).message}`);
  }
  const client = new Client();
  let refusedKey: string | undefined;
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      client.end();
      reject(new Error(`cannot connect to ${describeTarget(target)}: ${refusedKey ?? err.message}`));
    };
    client.once('ready', () => {
      client.off('error', fail);
      // Later errors surface through 'close' to whoever holds the connection.
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', fail);
    client.connect({
      host: target.ip,
      port: target.port,
      username: target.user,
      privateKey,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: (key: Buffer) => {
        refusedKey = hostKeys.check(`${target.ip}:${target.port}`, key);
        return refusedKey === undefined;
      },
    });
  });
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command and collects its output. `stdin` is written then closed (a Buffer or a stream). */
export function execOn(client: Client, command: string, stdin?: Buffer | string | Readable): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => errOut.push(d));
      channel.on('exit', (c: number | null) => {
        code = c;
      });
      channel.on('close', () => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() }));
      feed(channel, stdin);
    });
  });
}

function feed(channel: ClientChannel, stdin: Buffer | string | Readable | undefined): void {
  if (stdin === undefined) channel.end();
  else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) channel.end(stdin);
  else stdin.pipe(channel);
}

/** One cached connection per host for short commands; a broken connection is dropped and made again. */
export class SshConnections {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(private readonly hostKeys: HostKeys) {}

  /** A connection of its own, for a job's follower: its keepalive tells when the host drops. */
  connectDedicated(target: SshTarget): Promise<Client> {
    return connect(target, this.hostKeys);
  }

  private key(t: SshTarget): string {
    return `${t.user}@${t.ip}:${t.port}`;
  }

  get(target: SshTarget): Promise<Client> {
    const key = this.key(target);
    let client = this.clients.get(key);
    if (!client) {
      client = connect(target, this.hostKeys);
      this.clients.set(key, client);
      client.then(
        (c) => c.once('close', () => this.clients.get(key) === client && this.clients.delete(key)),
        () => this.clients.get(key) === client && this.clients.delete(key),
      );
    }
    return client;
  }

  /** Runs a command on the host; a failure to connect is thrown with the host named. */
  async exec(target: SshTarget, command: string, stdin?: Buffer | string | Readable): Promise<ExecResult> {
    const client = await this.get(target);
    try {
      // What SkyDeck writes on a node (job dirs, markers, copies, logs) is the node user's alone.
      return await execOn(client, `umask 077\n${command}`, stdin);
    } catch (err) {
      throw fail.infra_failed(`on ${describeTarget(target)}: ${(err as Error).message}`);
    }
  }

  /** Like exec, but a non-zero exit is an error carrying the command's stderr. */
  async run(target: SshTarget, command: string, stdin?: Buffer | string | Readable): Promise<string> {
    const r = await this.exec(target, command, stdin);
    if (r.code !== 0) throw fail.infra_failed(`on ${describeTarget(target)}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** Forgets a host whose connection is suspect (it dropped mid-job), so the next call reconnects. */
  forget(target: SshTarget): void {
    const key = this.key(target);
    const client = this.clients.get(key);
    this.clients.delete(key);
    client?.then((c) => c.end(), () => {});
  }

  closeAll(): void {
    for (const c of this.clients.values()) c.then((client) => client.end(), () => {});
    this.clients.clear();
  }
}
