// Building shell scripts from task parts without letting a value escape its quotes.

/** Quotes a value for POSIX sh: single quotes, with embedded single quotes closed and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export K='v'` lines, one per variable. Names are validated by the task schema. */
export function exportLines(envs: Record<string, string>): string {
  return Object.entries(envs)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    .join('\n');
}

/** Where a file mount's remote path lands: `~/x` and relative paths are under the login's home. */
export function remotePathExpr(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shellQuote(path.slice(2))}`;
  if (path.startsWith('/')) return shellQuote(path);
  return `"$HOME"/${shellQuote(path)}`;
}
