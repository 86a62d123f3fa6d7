/**
 * Durations and ages as people read them. `formatDuration` is exact to the tenth of a second (step times,
 * timeouts); `formatRoughDuration` rounds to whole seconds or minutes and counts days (rolling estimates).
 */

/** `850ms`, `12.5s`, `2m5s`, `1h10m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const rs = Math.round(s % 60);
  if (m < 60) return rs ? `${m}m${rs}s` : `${m}m`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  return rm ? `${h}h${rm}m` : `${h}h`;
}

/** `45s`, `12m`, `2h10m`, `3d4h`. */
export function formatRoughDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** A chat age from an ISO time: `12m`, `3d` from two days on, `?` without a time. */
export function age(iso: string | undefined, now: Date): string {
  if (!iso) return '?';
  const ms = Math.max(0, now.getTime() - Date.parse(iso));
  return ms >= 2 * 86_400_000 ? `${Math.round(ms / 86_400_000)}d` : formatDuration(ms);
}

/** `2m5s ago`, or `never` without a time (the CLI views and the status page). */
export function agoOrNever(at: string | undefined | null, nowMs = Date.now()): string {
  return at ? `${formatDuration(nowMs - Date.parse(at))} ago` : 'never';
}
