import type { Redis } from 'ioredis';
import { type Sample, type SeriesKey, seriesKey } from '../core/types.js';
import type { RedisKeys } from './keys.js';

/**
 * Series history in Redis: one sorted set per series, score = timestamp (ms), member =
 * `timestamp|value|flag` where flag 1 marks a point a detector flagged anomalous (kept out of
 * later baselines). Writing a timestamp that exists replaces it, so a look-back query that
 * re-returns old days never doubles them. Each series is trimmed by count and by age.
 *
 * A batch of series is written, and read, by ONE server-side script call: per-command client
 * overhead, not Redis, dominates a pipeline of thousands of small commands. Scripts touch
 * several keys, so on Redis Cluster the key prefix must carry a hash tag (e.g. `{vigil}`),
 * which keeps a deployment's keys on one slot.
 */
export interface HistorySettings {
  /** Key names (src/store/keys.ts); a namespace such as `{vigil}` keeps them on one Cluster slot. */
  readonly keys: RedisKeys;
  /** Points kept per series. */
  readonly maxPoints: number;
  /** Points older than this (relative to the writer's clock) are dropped. */
  readonly maxAgeMs: number;
  /** Series per script call. */
  readonly batchSize?: number;
}

/** History of one series as the detectors read it: parallel typed arrays in time order. */
export interface StoredSeries {
  readonly key: SeriesKey;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly anomalous: Uint8Array;
}

/** A point as stored: integer milliseconds and a finite value (see `storable`). */
export interface TimedValue {
  readonly timestamp: number;
  readonly value: number;
}

/** One series' new points for a write. */
export interface SeriesPoints {
  readonly key: SeriesKey;
  /** Storable points (see `storable`), in time order. */
  readonly points: readonly TimedValue[];
  /**
   * The version the writer's cache holds when every point lands after its newest one, else -1:
   * the store then appends without reading the newest point back, if the version still matches.
   */
  readonly expectedVersion: number;
}

/** What one write did to one series. */
export interface SeriesWrite {
  /** Incremented by every write to the series, by any replica. */
  readonly version: number;
  /** Every point landed after the previous newest one (no replacement, no insertion). */
  readonly appendOnly: boolean;
  /** The points written, in time order. */
  readonly points: readonly TimedValue[];
  /** Points older than this were trimmed away. */
  readonly minTimestamp: number;
}

/** Sets or clears the anomaly flag of the point at `timestamp` in a series. */
export interface PointFlag {
  readonly series: SeriesKey;
  readonly timestamp: number;
  readonly anomalous: boolean;
}

// KEYS: series keys, then the series-version hash last. ARGV: maxPoints, minTimestamp, then per
// key ONE packed string `expected#ts|value|0;ts|value|0...` (one argument per series: the client's
// per-argument cost dominated), where `expected` is the version the writer's cache expects to find
// (-1 when it has none, or when its points do not all land after its newest one). Each point is
// already a sorted-set member, so the usual path stores substrings without building strings.
// Returns per key its new version and whether the write only appended after the newest point (so
// a cached copy can be extended locally).
// A replaced point keeps its anomaly flag: look-back queries re-return old days every tick, and
// that must not launder a flagged point back into the baseline.
// Parsed with plain finds, not patterns: Lua time, not Redis commands, was most of a batch's cost.
const WRITE_SCRIPT = `
local call, find, sub = redis.call, string.find, string.sub
local maxPoints = tonumber(ARGV[1])
local versions = KEYS[#KEYS]
local n = #KEYS - 1
-- Versions are read and written once per batch, not once per series: a call costs microseconds.
local current = call('HMGET', versions, unpack(KEYS, 1, n))
local updates = {}
local out = {}
for k = 1, n do
  local key = KEYS[k]
  local arg = ARGV[k + 2]
  local hash = find(arg, '#', 1, true)
  local version = (tonumber(current[k]) or 0) + 1
  updates[2 * k - 1] = key
  updates[2 * k] = version
  -- The writer's copy is current (nobody wrote since its last write) and it saw that every point
  -- lands after the newest one: plain appends, without reading the newest point back.
  local blind = tonumber(sub(arg, 1, hash - 1)) == version - 1
  local last = -1
  if not blind then
    local newest = call('ZRANGE', key, -1, -1, 'WITHSCORES')
    if #newest > 0 then last = tonumber(newest[2]) end
  end
  local append = 1
  local pos, len = hash + 1, #arg
  while pos <= len do
    local stop = find(arg, ';', pos, true)
    local e = len
    if stop then e = stop - 1 end
    local ts = sub(arg, pos, find(arg, '|', pos, true) - 1)
    local member = sub(arg, pos, e)
    if not blind then
      if tonumber(ts) <= last then
        append = 0
        local old = call('ZRANGEBYSCORE', key, ts, ts)
        if #old > 0 then
          member = sub(member, 1, -2) .. sub(old[1], -1)
          call('ZREMRANGEBYSCORE', key, ts, ts)
        end
      else
        last = tonumber(ts)
      end
    end
    call('ZADD', key, ts, member)
    pos = e + 2
  end
  -- Trimming costs three calls per series; every 16th write is enough, because reads never
  -- return points beyond the limits (see READ_SCRIPT).
  -- Staggered by position, so a sixteenth of a batch trims on each write rather than all at once.
  if (version + k) % 16 == 0 or append == 0 then
    call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[2])
    local excess = call('ZCARD', key) - maxPoints
    if excess > 0 then call('ZREMRANGEBYRANK', key, 0, excess - 1) end
  end
  out[2 * k - 1] = version
  out[2 * k] = append
end
call('HSET', versions, unpack(updates))
return out
`;

// KEYS: series keys, then the detection-state hash last. ARGV: points, oldest timestamp kept,
// then state fields. Only the newest `points` points not older than the age limit are returned,
// whether or not the lazy trim has removed the others yet.
// Each series comes back as ONE string of ';'-joined members: parsing 10,000 replies is cheap,
// parsing 290,000 small ones is not.
const READ_SCRIPT = `
local n = tonumber(ARGV[1])
local out = {}
for k = 1, #KEYS - 1 do
  local newest = redis.call('ZRANGE', KEYS[k], '+inf', ARGV[2], 'BYSCORE', 'REV', 'LIMIT', 0, n)
  local m = #newest
  for i = 1, math.floor(m / 2) do
    newest[i], newest[m - i + 1] = newest[m - i + 1], newest[i]
  end
  out[k] = table.concat(newest, ';')
end
if #ARGV > 2 then
  out[#KEYS] = redis.call('HMGET', KEYS[#KEYS], unpack(ARGV, 3))
else
  out[#KEYS] = {}
end
return out
`;

// KEYS: series keys with a flag to set. ARGV: per key, timestamp and flag.
const FLAG_SCRIPT = `
for k = 1, #KEYS do
  local ts = ARGV[2 * k - 1]
  local members = redis.call('ZRANGEBYSCORE', KEYS[k], ts, ts)
  if #members > 0 then
    local head = string.sub(members[1], 1, -2)
    redis.call('ZREM', KEYS[k], members[1])
    redis.call('ZADD', KEYS[k], ts, head .. ARGV[2 * k])
  end
end
return #KEYS
`;

type ScriptedRedis = Redis & {
  vigilHistoryWrite(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  vigilHistoryRead(numKeys: number, ...args: (string | number)[]): Promise<(string | (string | null)[])[]>;
  vigilHistoryFlag(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

export class HistoryStore {
  private readonly redis: ScriptedRedis;
  /** Series per script call. */
  readonly batchSize: number;
  /** Redis round trips made, for the benchmark's "round trips per 1,000 series". */
  roundTrips = 0;

  constructor(
    redis: Redis,
    private readonly settings: HistorySettings,
  ) {
    if (!('vigilHistoryWrite' in redis)) {
      redis.defineCommand('vigilHistoryWrite', { lua: WRITE_SCRIPT });
      redis.defineCommand('vigilHistoryRead', { lua: READ_SCRIPT });
      redis.defineCommand('vigilHistoryFlag', { lua: FLAG_SCRIPT });
    }
    this.redis = redis as ScriptedRedis;
    this.batchSize = settings.batchSize ?? 1_000;
  }

  keyOf(series: SeriesKey): string {
    return this.settings.keys.series(series);
  }

  /** Stored series keys, sorted; a bounded SCAN stops after `limit` (a status page, not an export). */
  async listSeries(limit: number): Promise<SeriesKey[]> {
    const prefix = this.keyOf('');
    const found = new Set<SeriesKey>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) if (found.size < limit) found.add(key.slice(prefix.length));
    } while (cursor !== '0' && found.size < limit);
    return [...found].sort();
  }

  /** Stores samples (any number of series); `now` anchors age trimming. Returns the series written. */
  async write(samples: readonly Sample[], now: number): Promise<SeriesKey[]> {
    return [...(await this.ingest(samples, now)).keys()];
  }

  /** Stores samples and reports, per series written, what the write did (see SeriesWrite). */
  async ingest(samples: readonly Sample[], now: number): Promise<Map<SeriesKey, SeriesWrite>> {
    const grouped = new Map<SeriesKey, TimedValue[]>();
    for (const sample of samples) {
      const point = storable(sample);
      if (!point) continue;
      const key = seriesKey(sample.metric, sample.labels);
      const points = grouped.get(key);
      if (points) points.push(point);
      else grouped.set(key, [point]);
    }
    const series = [...grouped].map(([key, points]) => ({
      key,
      points: inTimeOrder(points),
      expectedVersion: -1,
    }));
    const writes = await this.writeSeries(series, now);
    return new Map(series.map((entry, index) => [entry.key, writes[index] as SeriesWrite]));
  }

  /**
   * Writes each series' points; one script call per `batchSize` series, all sent at once.
   * Returns what each write did, in the order given.
   */
  async writeSeries(series: readonly SeriesPoints[], now: number): Promise<SeriesWrite[]> {
    const minTimestamp = Math.trunc(now - this.settings.maxAgeMs);
    const calls: Promise<SeriesWrite[]>[] = [];
    for (let start = 0; start < series.length; start += this.batchSize) {
      calls.push(this.writeBatch(series.slice(start, start + this.batchSize), minTimestamp));
    }
    return (await Promise.all(calls)).flat();
  }

  private async writeBatch(series: readonly SeriesPoints[], minTimestamp: number): Promise<SeriesWrite[]> {
    const args: (string | number)[] = [this.settings.maxPoints, minTimestamp];
    const keys: string[] = [];
    for (const { key, points, expectedVersion } of series) {
      keys.push(this.keyOf(key));
      // A blind append of two points with one timestamp would store both: replace instead.
      let packed = `${strictlyIncreasing(points) ? expectedVersion : -1}#`;
      for (let i = 0; i < points.length; i++) {
        const point = points[i] as TimedValue;
        packed += i === 0 ? `${point.timestamp}|${point.value}|0` : `;${point.timestamp}|${point.value}|0`;
      }
      args.push(packed);
    }
    keys.push(this.versionKey());
    const reply = await this.redis.vigilHistoryWrite(keys.length, ...keys, ...args);
    this.roundTrips++;
    return series.map(({ points }, index) => ({
      version: Number(reply[2 * index]),
      appendOnly: Number(reply[2 * index + 1]) === 1,
      points,
      minTimestamp,
    }));
  }

  /** Reads the newest `points` points of each series (all kept points when omitted), as of `now`. */
  async read(
    series: readonly SeriesKey[],
    points?: number,
    now?: number,
  ): Promise<Map<SeriesKey, StoredSeries>> {
    const { history } = await this.readForDetection(series, points ?? this.settings.maxPoints, [], now);
    return history;
  }

  /** Marks points as anomalous (or not), so later baselines can leave them out. */
  async flag(flags: readonly PointFlag[]): Promise<void> {
    await this.commitDetection(flags, new Map());
  }

  /**
   * Reads history and the detection state of the given state fields, one script call per batch,
   * so a tick costs one round trip per batch here however many series it evaluates.
   */
  async readForDetection(
    series: readonly SeriesKey[],
    points: number,
    stateFields: readonly string[],
    now?: number,
  ): Promise<{ history: Map<SeriesKey, StoredSeries>; states: Map<string, string> }> {
    // Without `now`, no age limit applies (tools reading history after the fact).
    const oldest = now === undefined ? '-inf' : String(Math.trunc(now - this.settings.maxAgeMs));
    const limit = Math.min(points, this.settings.maxPoints);
    const history = new Map<SeriesKey, StoredSeries>();
    const states = new Map<string, string>();
    const batches = Math.max(
      Math.ceil(series.length / this.batchSize),
      Math.ceil(stateFields.length / this.batchSize),
    );
    const readBatch = async (b: number) => {
      const batch = series.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const fields = stateFields.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const keys = [...batch.map((key) => this.keyOf(key)), this.stateKey()];
      const reply = await this.redis.vigilHistoryRead(keys.length, ...keys, limit, oldest, ...fields);
      this.roundTrips++;
      batch.forEach((key, index) => {
        history.set(key, decode(key, (reply[index] as string | undefined) ?? ''));
      });
      const values = (reply[batch.length] as (string | null)[] | undefined) ?? [];
      fields.forEach((field, index) => {
        const value = values[index];
        if (value) states.set(field, value);
      });
    };
    await Promise.all(Array.from({ length: batches }, (_, b) => readBatch(b)));
    return { history, states };
  }

  /** Writes anomaly flags and detection states together, one round trip per batch. */
  async commitDetection(flags: readonly PointFlag[], states: ReadonlyMap<string, string>): Promise<void> {
    const entries = [...states];
    const batches = Math.max(
      Math.ceil(flags.length / this.batchSize),
      Math.ceil(entries.length / this.batchSize),
    );
    const commitBatch = async (b: number) => {
      const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & { exec(): Promise<unknown> };
      const flagBatch = flags.slice(b * this.batchSize, (b + 1) * this.batchSize);
      if (flagBatch.length > 0) {
        const args = flagBatch.flatMap((entry) => [Math.trunc(entry.timestamp), entry.anomalous ? 1 : 0]);
        pipeline.vigilHistoryFlag(
          flagBatch.length,
          ...flagBatch.map((entry) => this.keyOf(entry.series)),
          ...args,
        );
      }
      const chunk = entries.slice(b * this.batchSize, (b + 1) * this.batchSize);
      if (chunk.length > 0) pipeline.hset(this.stateKey(), Object.fromEntries(chunk));
      await execOrThrow(pipeline);
      this.roundTrips++;
    };
    await Promise.all(Array.from({ length: batches }, (_, b) => commitBatch(b)));
  }

  private versionKey(): string {
    return this.settings.keys.seriesVersion;
  }

  private stateKey(): string {
    return this.settings.keys.detectionState;
  }
}

/**
 * The sample as a point to store: itself when its timestamp is whole milliseconds (the usual
 * case, no copy), truncated when not, undefined when its timestamp or value is not finite.
 */
export function storable(sample: TimedValue): TimedValue | undefined {
  if (!Number.isFinite(sample.value) || !Number.isFinite(sample.timestamp)) return undefined;
  if (Number.isInteger(sample.timestamp)) return sample;
  return { timestamp: Math.trunc(sample.timestamp), value: sample.value };
}

function strictlyIncreasing(points: readonly TimedValue[]): boolean {
  for (let i = 1; i < points.length; i++) {
    if ((points[i] as TimedValue).timestamp <= (points[i - 1] as TimedValue).timestamp) return false;
  }
  return true;
}

/** Sorts by timestamp unless already in order (one series' points from one query usually are). */
export function inTimeOrder<T extends TimedValue>(points: T[]): T[] {
  for (let i = 1; i < points.length; i++) {
    if ((points[i] as T).timestamp < (points[i - 1] as T).timestamp) {
      return points.sort((a, b) => a.timestamp - b.timestamp);
    }
  }
  return points;
}

/** Parses `ts|value|flag;ts|value|flag;...` without allocating per point beyond the numbers. */
function decode(key: SeriesKey, joined: string): StoredSeries {
  let n = joined === '' ? 0 : 1;
  for (let i = joined.indexOf(';'); i >= 0; i = joined.indexOf(';', i + 1)) n++;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const anomalous = new Uint8Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const first = joined.indexOf('|', start);
    const second = joined.indexOf('|', first + 1);
    timestamps[i] = Number(joined.slice(start, first));
    values[i] = Number(joined.slice(first + 1, second));
    anomalous[i] = joined.charCodeAt(second + 1) === 49 ? 1 : 0;
    start = second + 3;
  }
  return { key, timestamps, values, anomalous };
}

async function execOrThrow(pipeline: { exec(): Promise<unknown> }): Promise<unknown[]> {
  const results = (await pipeline.exec()) as [Error | null, unknown][] | null;
  if (!results) throw new Error('redis pipeline was discarded');
  const failed = results.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
  return results.map(([, value]) => value);
}
