// The quantities task files write as strings: memory and disk sizes with units, durations, port ranges.
// Each is parsed once here so the schema, the flags and the infra read them the same way.

const SIZE_UNITS_GIB: Record<string, number> = { b: 2 ** -30, k: 2 ** -20, m: 2 ** -10, g: 1, t: 2 ** 10, p: 2 ** 20 };

/** `16`, `16GB`, `512MiB`, `1TB` (with `+` when `allowPlus`): SkyPilot's size syntax. Plain numbers are GiB. */
export const SIZE = /^(\d+(?:\.\d+)?)\s*(?:([bkmgtp])(?:i?b|i)?)?(\+)?$/i;

/** A size in GiB, or undefined when the text is not one. */
export function parseSizeGiB(text: string, allowPlus: boolean): { gib: number; orMore: boolean } | undefined {
  const m = SIZE.exec(text.trim());
  if (!m || (m[3] && !allowPlus)) return undefined;
  const unit = m[2]?.toLowerCase() ?? 'g';
  return { gib: Number(m[1]) * SIZE_UNITS_GIB[unit]!, orMore: m[3] === '+' };
}

/** `30`, `30m`, `2h`, `1d`, `1w` in minutes (plain numbers are minutes, as in SkyPilot). */
export const DURATION_MINUTES = /^(\d+)([mhdw])?$/i;
const MINUTES_PER: Record<string, number> = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };

export function parseMinutes(text: string): number | undefined {
  const m = DURATION_MINUTES.exec(text.trim());
  return m ? Number(m[1]) * MINUTES_PER[(m[2] ?? 'm').toLowerCase()]! : undefined;
}

export interface PortRange {
  from: number;
  to: number;
}

/** `8080` or `8000-8010`; undefined when it is neither or a port is outside 1-65535. */
export function parsePortRange(text: string): PortRange | undefined {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) return undefined;
  return { from, to };
}

/** The canonical spelling of a port range: `8080` or `8000-8010`. */
export function formatPortRange(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** Every port a task's `ports` names, ranges merged and sorted. */
export function portRanges(ports: readonly string[] | undefined): PortRange[] {
  const ranges = (ports ?? []).map((p) => parsePortRange(p)).filter((r): r is PortRange => r !== undefined);
  ranges.sort((a, b) => a.from - b.from);
  const merged: PortRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  return merged;
}
