// The printed table: each figure beside the target (and the SkyPilot figure the issue quotes).

export interface Row {
  figure: string;
  measured: string;
  target?: string;
  /** true: meets the target; false: misses it; undefined: no target. */
  ok?: boolean;
  skypilot?: string;
}

export function renderTable(rows: Row[]): string {
  const head = ['Figure', 'Measured', 'Target', 'Met', 'SkyPilot (issue 2)'];
  const cells = rows.map((r) => [r.figure, r.measured, r.target ?? '', r.ok === undefined ? '' : r.ok ? 'yes' : 'NO', r.skypilot ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((v, i) => v.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

export const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);
export const seconds = (msValue: number) => `${(msValue / 1000).toFixed(3)} s`;
export const perSecond = (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`;
export const mb = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);
