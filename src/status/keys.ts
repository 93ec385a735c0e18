/** Findings (closed ones included) are remembered this long after their last update. */
export const FINDING_MEMORY_MS = 7 * 86_400_000;
/** Audit events kept in the status stream (approximate cap: Redis trims whole nodes). */
export const EVENTS_KEPT = 20_000;
/** How often a daemon re-writes its policy state (its heartbeat in the read model). */
export const REPLICA_HEARTBEAT_MS = 30_000;
/** A replica not heard of for this long is gone: its policy state is no longer shown. */
export const REPLICA_GONE_MS = 5 * 60_000;
