/**
 * Renders a time for one-line reasons, in UTC: `14:05` when it falls on the same UTC day as
 * `now`, else `2026-02-04 14:05`. Reasons stay short and still unambiguous across midnight.
 * Times outside the Date range render as the raw number (evaluation must never throw).
 */
export function formatTime(ms: number, now: number): string {
  const text = isoOrUndefined(ms);
  if (text === undefined) return String(ms);
  const sameDay = isoOrUndefined(now)?.slice(0, 10) === text.slice(0, 10);
  return sameDay ? text.slice(11, 16) : `${text.slice(0, 10)} ${text.slice(11, 16)}`;
}

function isoOrUndefined(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
