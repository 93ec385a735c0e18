import type { SeriesKey } from '../core/types.js';
import type { PointFlag, SeriesWrite, StoredSeries } from './history.js';

/**
 * A replica's copy of the recent history and detection state of the series it evaluates, so a
 * tick need not re-read from Redis what it wrote itself. Redis stays the truth: an entry is used
 * only when its version is exactly one behind the write that just happened AND that write only
 * appended — then applying the same append and trims locally gives what a fresh read would.
 * Anything else (another replica wrote in between, a look-back rewrote old points, a restart)
 * is a miss and is read from Redis. Bounded: least recently used entries are dropped.
 */
export interface CachedSeries {
  readonly version: number;
  readonly history: StoredSeries;
  /** Detection state per state field (series × binding), as stored in Redis. */
  readonly states: Map<string, string>;
}

export class DetectionCache {
  private readonly entries = new Map<SeriesKey, CachedSeries>();

  constructor(
    private readonly maxSeries: number,
    /** Points kept per series: the tick's read window. */
    private readonly points: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry brought up to date with `write`, or undefined when it must be read from Redis. */
  advance(key: SeriesKey, write: SeriesWrite): CachedSeries | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.version !== write.version - 1 || !write.appendOnly) {
      this.entries.delete(key);
      return undefined;
    }
    const next: CachedSeries = {
      version: write.version,
      history: appendTrimmed(entry.history, write, this.points),
      states: entry.states,
    };
    this.remember(key, next);
    return next;
  }

  /** Stores what was read from Redis at `version`. */
  set(key: SeriesKey, version: number, history: StoredSeries, states: Map<string, string>): CachedSeries {
    const entry = { version, history, states };
    this.remember(key, entry);
    return entry;
  }

  /** Records what the tick committed to Redis: new states and anomaly flags. */
  commit(key: SeriesKey, field: string, state: string, flags: readonly PointFlag[]): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.states.set(field, state);
    for (const flag of flags) {
      const index = entry.history.timestamps.lastIndexOf(flag.timestamp);
      if (index >= 0) entry.history.anomalous[index] = flag.anomalous ? 1 : 0;
    }
  }

  private remember(key: SeriesKey, entry: CachedSeries): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxSeries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

function appendTrimmed(history: StoredSeries, write: SeriesWrite, points: number): StoredSeries {
  const n = history.timestamps.length;
  let from = 0;
  while (from < n && (history.timestamps[from] as number) < write.minTimestamp) from++;
  const fresh = write.points.filter((point) => point.ts >= write.minTimestamp);
  const total = n - from + fresh.length;
  const skip = Math.max(0, total - points);
  const size = total - skip;
  const timestamps = new Float64Array(size);
  const values = new Float64Array(size);
  const anomalous = new Uint8Array(size);
  let out = 0;
  for (let i = from; i < n; i++) {
    if (i - from < skip) continue;
    timestamps[out] = history.timestamps[i] as number;
    values[out] = history.values[i] as number;
    anomalous[out] = history.anomalous[i] as number;
    out++;
  }
  fresh.forEach((point, index) => {
    if (n - from + index < skip) return;
    timestamps[out] = point.ts;
    values[out] = point.value;
    out++;
  });
  return { key: history.key, timestamps, values, anomalous };
}
