import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/types.js';
import { HistoryStore } from '../../src/store/history.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const DAY = 86_400_000;
let env: TestRedis;

beforeEach(async () => {
  env = await testRedis();
});
afterEach(async () => {
  await env.cleanup();
});

function coverage(day: number, value: number): Sample {
  return { metric: 'vegas_line_coverage', labels: {}, timestamp: day * DAY, value };
}

describe('HistoryStore', () => {
  it('dedups by timestamp: a look-back re-returning old days replaces, never doubles', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 100, maxAgeMs: 365 * DAY });

    await store.write([coverage(1, 92.1), coverage(2, 92.4), coverage(3, 91.8)], 3 * DAY);
    await store.write([coverage(2, 92.4), coverage(3, 44.7), coverage(4, 44.9)], 4 * DAY);
    const series = (await store.read(['vegas_line_coverage'])).get('vegas_line_coverage');

    expect([...(series?.timestamps ?? [])]).toEqual([1 * DAY, 2 * DAY, 3 * DAY, 4 * DAY]);
    expect([...(series?.values ?? [])]).toEqual([92.1, 92.4, 44.7, 44.9]);
  });

  it('trims by count and by age', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 3, maxAgeMs: 10 * DAY });
    const samples = Array.from({ length: 6 }, (_, i) => coverage(i + 1, 90 + i));

    await store.write(samples, 6 * DAY);
    const byCount = (await store.read(['vegas_line_coverage'], undefined, 6 * DAY)).get(
      'vegas_line_coverage',
    );
    await store.write([coverage(30, 91)], 30 * DAY);
    const byAge = (await store.read(['vegas_line_coverage'], undefined, 30 * DAY)).get('vegas_line_coverage');

    expect([...(byCount?.values ?? [])]).toEqual([93, 94, 95]);
    expect([...(byAge?.timestamps ?? [])]).toEqual([30 * DAY]);
  });

  it('keeps series apart by labels, reads the last N points, and skips non-finite values', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 100, maxAgeMs: 365 * DAY });
    const v9 = (day: number, value: number): Sample => ({
      metric: 'grading_completeness',
      labels: { model: 'catboost_v9' },
      timestamp: day * DAY,
      value,
    });
    const v8 = { ...v9(1, 18.9), labels: { model: 'catboost_v8' } };

    await store.write([v9(1, 61), v9(2, 70), v9(3, Number.NaN), v9(4, 76), v8], 5 * DAY);
    const read = await store.read(
      ['grading_completeness{model="catboost_v9"}', 'grading_completeness{model="catboost_v8"}'],
      2,
    );

    expect([...(read.get('grading_completeness{model="catboost_v9"}')?.values ?? [])]).toEqual([70, 76]);
    expect([...(read.get('grading_completeness{model="catboost_v8"}')?.values ?? [])]).toEqual([18.9]);
  });

  it('flags anomalous points, and a look-back rewrite keeps the flag', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 100, maxAgeMs: 365 * DAY });
    await store.write([coverage(1, 92), coverage(2, 44.7)], 2 * DAY);

    await store.flag([{ series: 'vegas_line_coverage', timestamp: 2 * DAY, anomalous: true }]);
    await store.write([coverage(1, 92.2), coverage(2, 44.7)], 2 * DAY);
    const series = (await store.read(['vegas_line_coverage'])).get('vegas_line_coverage');

    expect([...(series?.anomalous ?? [])]).toEqual([0, 1]);
    expect([...(series?.values ?? [])]).toEqual([92.2, 44.7]);
  });

  it('pipelines: one round trip per 1,000 series for a write and for a read', async () => {
    const store = new HistoryStore(env.redis, { keys: env.keys, maxPoints: 10, maxAgeMs: 365 * DAY });
    const samples = Array.from({ length: 2_500 }, (_, i) => ({
      metric: 'm',
      labels: { i: String(i) },
      timestamp: DAY,
      value: i,
    }));

    const keys = await store.write(samples, DAY);
    await store.read(keys);

    expect(store.roundTrips).toBe(6);
  });
});
