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
export interface CachedSeries<State = string> {
  readonly version: number;
  /** Views over `buffers`: valid until the next advance of this series. */
  readonly history: StoredSeries;
  /** Detection state per state field (series × binding), as stored in Redis. */
  readonly states: Map<string, State>;
}

/** Over-allocated storage, so a tick appends in place instead of copying into new arrays. */
interface Buffers {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly anomalous: Uint8Array;
  start: number;
  end: number;
}

interface Entry<State> extends CachedSeries<State> {
  readonly buffers: Buffers;
}

export class DetectionCache<State = string> {
  private readonly entries = new Map<SeriesKey, Entry<State>>();

  constructor(
    private readonly maxSeries: number,
    /** Points kept per series: the tick's read window. */
    private readonly points: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The version this cache holds for `key` when a write starting at `firstTimestamp` would only
   * append after the newest cached point (the store may then skip reading the newest point back).
   */
  expectedVersion(key: SeriesKey, firstTimestamp: number): number | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const { buffers } = entry;
    const newest =
      buffers.end > buffers.start
        ? (buffers.timestamps[buffers.end - 1] as number)
        : Number.NEGATIVE_INFINITY;
    return firstTimestamp > newest ? entry.version : undefined;
  }

  /** The entry brought up to date with `write`, or undefined when it must be read from Redis. */
  advance(key: SeriesKey, write: SeriesWrite): CachedSeries<State> | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.version !== write.version - 1 || !write.appendOnly) {
      this.entries.delete(key);
      return undefined;
    }
    appendTrimmed(entry.buffers, write, this.points);
    const next: Entry<State> = {
      version: write.version,
      history: viewOf(key, entry.buffers),
      states: entry.states,
      buffers: entry.buffers,
    };
    this.remember(key, next);
    return next;
  }

  /** Stores what was read from Redis at `version`. */
  set(
    key: SeriesKey,
    version: number,
    history: StoredSeries,
    states: Map<string, State>,
  ): CachedSeries<State> {
    const capacity = 2 * Math.max(this.points, history.timestamps.length, 1);
    const buffers: Buffers = {
      timestamps: new Float64Array(capacity),
      values: new Float64Array(capacity),
      anomalous: new Uint8Array(capacity),
      start: 0,
      end: history.timestamps.length,
    };
    buffers.timestamps.set(history.timestamps);
    buffers.values.set(history.values);
    buffers.anomalous.set(history.anomalous);
    const entry: Entry<State> = { version, history: viewOf(key, buffers), states, buffers };
    this.remember(key, entry);
    return entry;
  }

  /** Records what the tick committed to Redis: new states and anomaly flags. */
  commit(key: SeriesKey, field: string, state: State, flags: readonly PointFlag[]): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.states.set(field, state);
    for (const flag of flags) {
      const index = entry.history.timestamps.lastIndexOf(flag.timestamp);
      if (index >= 0) entry.history.anomalous[index] = flag.anomalous ? 1 : 0;
    }
  }

  private remember(key: SeriesKey, entry: Entry<State>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxSeries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

/** Appends the written points, then drops what is older than the age limit or beyond `points`. */
function appendTrimmed(buffers: Buffers, write: SeriesWrite, points: number): void {
  for (const point of write.points) {
    if (buffers.end === buffers.timestamps.length) compact(buffers);
    buffers.timestamps[buffers.end] = point.ts;
    buffers.values[buffers.end] = point.value;
    buffers.anomalous[buffers.end] = 0;
    buffers.end++;
  }
  while (buffers.start < buffers.end && (buffers.timestamps[buffers.start] as number) < write.minTimestamp)
    buffers.start++;
  buffers.start = Math.max(buffers.start, buffers.end - points);
}

/** Moves the live range to the front: amortised O(1) per append with a 2× capacity. */
function compact(buffers: Buffers): void {
  buffers.timestamps.copyWithin(0, buffers.start, buffers.end);
  buffers.values.copyWithin(0, buffers.start, buffers.end);
  buffers.anomalous.copyWithin(0, buffers.start, buffers.end);
  buffers.end -= buffers.start;
  buffers.start = 0;
}

function viewOf(key: SeriesKey, buffers: Buffers): StoredSeries {
  const { start, end } = buffers;
  return {
    key,
    timestamps: buffers.timestamps.subarray(start, end),
    values: buffers.values.subarray(start, end),
    anomalous: buffers.anomalous.subarray(start, end),
  };
}
