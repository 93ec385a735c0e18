import type { Redis } from 'ioredis';
import { type Sample, type SeriesKey, seriesKey } from '../core/types.js';

/**
 * Series history in Redis: one sorted set per series, score = timestamp (ms), member =
 * `timestamp|value|flag` where flag 1 marks a point a detector flagged anomalous (kept out of
 * later baselines). Writing a timestamp that exists replaces it, so a look-back query that
 * re-returns old days never doubles them. Each series is trimmed by count and by age.
 *
 * Every command touches one key, so the store works on Redis Cluster; commands are pipelined
 * so a tick costs one round trip per batch, not per series.
 */
export interface HistorySettings {
  /** Key prefix, e.g. `vigil` or `{vigil}` (a hash tag keeps a deployment's keys on one slot). */
  readonly prefix: string;
  /** Points kept per series. */
  readonly maxPoints: number;
  /** Points older than this (relative to the newest write's clock) are dropped. */
  readonly maxAgeMs: number;
  /** Series per pipeline. */
  readonly batchSize?: number;
}

/** History of one series as the detectors read it: parallel typed arrays in time order. */
export interface StoredSeries {
  readonly key: SeriesKey;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly anomalous: Uint8Array;
}

// Replace-by-timestamp then trim, atomically per series. ARGV: maxPoints, minTimestamp, then
// ts / "ts|value|" pairs. A replaced point keeps its anomaly flag: look-back queries re-return
// old days every tick, and that must not launder a flagged point back into the baseline.
const UPSERT_SCRIPT = `
local key = KEYS[1]
for i = 3, #ARGV, 2 do
  local old = redis.call('ZRANGEBYSCORE', key, ARGV[i], ARGV[i])
  local flag = '0'
  if #old > 0 then
    flag = string.sub(old[1], -1)
    redis.call('ZREMRANGEBYSCORE', key, ARGV[i], ARGV[i])
  end
  redis.call('ZADD', key, ARGV[i], ARGV[i + 1] .. flag)
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[2])
local excess = redis.call('ZCARD', key) - tonumber(ARGV[1])
if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 0, excess - 1) end
return (#ARGV - 2) / 2
`;

// Sets the anomaly flag of the point at one timestamp, if it exists. ARGV: timestamp, flag.
const FLAG_SCRIPT = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
if #members == 0 then return 0 end
local ts, value = string.match(members[1], '^([^|]*)|([^|]*)|')
redis.call('ZREM', KEYS[1], members[1])
redis.call('ZADD', KEYS[1], ARGV[1], ts .. '|' .. value .. '|' .. ARGV[2])
return 1
`;

type ScriptedRedis = Redis & {
  vigilHistoryUpsert(key: string, ...args: (string | number)[]): Promise<number>;
  vigilHistoryFlag(key: string, timestamp: number, flag: number): Promise<number>;
};

export class HistoryStore {
  private readonly redis: ScriptedRedis;
  private readonly batchSize: number;
  /** Redis round trips made, for the benchmark's "round trips per 1,000 series". */
  roundTrips = 0;

  constructor(
    redis: Redis,
    private readonly settings: HistorySettings,
  ) {
    if (!('vigilHistoryUpsert' in redis)) {
      redis.defineCommand('vigilHistoryUpsert', { numberOfKeys: 1, lua: UPSERT_SCRIPT });
      redis.defineCommand('vigilHistoryFlag', { numberOfKeys: 1, lua: FLAG_SCRIPT });
    }
    this.redis = redis as ScriptedRedis;
    this.batchSize = settings.batchSize ?? 1_000;
  }

  keyOf(series: SeriesKey): string {
    return `${this.settings.prefix}:series:${series}`;
  }

  /** Stores samples (any number of series); `now` anchors age trimming. Returns series written. */
  async write(samples: readonly Sample[], now: number): Promise<SeriesKey[]> {
    const grouped = new Map<SeriesKey, string[]>();
    for (const sample of samples) {
      if (!Number.isFinite(sample.value) || !Number.isFinite(sample.timestamp)) continue;
      const key = seriesKey(sample.metric, sample.labels);
      let args = grouped.get(key);
      if (!args) {
        args = [];
        grouped.set(key, args);
      }
      const ts = String(Math.trunc(sample.timestamp));
      args.push(ts, `${ts}|${sample.value}|`);
    }
    const minTimestamp = String(Math.trunc(now - this.settings.maxAgeMs));
    const keys = [...grouped.keys()];
    for (let start = 0; start < keys.length; start += this.batchSize) {
      const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & { exec(): Promise<unknown> };
      for (const key of keys.slice(start, start + this.batchSize)) {
        pipeline.vigilHistoryUpsert(
          this.keyOf(key),
          this.settings.maxPoints,
          minTimestamp,
          ...(grouped.get(key) ?? []),
        );
      }
      await execOrThrow(pipeline);
      this.roundTrips++;
    }
    return keys;
  }

  /** Reads the last `points` points of each series (all kept points when omitted), pipelined. */
  async read(series: readonly SeriesKey[], points?: number): Promise<Map<SeriesKey, StoredSeries>> {
    const out = new Map<SeriesKey, StoredSeries>();
    const from = points === undefined ? 0 : -points;
    for (let start = 0; start < series.length; start += this.batchSize) {
      const batch = series.slice(start, start + this.batchSize);
      const pipeline = this.redis.pipeline();
      for (const key of batch) pipeline.zrange(this.keyOf(key), String(from), '-1');
      const results = await execOrThrow(pipeline);
      this.roundTrips++;
      batch.forEach((key, index) => {
        out.set(key, decode(key, (results[index] as string[] | undefined) ?? []));
      });
    }
    return out;
  }

  /** Marks points as anomalous (or not), so later baselines can leave them out. */
  async flag(flags: readonly PointFlag[]): Promise<void> {
    await this.commitDetection(flags, new Map());
  }

  /**
   * Reads history and the detection state of the given state fields in one pipeline per batch,
   * so a tick costs one round trip here however many series it evaluates.
   */
  async readForDetection(
    series: readonly SeriesKey[],
    points: number,
    stateFields: readonly string[],
  ): Promise<{ history: Map<SeriesKey, StoredSeries>; states: Map<string, string> }> {
    const history = new Map<SeriesKey, StoredSeries>();
    const states = new Map<string, string>();
    const batches = Math.max(
      Math.ceil(series.length / this.batchSize),
      Math.ceil(stateFields.length / this.batchSize),
    );
    for (let b = 0; b < batches; b++) {
      const batch = series.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const fields = stateFields.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const pipeline = this.redis.pipeline();
      for (const key of batch) pipeline.zrange(this.keyOf(key), String(-points), '-1');
      if (fields.length > 0) pipeline.hmget(this.stateKey(), ...fields);
      const results = await execOrThrow(pipeline);
      this.roundTrips++;
      batch.forEach((key, index) => {
        history.set(key, decode(key, (results[index] as string[] | undefined) ?? []));
      });
      const values = (results[batch.length] as (string | null)[] | undefined) ?? [];
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
      const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & {
        exec(): Promise<unknown>;
        hset(key: string, values: Record<string, string>): unknown;
      };
      for (const entry of flags.slice(b * this.batchSize, (b + 1) * this.batchSize)) {
        pipeline.vigilHistoryFlag(
          this.keyOf(entry.series),
          Math.trunc(entry.timestamp),
          entry.anomalous ? 1 : 0,
        );
      }
      const chunk = entries.slice(b * this.batchSize, (b + 1) * this.batchSize);
      if (chunk.length > 0) pipeline.hset(this.stateKey(), Object.fromEntries(chunk));
      await execOrThrow(pipeline);
      this.roundTrips++;
    }
  }

  private stateKey(): string {
    return `${this.settings.prefix}:detection-state`;
  }
}

/** Sets or clears the anomaly flag of the point at `timestamp` in a series. */
export interface PointFlag {
  readonly series: SeriesKey;
  readonly timestamp: number;
  readonly anomalous: boolean;
}

function decode(key: SeriesKey, members: readonly string[]): StoredSeries {
  const n = members.length;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const anomalous = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const member = members[i] as string;
    const first = member.indexOf('|');
    const second = member.indexOf('|', first + 1);
    timestamps[i] = Number(member.slice(0, first));
    values[i] = Number(member.slice(first + 1, second));
    anomalous[i] = member.charCodeAt(second + 1) === 49 ? 1 : 0;
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
