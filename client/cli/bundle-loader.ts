// Loads the CLI's bundles (dist/cli-main.js, dist/cli-<command>.js) through a V8 code cache kept in the
// user's SkyDeck home: compiling a bundle of zod and yaml, and the functions a command runs, was most of a
// short command's time (issue 8). Node 20 has no module.enableCompileCache, so a bundle is compiled here
// as a vm.Script with the cached code, and the code V8 compiled while the command ran is written back when
// it exits.
//
// The cache is an accelerator and never a dependency: a missing, stale (another build or Node), corrupt or
// foreign file is ignored and rewritten, and a home that cannot be written just means compiling each time.
// V8 checks only the source's length and its own version and flags, so each file carries the CRC-32 of the
// source it was made from and of its own payload, as Node's own compile cache does.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { untrustedFolder } from '../../shared/private-folder';
import { homePaths, skydeckHome } from '../home';

/** `SDC1`: a SkyDeck code cache, first layout: magic, source CRC-32, payload CRC-32, payload length. */
const MAGIC = 0x31434453;
const HEADER_BYTES = 16;

const loaded = new Map<string, unknown>();

/**
 * The exports of `cli-<name>.js` beside this bundle, run once per process. `dir` (the bundles' folder) and
 * `home` (whose code-cache folder is used) are for tests.
 */
export function loadBundle<T = unknown>(name: string, dir = __dirname, home = skydeckHome()): T {
  const file = path.join(dir, `cli-${name}.js`);
  if (!loaded.has(file)) loaded.set(file, run(file, path.join(homePaths(home).codeCache, `cli-${name}.cache`)));
  return loaded.get(file) as T;
}

function run(file: string, cacheFile: string): unknown {
  const source = readFileSync(file, 'utf8');
  const sourceCrc = crc32(source);
  const cached = readCache(cacheFile, sourceCrc);
  const script = new Script(wrap(source), { filename: file, cachedData: cached });
  if (cached === undefined || script.cachedDataRejected) {
    // After the command, when the cache can also hold what it compiled lazily (most of the bundle's cost).
    process.once('exit', () => writeCache(cacheFile, sourceCrc, script));
  }
  const module = { exports: {} as unknown, filename: file, id: file };
  const body = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: unknown, filename: string, dirname: string) => void;
  body.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

function readCache(cacheFile: string, sourceCrc: number): Buffer | undefined {
  // Compiled code is run as it is found: it is read only from a folder no other user can write to.
  if (untrustedFolder(path.dirname(cacheFile))) return undefined;
  let data: Buffer;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (data.length < HEADER_BYTES || data.readUInt32LE(0) !== MAGIC || data.readUInt32LE(4) !== sourceCrc) return undefined;
  const payload = data.subarray(HEADER_BYTES);
  if (payload.length !== data.readUInt32LE(12) || crc32(payload) !== data.readUInt32LE(8)) return undefined;
  return payload;
}

function writeCache(cacheFile: string, sourceCrc: number, script: Script): void {
  const aside = `${cacheFile}.${process.pid}.tmp`;
  try {
    const dir = path.dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (untrustedFolder(dir)) return;
    const payload = script.createCachedData();
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(sourceCrc, 4);
    header.writeUInt32LE(crc32(payload), 8);
    header.writeUInt32LE(payload.length, 12);
    writeFileSync(aside, Buffer.concat([header, payload]), { mode: 0o600 });
    // A reader sees the old file or the new one, never half of one.
    renameSync(aside, cacheFile);
  } catch {
    // An unwritable or full home: the next run compiles again.
    rmSync(aside, { force: true });
  }
}
