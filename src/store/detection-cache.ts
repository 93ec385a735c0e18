import type { SeriesKey } from '../core/types.js';
import type { SeriesWrite, StoredSeries, TimedValue } from './history.js';

/**
 * A replica's copy of the recent history and detection state of the series it evaluates, so a
 * tick need not re-read from Redis what it wrote itself. Redis stays the truth: an entry is used
 * only when its version is exactly one behind the write that just happened AND that write only
 * appended — then applying the same append and trims locally gives what a fresh read would.
 * Anything else (another replica wrote in between, a look-back rewrote old points, a restart)
 * is a miss and is read from Redis. Bounded: least recently used entries are dropped.
 *
 * A tick looks an entry up once and then works on the entry itself: with 10,000 series, every
 * extra hash lookup by series key costs a measurable slice of the tick.
 */
export interface CacheEntry<State = string> {
  readonly key: SeriesKey;
  /** The series version (see SeriesWrite) this entry matches. */
  readonly version: number;
  /**
   * The history, updated in place by `advance` while the series length stays the same: read it
   * within a tick, do not keep it across ticks.
   */
  readonly history: StoredSeries;
  /** Detection state per detector binding (index), as last committed. */
  readonly states: (State | undefined)[];
}

interface MutableEntry<State> {
  key: SeriesKey;
  version: number;
  history: StoredSeries;
  states: (State | undefined)[];
  /** Lookup generation, for least-recently-used eviction. */
  used: number;
  /** False once evicted or invalidated: a stale handle must never be advanced. */
  live: boolean;
}

export class DetectionCache<State = string> {
  private readonly entries = new Map<SeriesKey, MutableEntry<State>>();
  private generation = 0;

  constructor(
    private readonly maxSeries: number,
    /** Points kept per series: the tick's read window. */
    private readonly points: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `key`, marked as recently used; undefined when not cached. */
  lookup(key: SeriesKey): CacheEntry<State> | undefined {
    const entry = this.entries.get(key);
    if (entry) entry.used = ++this.generation;
    return entry;
  }

  /**
   * The version this entry holds when a write starting at `firstTimestamp` would only append
   * after its newest point (the store may then skip reading the newest point back).
   */
  expectedVersion(handle: CacheEntry<State>, firstTimestamp: number): number | undefined {
    const { timestamps } = handle.history;
    const newest = timestamps.length > 0 ? (timestamps[timestamps.length - 1] as number) : -Infinity;
    return firstTimestamp > newest ? handle.version : undefined;
  }

  /**
   * Brings the entry up to date with `write`. False (and the entry dropped) when it cannot be
   * proven current, so the caller reads the series from Redis.
   */
  advance(handle: CacheEntry<State>, write: SeriesWrite): boolean {
    const entry = handle as MutableEntry<State>;
    if (!entry.live) return false;
    if (entry.version !== write.version - 1 || !write.appendOnly) {
      this.drop(entry);
      return false;
    }
    entry.history = appendTrimmed(entry.history, write, this.points);
    entry.version = write.version;
    return true;
  }

  /** Stores what was read from Redis at `version`. */
  set(
    key: SeriesKey,
    version: number,
    history: StoredSeries,
    states: (State | undefined)[],
  ): CacheEntry<State> {
    const previous = this.entries.get(key);
    if (previous) previous.live = false;
    const entry: MutableEntry<State> = {
      key,
      version,
      history: copyOf(history),
      states,
      used: ++this.generation,
      live: true,
    };
    this.entries.set(key, entry);
    if (this.entries.size > this.maxSeries) this.evict();
    return entry;
  }

  /** Records what the tick committed to Redis: a binding's new state and the points it flagged. */
  commit(handle: CacheEntry<State>, binding: number, state: State, flagged: readonly number[]): void {
    const entry = handle as MutableEntry<State>;
    if (!entry.live) return;
    entry.states[binding] = state;
    const { timestamps, anomalous } = entry.history;
    for (const timestamp of flagged) {
      const index = timestamps.lastIndexOf(timestamp);
      if (index >= 0) anomalous[index] = 1;
    }
  }

  /**
   * Drops the least recently used sixteenth at once: one sort per many insertions, instead of
   * reordering the map on every lookup of every tick.
   */
  private evict(): void {
    const excess = this.entries.size - this.maxSeries;
    const count = Math.min(this.entries.size, Math.max(excess, Math.ceil(this.maxSeries / 16)));
    const oldest = [...this.entries.values()].sort((a, b) => a.used - b.used).slice(0, count);
    for (const entry of oldest) this.drop(entry);
  }

  private drop(entry: MutableEntry<State>): void {
    entry.live = false;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }
}

/**
 * The history after appending the written points and dropping what is older than the age limit
 * or beyond `points`. When the length stays the same — every tick of a full window — the arrays
 * are shifted in place and nothing is allocated.
 */
function appendTrimmed(history: StoredSeries, write: SeriesWrite, points: number): StoredSeries {
  const old = history.timestamps.length;
  const added = write.points.length;
  const total = old + added;
  let start = 0;
  while (start < old && (history.timestamps[start] as number) < write.minTimestamp) start++;
  if (start === old) {
    while (start < total && (write.points[start - old] as TimedValue).timestamp < write.minTimestamp) start++;
  }
  start = Math.max(start, total - points);
  const length = total - start;
  const target =
    length === old
      ? history
      : {
          key: history.key,
          timestamps: new Float64Array(length),
          values: new Float64Array(length),
          anomalous: new Uint8Array(length),
        };
  // Kept old points first. In place this moves them towards the front, which copyWithin handles.
  const keptOld = Math.max(0, old - start);
  if (keptOld > 0) {
    const from = old - keptOld;
    if (target === history) {
      target.timestamps.copyWithin(0, from, old);
      target.values.copyWithin(0, from, old);
      target.anomalous.copyWithin(0, from, old);
    } else {
      target.timestamps.set(history.timestamps.subarray(from, old));
      target.values.set(history.values.subarray(from, old));
      target.anomalous.set(history.anomalous.subarray(from, old));
    }
  }
  for (let i = Math.max(start, old); i < total; i++) {
    const point = write.points[i - old] as TimedValue;
    const at = i - start;
    target.timestamps[at] = point.timestamp;
    target.values[at] = point.value;
    target.anomalous[at] = 0;
  }
  return target;
}

function copyOf(history: StoredSeries): StoredSeries {
  return {
    key: history.key,
    timestamps: Float64Array.from(history.timestamps),
    values: Float64Array.from(history.values),
    anomalous: Uint8Array.from(history.anomalous),
  };
}
