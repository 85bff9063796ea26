// Where a task's files come from: workdir (a folder or a git repository), file_mounts (paths, URLs or
// storage mappings), volumes and volume_mounts, as SkyPilot's task and storage schemas define them.
import * as z from 'zod';
import { isLocalSource } from './task-model';
import { UPLOAD_SCHEME } from './upload';

export { isLocalSource } from './task-model';

const STORES = ['s3', 'gcs', 'azure', 'r2', 'ibm', 'oci', 'nebius', 'coreweave', 'vastdata', 'volume'] as const;
const STORAGE_MODES = ['MOUNT', 'COPY', 'MOUNT_CACHED'] as const;
const MOUNT_TYPES = ['MODEL_CHECKPOINT_RO', 'MODEL_CHECKPOINT_RW'] as const;

/** `$VAR` / `${VAR}`: filled from envs before SkyPilot checks a storage mapping, so checked again after (fillEnvs). */
const ENV_REFERENCE = /\$\{?[A-Za-z_]/;

/** A value from a fixed set, matched without case as SkyPilot does, and given back in the set's case. */
function caseInsensitiveEnum<T extends string>(values: readonly T[], describe: string) {
  return z
    .string()
    .describe(describe)
    .refine((v) => ENV_REFERENCE.test(v) || values.some((x) => x.toLowerCase() === v.toLowerCase()), { message: `expected one of ${values.join(', ')}` })
    .transform((v): T | string => values.find((x) => x.toLowerCase() === v.toLowerCase()) ?? v);
}

export const workdirSchema = z.lazy(() => z
  .union([
    z.string().min(1),
    z.strictObject({
      url: z.string().min(1).describe('Git repository URL (a local path or file:// URL works too).'),
      ref: z.string().min(1).optional().describe('Branch, tag or commit to check out.'),
    }),
  ])
  .describe('The folder synced to ~/sky_workdir on every node, or a git repository {url, ref} cloned there.'));

export type Workdir = z.output<typeof workdirSchema>;

const rcloneSize = z.string().regex(/^\d+[bkmgtp]?$/i, 'expected a size such as 256M');
const rcloneDuration = z.string().regex(/^(([-+]?(\d+(\.\d+)?|\.\d+)(ms|[smhdwMy]))+|[-+]?(\d+(\.\d+)?|\.\d+))$/, 'expected a duration such as 1h or 30s');

export const storageSchema = z.lazy(() => z
  .strictObject({
    name: z.string().min(1).optional().describe('Bucket name.'),
    source: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional().describe('Local path(s) or bucket URL to fill the storage from.'),
    store: caseInsensitiveEnum(STORES, `Object store: ${STORES.join(', ')}.`).optional(),
    persistent: z.boolean().optional().describe('Keep the bucket after the cluster is torn down.'),
    mode: caseInsensitiveEnum(STORAGE_MODES, 'MOUNT, COPY or MOUNT_CACHED.').optional(),
    type: caseInsensitiveEnum(MOUNT_TYPES, 'MOUNT_CACHED tuning preset.').optional(),
    config: z
      .object({
        disk_size: z.union([z.string().regex(/^\d+\s*([kmgtp](i?b|i)?)?$/i), z.number().int()]).optional(),
        disk_tier: z.string().optional(),
        storage_type: z.string().optional(),
        attach_mode: z.string().optional(),
        mount_cached: z
          .strictObject({
            transfers: z.number().int().min(1).optional(),
            buffer_size: rcloneSize.optional(),
            vfs_cache_max_size: rcloneSize.optional(),
            vfs_cache_max_age: rcloneDuration.optional(),
            vfs_read_ahead: rcloneSize.optional(),
            vfs_read_chunk_size: rcloneSize.optional(),
            vfs_read_chunk_streams: z.number().int().min(0).optional(),
            vfs_write_back: rcloneDuration.optional(),
            read_only: z.boolean().optional(),
          })
          .optional(),
        mount: z.strictObject({ read_only: z.boolean().optional() }).optional(),
      })
      .optional()
      .describe('Store-specific settings (disk_size, mount_cached...).'),
    _is_sky_managed: z.boolean().optional(),
    _bucket_sub_path: z.string().optional(),
    _force_delete: z.boolean().optional(),
  })
  .describe('A storage mapping: {name, source, store, persistent, mode}.'));

export type StorageMount = z.output<typeof storageSchema>;

export const fileMountsSchema = z.lazy(() => z
  .record(z.string().min(1), z.union([z.string().min(1), storageSchema]))
  .describe('Remote path -> local path, bucket URL, or storage mapping {source, name, store, mode, persistent}.'));

export type FileMounts = z.output<typeof fileMountsSchema>;


/** The file mounts that are plain path copies (what every infra can do), leaving storage mappings aside. */
export function pathMounts(mounts: FileMounts | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(mounts ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The storage mappings SkyDeck copies like plain mounts: `mode: COPY` of local sources (or uploads of
 * them), as SkyPilot's COPY mode fills the mount path from a bucket filled from those sources.
 */
export function copiedStorageMounts(mounts: FileMounts | undefined): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const [remote, mount] of Object.entries(storageMounts(mounts))) {
    const copy = storageCopy(remote, mount);
    if (copy && !('problem' in copy)) Object.assign(copied, copy.copies);
  }
  return copied;
}

/**
 * Where a COPY storage mapping of local sources puts each one (remote path -> source), or why it
 * cannot; undefined for a mapping that is not one (a bucket, a cloud URL, another mode). One source
 * fills the mount path with its contents; a list puts each source at `<path>/<its name>`, as SkyPilot
 * uploads a list into the bucket's root (so two sources of one name are refused, as SkyPilot does).
 */
export function storageCopy(remote: string, mount: StorageMount): { copies: Record<string, string> } | { problem: string } | undefined {
  const sources = [mount.source ?? []].flat();
  if (mount.mode !== 'COPY' || sources.length === 0 || !sources.every(isLocalOrUpload)) return undefined;
  if (!Array.isArray(mount.source)) return { copies: { [remote]: sources[0]! } };
  const copies: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const source of sources) {
    if (source.endsWith('/')) return { problem: `source ${source} ends with a slash; name the folder itself (each source of a list lands at ${remote}/<its name>)` };
    const name = sourceName(source);
    if (name === undefined) return { problem: `source ${source.slice(0, 100)} names no file or folder to land at ${remote}/<its name>` };
    if (from[name] !== undefined) return { problem: `sources ${from[name]} and ${source} would both land at ${remote.replace(/\/+$/, '')}/${name}; give them different names or mounts of their own` };
    from[name] = source;
    copies[`${remote.replace(/\/+$/, '')}/${name}`] = source;
  }
  return { copies };
}

/** The last part of a source's path (`/data/train` -> train, `upload://ID/train` -> train), if it names one. */
function sourceName(source: string): string | undefined {
  const path = source.startsWith(UPLOAD_SCHEME) ? source.slice(UPLOAD_SCHEME.length).split('/').slice(1).join('/') : source;
  const name = path.split('/').pop();
  return name && name !== '.' && name !== '..' ? name : undefined;
}

/** Every mount copied from the client's files: plain path mounts and COPY storage mappings of a local source. */
export function copiedMounts(mounts: FileMounts | undefined): Record<string, string> {
  const plain = Object.entries(pathMounts(mounts)).filter(([, source]) => isLocalOrUpload(source));
  return { ...Object.fromEntries(plain), ...copiedStorageMounts(mounts) };
}

/** Uploads (`upload://ID/...`) are the client's own files sent with the task. */
function isLocalOrUpload(source: string): boolean {
  return isLocalSource(source) || source.startsWith(UPLOAD_SCHEME);
}

/** Storage mappings only. */
export function storageMounts(mounts: FileMounts | undefined): Record<string, StorageMount> {
  return Object.fromEntries(Object.entries(mounts ?? {}).filter((e): e is [string, StorageMount] => typeof e[1] !== 'string'));
}

export const volumesSchema = z.lazy(() => z
  .record(z.string().min(1), z.union([z.string().min(1), z.record(z.string(), z.unknown())]))
  .describe('Mount path -> volume name (or volume settings).'));

const SUB_PATH = /^[a-zA-Z0-9._-][a-zA-Z0-9./_-]*$/;

export const volumeMountsSchema = z.lazy(() => z
  .array(
    z.strictObject({
      path: z.string().optional(),
      volume_name: z.string().optional(),
      is_ephemeral: z.boolean().optional(),
      sub_path: z.string().regex(SUB_PATH, 'a relative path of letters, digits, . _ - /').optional(),
      volume_config: z
        .looseObject({ cloud: z.string().optional(), region: z.string().nullable().optional(), zone: z.string().nullable().optional() })
        .optional(),
    }),
  )
  .describe('Volumes mounted on the nodes (SkyPilot fills this itself; accepted).'));
