// Sends a task's local files (workdir, file_mounts) to a server that does not read this machine's paths
// (on another machine, or a team server). The task that is submitted names them upload://<id> instead.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Task } from '../protocol/task';
import { isLocalSource } from '../protocol/task-model';
import { UPLOAD_MAX_BYTES, UPLOAD_SCHEME } from '../protocol/upload';
import type { ApiClient } from './api-client';
import { ClientError } from './errors';

/** Folders that are never part of a workdir upload. */
const SKIPPED = new Set(['.git', 'node_modules', '__pycache__', '.venv']);

/**
 * Uploads the task's workdir and file_mounts sources, except to the owner's local server, which reads
 * this machine's paths itself (a team server accepts only uploads, even from its own machine).
 */
export async function uploadTaskFiles(client: ApiClient, task: Task, onNote: (line: string) => void = () => undefined): Promise<Task> {
  if (client.endpoint.localSocket) return task;
  // A folder in a storage mapping's source list keeps its name: it lands at <mount path>/<its name>.
  const upload = async (local: string, keepName = false) => {
    const info = lstatSync(local);
    const named = keepName && info.isDirectory();
    const bundle = info.isDirectory() ? bundleDirectory(local, named ? path.basename(local) : '') : bundleFiles([[path.basename(local), local]]);
    const uploadId = await client.upload(bundle);
    onNote(`Uploaded ${local} (${(bundle.length / 1024).toFixed(0)} KiB compressed) as ${uploadId.slice(0, 8)}.`);
    return info.isDirectory() && !named ? `${UPLOAD_SCHEME}${uploadId}` : `${UPLOAD_SCHEME}${uploadId}/${path.basename(local)}`;
  };
  // A git workdir ({url, ref}) is cloned by the server, not uploaded.
  const workdir = typeof task.workdir === 'string' ? await upload(task.workdir) : undefined;
  const uploadSource = async (source: string, keepName = false) => (isLocalSource(source) ? upload(source, keepName) : source);
  const mounts =
    task.file_mounts &&
    Object.fromEntries(
      await Promise.all(
        Object.entries(task.file_mounts).map(async ([remote, mount]) => {
          if (typeof mount === 'string') return [remote, await uploadSource(mount)] as const;
          // A storage mapping's local sources travel too; bucket URLs stay as written.
          const source = mount.source === undefined ? undefined : Array.isArray(mount.source) ? await Promise.all(mount.source.map((s) => uploadSource(s, true))) : await uploadSource(mount.source);
          return [remote, source === undefined ? mount : { ...mount, source }] as const;
        }),
      ),
    );
  return { ...task, ...(workdir ? { workdir } : {}), ...(mounts ? { file_mounts: mounts } : {}) };
}

/** A gzip bundle of every regular file under `dir` (links and special files are left out), in a stable order; under `under/` when given. */
export function bundleDirectory(dir: string, under = ''): Buffer {
  const files: [string, string][] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(dir, relative)).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      const info = lstatSync(path.join(dir, rel));
      if (info.isDirectory() && !SKIPPED.has(name)) walk(rel);
      else if (info.isFile()) files.push([under ? `${under}/${rel}` : rel, path.join(dir, rel)]);
    }
  };
  walk('');
  return bundleFiles(files);
}

function bundleFiles(files: [bundlePath: string, source: string][]): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (const [bundlePath, source] of files) {
    const content = readFileSync(source);
    total += content.length;
    if (total > UPLOAD_MAX_BYTES) throw new ClientError('upload_too_large', `${source}: the files to upload are over ${UPLOAD_MAX_BYTES / 2 ** 20} MiB; trim the workdir`);
    parts.push(Buffer.from(JSON.stringify({ path: bundlePath, size: content.length, mode: lstatSync(source).mode & 0o777 }) + '\n'), content);
  }
  return gzipSync(Buffer.concat(parts));
}
