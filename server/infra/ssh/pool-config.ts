// SSH node pools as defined in SKYDECK_HOME/ssh_node_pools.yaml: pool name -> hosts and how to log in.
// Validation errors name the file and line so a typo is found at once.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import * as z from 'zod';

export const POOLS_FILE = 'ssh_node_pools.yaml';

/** One host of a pool with every login detail resolved (pool defaults + per-host overrides). */
export interface PoolHost {
  /** How the pool's hosts are told apart: the `name` given, else the address. */
  name: string;
  /** Address used to connect, and what other nodes see in SKYPILOT_NODE_IPS. */
  ip: string;
  port: number;
  user: string;
  identityFile: string;
}

export interface NodePool {
  name: string;
  hosts: PoolHost[];
}

const port = z.number().int().min(1).max(65535);
const hostOverrides = z.strictObject({
  ip: z.string().min(1),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -').optional(),
  user: z.string().min(1).optional(),
  identity_file: z.string().min(1).optional(),
  port: port.optional(),
});
const poolSchema = z.strictObject({
  hosts: z.array(z.union([z.string().min(1), hostOverrides])).min(1, 'a pool needs at least one host'),
  user: z.string().min(1).optional(),
  identity_file: z.string().min(1).optional(),
  port: port.optional(),
});
const poolsSchema = z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'pool names are letters, digits, . _ -'), poolSchema);

export class PoolConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolConfigError';
  }
}

export function poolsPath(home: string): string {
  return join(home, POOLS_FILE);
}

/** Reads and validates the pools file; throws PoolConfigError with `file:line: path: message` lines. */
export function loadPools(home: string): NodePool[] {
  const file = poolsPath(home);
  return parsePools(readFileSync(file, 'utf8'), file);
}

export function parsePools(text: string, file: string): NodePool[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PoolConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? 1}: not valid YAML: ${e.message.split('\n')[0]}`).join('\n'));
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const result = poolsSchema.safeParse(value);
  // The deepest node that exists along the path: a missing key is reported where its parent is.
  const lineOf = (path: readonly PropertyKey[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true)) as YamlNode | null | undefined;
      const offset = node?.range?.[0];
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return 1;
  };
  if (!result.success) {
    throw new PoolConfigError(
      result.error.issues
        .map((i) => {
          const path = i.path.map(String).join('.');
          const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
          return `${file}:${lineOf(i.path)}: ${path || '(file)'}: ${i.message}${keys}`;
        })
        .join('\n'),
    );
  }
  const pools: NodePool[] = [];
  for (const [name, pool] of Object.entries(result.data)) {
    const hosts = pool.hosts.map((entry, index): PoolHost => {
      const h = typeof entry === 'string' ? { ip: entry } : entry;
      const user = h.user ?? pool.user;
      const identityFile = h.identity_file ?? pool.identity_file;
      const where = `${file}:${lineOf([name, 'hosts', index])}: ${name}.hosts.${index}`;
      if (user === undefined) throw new PoolConfigError(`${where}: no user for ${h.ip}; set \`user\` on the pool or the host`);
      if (identityFile === undefined) throw new PoolConfigError(`${where}: no identity_file for ${h.ip}; set \`identity_file\` on the pool or the host`);
      return { name: h.name ?? h.ip, ip: h.ip, port: h.port ?? pool.port ?? 22, user, identityFile: resolvePath(identityFile, dirname(file)) };
    });
    const seen = new Set<string>();
    for (const h of hosts) {
      if (seen.has(h.name)) throw new PoolConfigError(`${file}: pool ${name} lists host ${h.name} twice; give each entry a distinct \`name\``);
      seen.add(h.name);
    }
    pools.push({ name, hosts });
  }
  return pools;
}

/** `~/...` is the server user's home; a relative path is taken from the pools file's folder. */
function resolvePath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return join(os.homedir(), path.slice(1));
  return resolve(base, path);
}
