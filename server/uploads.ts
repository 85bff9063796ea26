// Task files uploaded by clients on other machines (protocol/upload.ts has the bundle format). A bundle
// is unpacked into <data-dir>/uploads/<id>/ with every path checked, so nothing lands outside it and
// no link is ever created; tasks then refer to it as upload://<id>. Uploads past the retention window
// are removed.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { isSafeBundlePath, parseUploadRef, UPLOAD_MAX_BYTES, type BundleEntry } from '../protocol/upload';
import { fail, SkyDeckError } from './errors';

const MAX_HEADER_BYTES = 8192;

export class UploadStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Unpacks a gzip bundle; the id is the hash of its content, so the same files upload once. */
  async receive(body: AsyncIterable<Buffer>): Promise<string> {
    const compressed = await readLimited(body, UPLOAD_MAX_BYTES);
    const id = createHash('sha256').update(compressed).digest('hex').slice(0, 32);
    const target = path.join(this.dir, id);
    if (existsSync(target)) return id;
    const staging = path.join(this.dir, `.incoming-${randomBytes(8).toString('hex')}`);
    try {
      await unpack(compressed, staging);
      await rename(staging, target).catch(async (err: NodeJS.ErrnoException) => {
        // Another upload of the same bundle got there first.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return id;
  }

  /** The server path an `upload://` reference names, or the reference itself when it is a plain path. */
  resolve(ref: string): string {
    const upload = parseUploadRef(ref);
    if (!upload) {
      if (ref.startsWith('upload:')) throw fail.bad_request(`'${ref.slice(0, 100)}' is not a valid upload reference`);
      return ref;
    }
    const root = path.join(this.dir, upload.uploadId);
    if (!existsSync(root)) throw fail.upload_missing(`upload ${upload.uploadId} is not on this server (expired or never sent); launch again to upload it`);
    return upload.path ? path.join(root, ...upload.path.split('/')) : root;
  }

  async expire(now: number, retentionMs: number): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const full = path.join(this.dir, name);
      const info = await stat(full).catch(() => undefined);
      if (info && now - info.mtimeMs > retentionMs) await rm(full, { recursive: true, force: true });
    }
  }

  /** Marks an upload as used now, so retention counts from its last use. */
  touch(ref: string): void {
    const upload = parseUploadRef(ref);
    if (upload) utimesSync(path.join(this.dir, upload.uploadId), new Date(), new Date());
  }
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw fail.body_too_large(`upload is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Writes every entry of a bundle under `root`, refusing unsafe paths and bundles that expand past the limit. */
async function unpack(compressed: Buffer, root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const gunzip = createGunzip();
  gunzip.end(compressed);
  let pending = Buffer.alloc(0);
  let expanded = 0;
  let entry: (BundleEntry & { received: Buffer[]; got: number }) | undefined;
  const finishEntry = async () => {
    const file = path.join(root, ...entry!.path.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.concat(entry!.received), { mode: entry!.mode & 0o755, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? fail.bad_request(`bundle holds ${entry!.path} twice`) : err;
    });
    entry = undefined;
  };
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      expanded += chunk.length;
      if (expanded > UPLOAD_MAX_BYTES) throw fail.body_too_large(`upload expands past ${UPLOAD_MAX_BYTES} bytes`);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (entry) {
          const take = Math.min(entry.size - entry.got, pending.length);
          entry.received.push(pending.subarray(0, take));
          entry.got += take;
          pending = pending.subarray(take);
          if (entry.got < entry.size) break;
          await finishEntry();
          continue;
        }
        const newline = pending.indexOf(0x0a);
        if (newline < 0) {
          if (pending.length > MAX_HEADER_BYTES) throw fail.bad_request('bundle entry header is too long');
          break;
        }
        entry = { ...parseHeader(pending.subarray(0, newline).toString('utf8')), received: [], got: 0 };
        pending = pending.subarray(newline + 1);
        if (entry.size === 0) await finishEntry();
      }
    }
  } catch (err) {
    if (err instanceof SkyDeckError) throw err;
    throw fail.bad_request(`not a valid upload bundle: ${(err as Error).message}`);
  }
  if (entry || pending.length > 0) throw fail.bad_request('upload bundle ends in the middle of an entry');
}

function parseHeader(line: string): BundleEntry {
  let header: Partial<BundleEntry>;
  try {
    header = JSON.parse(line);
  } catch {
    throw fail.bad_request('bundle entry header is not JSON');
  }
  const { path: p, size, mode } = header;
  if (typeof p !== 'string' || !isSafeBundlePath(p)) throw fail.bad_request(`bundle entry path ${JSON.stringify(p)?.slice(0, 100)} is not a safe relative path`);
  if (!Number.isInteger(size) || size! < 0) throw fail.bad_request(`bundle entry ${p}: size must be a whole number of bytes`);
  if (!Number.isInteger(mode) || mode! < 0) throw fail.bad_request(`bundle entry ${p}: mode must be permission bits`);
  return { path: p, size: size!, mode: mode! };
}
