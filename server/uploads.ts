// Task files uploaded by clients on other machines (protocol/upload.ts has the bundle format). A bundle
// is unpacked into <data-dir>/uploads/<id>/ with every path checked, so nothing lands outside it and
// no link is ever created; tasks then refer to it as upload://<id>. Uploads past the retention window
// are removed. A bundle streams from the socket through gunzip straight into its files: memory per
// upload stays a few buffers whatever the bundle holds, and one that expands past the limit (a gzip
// bomb) stops at the limit with a 413.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isSafeBundlePath, parseUploadRef, UPLOAD_MAX_BYTES, type BundleEntry } from '../protocol/upload';
import { fail, SkyDeckError } from './errors';
import { storeWriteFailed } from './store/durable-file';

const MAX_HEADER_BYTES = 8192;
/** A client that stops sending mid-upload must not hold a connection and a staging folder for long. */
export const UPLOAD_IDLE_DEADLINE_MS = 30_000;
/** The whole upload, however steadily it drips: 256 MiB at well under 1 MB/s still fits. */
export const UPLOAD_DEADLINE_MS = 10 * 60_000;

export class UploadStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Unpacks a gzip bundle as it arrives; the id is the hash of its compressed content, so the same
   * files upload once. `deadlines` override the idle and total deadlines (tests).
   */
  async receive(body: NodeJS.ReadableStream & AsyncIterable<Buffer>, deadlines = { idleMs: UPLOAD_IDLE_DEADLINE_MS, totalMs: UPLOAD_DEADLINE_MS }): Promise<string> {
    const staging = path.join(this.dir, `.incoming-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const stall = (why: string) => controller.abort(fail.request_timeout(why));
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => stall(`upload stalled: nothing received for ${deadlines.idleMs / 1000} s`), deadlines.idleMs);
    };
    const total = setTimeout(() => stall(`upload not received within ${deadlines.totalMs / 1000} s`), deadlines.totalMs);
    resetIdle();
    try {
      await mkdir(staging, { recursive: true, mode: 0o700 });
      await pipeline(body, meter(hash, resetIdle), createGunzip(), new BundleWriter(staging), { signal: controller.signal });
      const id = hash.digest('hex').slice(0, 32);
      const target = path.join(this.dir, id);
      if (!existsSync(target)) {
        await rename(staging, target).catch((err: NodeJS.ErrnoException) => {
          // Another upload of the same bundle got there first.
          if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        });
      }
      return id;
    } catch (err) {
      throw uploadError(controller.signal.aborted ? controller.signal.reason : err);
    } finally {
      clearTimeout(idle);
      clearTimeout(total);
      await rm(staging, { recursive: true, force: true });
    }
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

/** Counts and hashes the compressed bytes as they pass, refusing more than the limit. */
function meter(hash: Hash, onData: () => void): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onData();
      size += chunk.length;
      if (size > UPLOAD_MAX_BYTES) return done(fail.body_too_large(`upload is over the limit of ${UPLOAD_MAX_BYTES} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** The bundle's entries, written under `root` as they stream in; unsafe paths and bundles that expand past the limit are refused. */
class BundleWriter extends Writable {
  private header = Buffer.alloc(0);
  private entry: (BundleEntry & { file: FileHandle; left: number }) | undefined;
  private expanded = 0;

  constructor(private readonly root: string) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.take(chunk).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.entry || this.header.length > 0) return done(fail.bad_request('upload bundle ends in the middle of an entry'));
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const file = this.entry?.file;
    this.entry = undefined;
    void (file?.close().catch(() => undefined) ?? Promise.resolve()).then(() => done(err));
  }

  private async take(chunk: Buffer): Promise<void> {
    this.expanded += chunk.length;
    if (this.expanded > UPLOAD_MAX_BYTES) throw fail.body_too_large(`upload expands past ${UPLOAD_MAX_BYTES} bytes (a compressed bundle may not unpack to more)`);
    let rest = chunk;
    while (rest.length > 0) {
      if (this.entry) {
        const part = rest.subarray(0, this.entry.left);
        rest = rest.subarray(part.length);
        await this.entry.file.write(part);
        this.entry.left -= part.length;
        if (this.entry.left === 0) await this.closeEntry();
        continue;
      }
      const newline = rest.indexOf(0x0a);
      if (newline < 0) {
        this.header = Buffer.concat([this.header, rest]);
        if (this.header.length > MAX_HEADER_BYTES) throw fail.bad_request('bundle entry header is too long');
        return;
      }
      const line = Buffer.concat([this.header, rest.subarray(0, newline)]);
      this.header = Buffer.alloc(0);
      rest = rest.subarray(newline + 1);
      if (line.length > MAX_HEADER_BYTES) throw fail.bad_request('bundle entry header is too long');
      await this.openEntry(parseHeader(line.toString('utf8')));
    }
  }

  private async openEntry(header: BundleEntry): Promise<void> {
    const file = path.join(this.root, ...header.path.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(file, 'wx', header.mode & 0o755).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? fail.bad_request(`bundle holds ${header.path} twice`) : err;
    });
    this.entry = { ...header, file: handle, left: header.size };
    if (header.size === 0) await this.closeEntry();
  }

  private async closeEntry(): Promise<void> {
    const { file } = this.entry!;
    this.entry = undefined;
    await file.close();
  }
}

/** What the client is told: its own mistakes as they are, a full disk as 507, a broken stream as a bad bundle. */
function uploadError(err: unknown): SkyDeckError {
  if (err instanceof SkyDeckError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return storeWriteFailed('the upload', err);
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return fail.bad_request('the upload was cut off before its end');
  return fail.bad_request(`not a valid upload bundle: ${(err as Error).message}`);
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
