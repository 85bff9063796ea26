// Text formatting for terminals and views: relative times, durations and aligned tables.

/** `just now`, `5s ago`, `3m ago`, `2h ago`, `4d ago`; a time in the future (clock skew) reads `just now`. */
export function relativeTime(at: number, now = Date.now()): string {
  const seconds = Math.floor((now - at) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** `850ms`, `12s`, `3m 5s`, `2h 10m`, `3d 4h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export { table, type Column } from '../protocol/text-table';

/** The first 8 characters of a request id: what people type and what listings show. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
