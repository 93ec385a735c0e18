import type { Redis } from 'ioredis';
import { type Sample, type SeriesKey, seriesKey } from '../core/types.js';

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
  /** Key prefix, e.g. `vigil` or `{vigil}` (a hash tag keeps a deployment's keys on one slot). */
  readonly prefix: string;
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

/** What one write did to one series. */
export interface SeriesWrite {
  /** Incremented by every write to the series, by any replica. */
  readonly version: number;
  /** Every point landed after the previous newest one (no replacement, no insertion). */
  readonly appendOnly: boolean;
  /** The points written, in time order. */
  readonly points: readonly { readonly ts: number; readonly value: number }[];
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
// key ONE packed string `expected#ts|value;ts|value...` (one argument per series: the client's
// per-argument cost dominated), where `expected` is the version the writer's cache expects to find
// (-1 when it has none, or when its points do not all land after its newest one). Returns per
// key its new version and whether the
// write only appended after the newest point (so a cached copy can be extended locally).
// A replaced point keeps its anomaly flag: look-back queries re-return old days every tick, and
// that must not launder a flagged point back into the baseline.
const WRITE_SCRIPT = `
local maxPoints = tonumber(ARGV[1])
local versions = KEYS[#KEYS]
local n = #KEYS - 1
-- Versions are read and written once per batch, not once per series: a call costs microseconds.
local current = redis.call('HMGET', versions, unpack(KEYS, 1, n))
local updates = {}
local out = {}
for k = 1, n do
  local key = KEYS[k]
  local expected, packed = string.match(ARGV[k + 2], '^(-?%d+)#(.*)$')
  local version = (tonumber(current[k]) or 0) + 1
  updates[2 * k - 1] = key
  updates[2 * k] = version
  local append = 1
  if tonumber(expected) == version - 1 then
    -- The writer's copy is current (nobody wrote since its last write) and it saw that every point
    -- lands after the newest one: plain appends, without reading the newest point back.
    for ts, value in string.gmatch(packed, '(%d+)|([^;]+)') do
      redis.call('ZADD', key, ts, ts .. '|' .. value .. '|0')
    end
  else
    local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    local last = -1
    if #newest > 0 then last = tonumber(newest[2]) end
    for ts, value in string.gmatch(packed, '(%d+)|([^;]+)') do
      local flag = '0'
      if tonumber(ts) <= last then
        append = 0
        local old = redis.call('ZRANGEBYSCORE', key, ts, ts)
        if #old > 0 then
          flag = string.sub(old[1], -1)
          redis.call('ZREMRANGEBYSCORE', key, ts, ts)
        end
      else
        last = tonumber(ts)
      end
      redis.call('ZADD', key, ts, ts .. '|' .. value .. '|' .. flag)
    end
  end
  -- Trimming costs three calls per series; every 16th write is enough, because reads never
  -- return points beyond the limits (see READ_SCRIPT).
  -- Staggered by position, so a sixteenth of a batch trims on each write rather than all at once.
  if (version + k) % 16 == 0 or append == 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[2])
    local excess = redis.call('ZCARD', key) - maxPoints
    if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 0, excess - 1) end
  end
  out[2 * k - 1] = version
  out[2 * k] = append
end
redis.call('HSET', versions, unpack(updates))
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
    return `${this.settings.prefix}:series:${series}`;
  }

  /** Stores samples (any number of series); `now` anchors age trimming. Returns the series written. */
  async write(samples: readonly Sample[], now: number): Promise<SeriesKey[]> {
    return [...(await this.ingest(samples, now)).keys()];
  }

  /**
   * Stores samples and reports, per series written, its new version and the points written in
   * time order, and whether the write only appended (what a cache needs to stay exact).
   */
  async ingest(
    samples: readonly Sample[],
    now: number,
    /** The version a cache holds for a series whose new points all land after its newest one. */
    expectedVersion: (key: SeriesKey, firstTimestamp: number) => number | undefined = () => undefined,
    /** The samples' series keys, when the caller has them already (they are costly to build). */
    sampleKeys?: readonly SeriesKey[],
  ): Promise<Map<SeriesKey, SeriesWrite>> {
    const grouped = new Map<SeriesKey, { ts: number; value: number }[]>();
    for (let s = 0; s < samples.length; s++) {
      const sample = samples[s] as Sample;
      if (!Number.isFinite(sample.value) || !Number.isFinite(sample.timestamp)) continue;
      const key = sampleKeys?.[s] ?? seriesKey(sample.metric, sample.labels);
      let points = grouped.get(key);
      if (!points) {
        points = [];
        grouped.set(key, points);
      }
      points.push({ ts: Math.trunc(sample.timestamp), value: sample.value });
    }
    const minTimestamp = Math.trunc(now - this.settings.maxAgeMs);
    const keys = [...grouped.keys()];
    const out = new Map<SeriesKey, SeriesWrite>();
    for (let start = 0; start < keys.length; start += this.batchSize) {
      const batch = keys.slice(start, start + this.batchSize);
      const args: (string | number)[] = [this.settings.maxPoints, minTimestamp];
      for (const key of batch) {
        const points = grouped.get(key) ?? [];
        if (points.length > 1) points.sort((a, b) => a.ts - b.ts);
        let packed = '';
        for (const point of points) packed += `${packed === '' ? '' : ';'}${point.ts}|${point.value}`;
        const expected =
          points.length > 0 ? (expectedVersion(key, (points[0] as { ts: number }).ts) ?? -1) : -1;
        args.push(`${expected}#${packed}`);
      }
      const redisKeys = [...batch.map((key) => this.keyOf(key)), this.versionKey()];
      const reply = await this.redis.vigilHistoryWrite(redisKeys.length, ...redisKeys, ...args);
      this.roundTrips++;
      batch.forEach((key, index) => {
        out.set(key, {
          version: Number(reply[2 * index]),
          appendOnly: Number(reply[2 * index + 1]) === 1,
          points: grouped.get(key) ?? [],
          minTimestamp,
        });
      });
    }
    return out;
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
    for (let b = 0; b < batches; b++) {
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
    }
    return { history, states };
  }

  /** Writes anomaly flags and detection states together, one round trip per batch. */
  async commitDetection(flags: readonly PointFlag[], states: ReadonlyMap<string, string>): Promise<void> {
    const entries = [...states];
    const batches = Math.max(
      Math.ceil(flags.length / this.batchSize),
      Math.ceil(entries.length / this.batchSize),
    );
    for (let b = 0; b < batches; b++) {
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
    }
  }

  private versionKey(): string {
    return `${this.settings.prefix}:series-version`;
  }

  private stateKey(): string {
    return `${this.settings.prefix}:detection-state`;
  }
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
