/** Unix seconds as `2025-01-02 15:04:05Z` (UTC: the same in every CI log); empty for null. */
export function formatTime(unix: number | null | undefined): string {
  if (unix === null || unix === undefined) return '';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** `in 5m`, `3h ago`, `now`: how far a Unix time is from `now` (also Unix seconds). */
export function formatRelative(unix: number, now: number): string {
  const delta = Math.round(unix - now);
  const span = Math.abs(delta);
  if (span < 5) return 'now';
  const text = span < 60 ? `${span}s` : span < 3600 ? `${Math.round(span / 60)}m` : span < 36 * 3600 ? `${Math.round(span / 3600)}h` : `${Math.round(span / 86400)}d`;
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** A Unix time with its distance from now, e.g. `2025-01-02 15:04:05Z (in 5m)`. */
export function formatTimeAndRelative(unix: number | null | undefined, now: number): string {
  return unix === null || unix === undefined ? '' : `${formatTime(unix)} (${formatRelative(unix, now)})`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units with 3 significant digits: `512 B`, `1.50 KiB`, `12.3 GiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toPrecision(3)} ${UNITS[unit]}`;
}

/** `a=1,b=2`; empty for no pairs. */
export function formatPairs(pairs: Record<string, unknown> | null | undefined): string {
  return Object.entries(pairs ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(',');
}
