/** Findings (closed ones included) are remembered this long after their last update. */
export const FINDING_MEMORY_MS = 7 * 86_400_000;
/** Audit events kept in the status stream (approximate cap: Redis trims whole nodes). */
export const EVENTS_KEPT = 20_000;
