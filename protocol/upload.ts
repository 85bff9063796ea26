// Uploads of a task's local files (workdir, file_mounts) to a server on another machine.
//
// A bundle is gzip over a sequence of entries, each one JSON header line ending in "\n" followed by
// `size` bytes of content: {"path":"src/a.py","size":120,"mode":420}. Paths are relative, with `/`
// separators, and never climb out of the bundle. The server answers POST /api/uploads with
// {uploadId}; the task then names the files `upload://<uploadId>[/<path inside the bundle>]`.

export const UPLOAD_SCHEME = 'upload://';
export const UPLOAD_MAX_BYTES = 256 * 1024 * 1024;
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

export interface BundleEntry {
  path: string;
  size: number;
  /** Permission bits (the executable bit matters for scripts). */
  mode: number;
}

export interface UploadResponse {
  uploadId: string;
}

/** A path that stays inside the bundle: relative, no `..`, no empty or `.` parts, no NUL or backslash. */
export function isSafeBundlePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || path.startsWith('/') || /[\0\\]/.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** `upload://<id>/<path>` -> its parts; undefined for anything else (a plain path on the server). */
export function parseUploadRef(ref: string): { uploadId: string; path?: string } | undefined {
  if (!ref.startsWith(UPLOAD_SCHEME)) return undefined;
  const [uploadId, ...rest] = ref.slice(UPLOAD_SCHEME.length).split('/');
  if (!UPLOAD_ID.test(uploadId ?? '')) return undefined;
  const path = rest.join('/');
  if (path !== '' && !isSafeBundlePath(path)) return undefined;
  return { uploadId: uploadId!, path: path || undefined };
}
