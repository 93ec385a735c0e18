/**
 * Renders a time for one-line reasons, in UTC: `14:05` when it falls on the same UTC day as
 * `now`, else `2026-02-04 14:05`. Reasons stay short and still unambiguous across midnight.
 */
export function formatTime(ms: number, now: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const text = new Date(ms).toISOString();
  const sameDay = Number.isFinite(now) && new Date(now).toISOString().slice(0, 10) === text.slice(0, 10);
  return sameDay ? text.slice(11, 16) : `${text.slice(0, 10)} ${text.slice(11, 16)}`;
}
