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
  const settings = { keys: env.keys, maxPoints: 100, maxAgeMs: 100 * DAY };
  const store = new HistoryStore(env.redis, settings);
  const otherReplica = new HistoryStore(env.redis, settings);
  const cache = new DetectionCache(10, 5);
  const first = (await store.ingest([point(1, 90)], DAY)).get(KEY);
  if (!first) throw new Error('precondition: first write');
  const entry = cache.set(KEY, first.version, await readSeries(store), []);
  return { store, otherReplica, cache, first, entry };
}

describe('DetectionCache', () => {
  it('stays identical to a fresh Redis read across appends, trims and flags', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 100, maxAgeMs: 10 * DAY });
    const cache = new DetectionCache(10, 5);
    const first = (await store.ingest([point(1, 90), point(2, 91)], 2 * DAY)).get(KEY);
    const read = (await store.read([KEY], 5)).get(KEY);
    if (!first || !read) throw new Error('precondition: first write and read');
    const entry = cache.set(KEY, first.version, read, []);

    // The window grows to 5 points, then shifts in place; days 9 to 24 are missing, so after the
    // gap points older than the 10-day age limit must vanish from the cache exactly as from a
    // read (although Redis trims them lazily) and the window grows again. Day 30 brings 3 points.
    const days = [[3], [4], [5], [6], [7], [8], [25], [26], [27], [28], [29], [30, 31, 32], [33], [34]];
    for (const batch of days) {
      const day = batch.at(-1) as number;
      const samples = batch.map((d) => point(d, 90 + (d % 3)));
      const write = (await store.ingest(samples, day * DAY)).get(KEY);
      if (!write) throw new Error('precondition: write');
      const advanced = cache.advance(entry, write);
      if (day % 4 === 0) {
        await store.flag([{ series: KEY, timestamp: day * DAY, anomalous: true }]);
        cache.commit(entry, 0, '{}', [day * DAY]);
      }

      expect(advanced).toBe(true);
      expect(entry.version).toBe(write.version);
      expect(plain(entry.history)).toEqual(plain((await store.read([KEY], 5, day * DAY)).get(KEY)));
    }
    expect(entry.states[0]).toBe('{}');
  });

  it('misses when another replica wrote in between, and when a write rewrote an old point', async () => {
    const { store, otherReplica, cache, entry } = await twoReplicasWithWarmCache();

    await otherReplica.ingest([point(2, 91)], 2 * DAY);
    const afterOther = (await store.ingest([point(3, 92)], 3 * DAY)).get(KEY);
    const missedOther = afterOther ? cache.advance(entry, afterOther) : 'no write';
    const reread = cache.set(KEY, afterOther?.version ?? 0, await readSeries(store), []);
    const rewrite = (await store.ingest([point(2, 44.7), point(4, 93)], 4 * DAY)).get(KEY);
    const missedRewrite = rewrite ? cache.advance(reread, rewrite) : 'no write';

    expect(missedOther).toBe(false);
    expect(rewrite?.appendOnly).toBe(false);
    expect(missedRewrite).toBe(false);
    expect(cache.lookup(KEY)).toBeUndefined();
  });

  it('never appends blindly on a stale expectation: the store re-checks when another replica wrote', async () => {
    const { store, otherReplica, cache, first, entry } = await twoReplicasWithWarmCache();

    await otherReplica.ingest([point(2, 91)], 2 * DAY);
    const expectation = cache.expectedVersion(entry, 2 * DAY);
    const [write] = await store.writeSeries(
      [{ key: KEY, points: [point(2, 92)], expectedVersion: expectation ?? -1 }],
      2 * DAY,
    );
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

    const a = cache.set('a', 1, empty, []);
    cache.set('b', 1, empty, []);
    cache.lookup('a');
    const c = cache.set('c', 1, empty, []);
    const next = { version: 2, appendOnly: true, points: [], minTimestamp: 0 };

    expect(cache.size).toBe(2);
    expect(cache.lookup('b')).toBeUndefined();
    expect(cache.advance(a, next)).toBe(true);
    expect(cache.advance(c, next)).toBe(true);
  });
});
