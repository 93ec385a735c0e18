import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/types.js';
import { DetectionCache } from '../../src/store/detection-cache.js';
import { HistoryStore } from '../../src/store/history.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const DAY = 86_400_000;
const KEY = 'coverage';
let env: TestRedis;

beforeEach(async () => {
  env = await testRedis();
});
afterEach(async () => {
  await env.cleanup();
});

const point = (day: number, value: number): Sample => ({
  metric: KEY,
  labels: {},
  timestamp: day * DAY,
  value,
});
const plain = (
  series: { timestamps: Float64Array; values: Float64Array; anomalous: Uint8Array } | undefined,
) => ({
  timestamps: [...(series?.timestamps ?? [])],
  values: [...(series?.values ?? [])],
  anomalous: [...(series?.anomalous ?? [])],
});

/** Reads the one series back, failing the test at the cause if it is not there. */
async function readSeries(store: HistoryStore) {
  const series = (await store.read([KEY], 5)).get(KEY);
  if (!series) throw new Error('precondition: the series is stored');
  return series;
}

/** This replica's store with a cache warmed by one write, and another replica on the same Redis. */
async function twoReplicasWithWarmCache() {
  const settings = { prefix: env.prefix, maxPoints: 100, maxAgeMs: 100 * DAY };
  const store = new HistoryStore(env.redis, settings);
  const otherReplica = new HistoryStore(env.redis, settings);
  const cache = new DetectionCache(10, 5);
  const first = (await store.ingest([point(1, 90)], DAY)).get(KEY);
  if (!first) throw new Error('precondition: first write');
  cache.set(KEY, first.version, await readSeries(store), new Map());
  return { store, otherReplica, cache, first };
}

describe('DetectionCache', () => {
  it('stays identical to a fresh Redis read across appends, trims and flags', async () => {
    const store = new HistoryStore(env.redis, { prefix: env.prefix, maxPoints: 100, maxAgeMs: 10 * DAY });
    const cache = new DetectionCache(10, 5);
    const first = (await store.ingest([point(1, 90), point(2, 91)], 2 * DAY)).get(KEY);
    const read = (await store.read([KEY], 5)).get(KEY);
    if (!first || !read) throw new Error('precondition: first write and read');
    cache.set(KEY, first.version, read, new Map());

    // Days 9 to 24 are missing: after the gap, points older than the 10-day age limit must
    // vanish from the cache exactly as from a read, although Redis trims them lazily.
    const days = [3, 4, 5, 6, 7, 8, ...Array.from({ length: 16 }, (_, i) => 25 + i)];
    for (const day of days) {
      const write = (await store.ingest([point(day, 90 + (day % 3))], day * DAY)).get(KEY);
      if (!write) throw new Error('precondition: write');
      const cached = cache.advance(KEY, write);
      if (day % 4 === 0) {
        await store.flag([{ series: KEY, timestamp: day * DAY, anomalous: true }]);
        cache.commit(KEY, `${KEY}#0`, '{}', [{ series: KEY, timestamp: day * DAY, anomalous: true }]);
      }

      expect(cached?.version).toBe(write.version);
      expect(plain(cached?.history)).toEqual(plain((await store.read([KEY], 5, day * DAY)).get(KEY)));
    }
  });

  it('misses when another replica wrote in between, and when a write rewrote an old point', async () => {
    const { store, otherReplica, cache } = await twoReplicasWithWarmCache();

    await otherReplica.ingest([point(2, 91)], 2 * DAY);
    const afterOther = (await store.ingest([point(3, 92)], 3 * DAY)).get(KEY);
    const missedOther = afterOther ? cache.advance(KEY, afterOther) : 'no write';
    cache.set(KEY, afterOther?.version ?? 0, await readSeries(store), new Map());
    const rewrite = (await store.ingest([point(2, 44.7), point(4, 93)], 4 * DAY)).get(KEY);
    const missedRewrite = rewrite ? cache.advance(KEY, rewrite) : 'no write';

    expect(missedOther).toBeUndefined();
    expect(rewrite?.appendOnly).toBe(false);
    expect(missedRewrite).toBeUndefined();
  });

  it('never appends blindly on a stale expectation: the store re-checks when another replica wrote', async () => {
    const { store, otherReplica, cache, first } = await twoReplicasWithWarmCache();

    await otherReplica.ingest([point(2, 91)], 2 * DAY);
    const expectation = cache.expectedVersion(KEY, 2 * DAY);
    const write = (
      await store.ingest([point(2, 92)], 2 * DAY, (key, ts) => cache.expectedVersion(key, ts))
    ).get(KEY);
    const stored = (await store.read([KEY], 5)).get(KEY);

    expect(expectation).toBe(first.version);
    expect(write?.appendOnly).toBe(false);
    expect(plain(stored)).toEqual({ timestamps: [DAY, 2 * DAY], values: [90, 92], anomalous: [0, 0] });
  });

  it('keeps at most maxSeries entries, dropping the least recently used', async () => {
    const cache = new DetectionCache(2, 5);
    const empty = {
      key: 'x',
      timestamps: new Float64Array(),
      values: new Float64Array(),
      anomalous: new Uint8Array(),
    };

    cache.set('a', 1, empty, new Map());
    cache.set('b', 1, empty, new Map());
    cache.set('c', 1, empty, new Map());

    expect(cache.size).toBe(2);
    expect(cache.advance('a', { version: 2, appendOnly: true, points: [], minTimestamp: 0 })).toBeUndefined();
    expect(cache.advance('c', { version: 2, appendOnly: true, points: [], minTimestamp: 0 })?.version).toBe(
      2,
    );
  });
});
