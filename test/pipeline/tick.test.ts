import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { Finding, Sample } from '../../src/core/types.js';
import { compileBinding, detectorBinding } from '../../src/detectors/binding.js';
import { RunningCollector } from '../../src/pipeline/running.js';
import { SeriesExport } from '../../src/pipeline/series-export.js';
import { createDetectionCache, runTick, type TickDeps } from '../../src/pipeline/tick.js';
import { HistoryStore } from '../../src/store/history.js';
import { redisKeys } from '../../src/store/keys.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const DAY = 86_400_000;
let env: TestRedis;
beforeEach(async () => {
  env = await testRedis();
});
afterEach(async () => {
  await env.cleanup();
});

function coverageBinding() {
  return compileBinding(
    detectorBinding.parse({
      metric: 'coverage',
      use: [{ kind: 'threshold', options: { warning: 80, critical: 50 } }],
    }),
  );
}

/** A binding on another metric, to move the coverage binding around in the list. */
function otherBinding(metric: string) {
  return compileBinding(detectorBinding.parse({ metric, use: [{ kind: 'zscore' }] }));
}

/** A collector whose next samples the test sets, and a tick harness around it (one "replica"). */
function replica(
  cache = true,
  prefix = env.prefix,
  batchSize?: number,
  bindings = [coverageBinding()],
  extra: Partial<TickDeps> = {},
) {
  let next: Sample[] = [];
  const collector: Collector = {
    metrics: ['coverage'],
    collect: async () => ({ samples: next, problems: [], statuses: [] }),
  };
  const clock = new ManualClock(0);
  const metrics = createMetricsRegistry({ processMetrics: false });
  const logger = pino({ level: 'silent' });
  const found: Finding[] = [];
  const deps: TickDeps = {
    store: new HistoryStore(env.redis, {
      keys: redisKeys(prefix),
      maxPoints: 100,
      maxAgeMs: 365 * DAY,
      ...(batchSize ? { batchSize } : {}),
    }),
    bindings,
    clock,
    logger,
    metrics,
    readPoints: 50,
    persist: true,
    ...(cache ? { cache: createDetectionCache(100, 50) } : {}),
    seenSeries: new Set(),
    onFindings: async (findings) => {
      found.push(...findings);
    },
    ...extra,
  };
  const running = new RunningCollector('c', 'fake', collector, 5_000, { logger, clock, metrics });
  return {
    found,
    metrics,
    store: deps.store,
    /** A tick whose collector returns exactly these samples. */
    tickSamples: async (samples: Sample[]) => {
      next = samples;
      clock.set(Math.max(...samples.map((s) => s.timestamp)));
      return runTick(running, deps);
    },
    tick: async (days: number[], value: (day: number) => number) => {
      next = days.map((day) => ({ metric: 'coverage', labels: {}, timestamp: day * DAY, value: value(day) }));
      clock.set(Math.max(...days) * DAY);
      return runTick(running, deps);
    },
    /** A tick over several series: `days` per series name (label `s`), samples interleaved. */
    tickSeries: async (days: number[], names: string[], value: (day: number, name: string) => number) => {
      next = days.flatMap((day) =>
        names.map((s) => ({ metric: 'coverage', labels: { s }, timestamp: day * DAY, value: value(day, s) })),
      );
      clock.set(Math.max(...days) * DAY);
      return runTick(running, deps);
    },
  };
}

const coverage = (day: number) => (day >= 10 && day <= 12 ? 44.7 : 92);

describe('runTick', () => {
  it('raises an episode from its first day, keeps it ongoing, clears it after two normal points', async () => {
    const a = replica();

    await a.tick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], coverage);
    await a.tick([11], coverage);
    await a.tick([12], coverage);
    await a.tick([13], coverage);
    await a.tick([14], coverage);

    expect(a.found.map((f) => [f.state, new Date(f.since).getUTCDate(), f.value])).toEqual([
      ['raised', 11, 44.7],
      ['ongoing', 11, 44.7],
      ['ongoing', 11, 44.7],
      ['ongoing', 11, 92],
      ['cleared', 11, 92],
    ]);
  });

  it('a first start the day after a dip raises with the severity that raised it, never "raised ok"', async () => {
    const a = replica();

    // Day 10 dipped, day 11 is normal again: hysteresis (m = 2) still holds the episode open.
    await a.tick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], (day) => (day === 10 ? 44.7 : 92));

    expect(
      a.found.map((f) => [f.state, f.verdict.severity, f.value, new Date(f.timestamp).getUTCDate()]),
    ).toEqual([['raised', 'critical', 44.7, 11]]);
  });

  it('after a restart (empty cache) re-judges from Redis and raises nothing twice', async () => {
    const before = replica();
    await before.tick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], coverage);
    await before.tick([11], coverage);
    const restarted = replica();

    await restarted.tick([12], coverage);
    await restarted.tick([13, 14, 15], coverage);

    expect(before.found.map((f) => f.state)).toEqual(['raised', 'ongoing']);
    expect(restarted.found.map((f) => f.state)).toEqual(['ongoing', 'cleared']);
  });

  it('keys state and finding ids by binding id: bindings reordered across a restart keep the open episode', async () => {
    const before = replica(true, env.prefix, undefined, [coverageBinding(), otherBinding('latency')]);
    await before.tick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], coverage);
    await before.tick([11], coverage);
    // A new binding inserted at the top, the old ones swapped: positions all change.
    const restarted = replica(false, env.prefix, undefined, [
      otherBinding('errors'),
      otherBinding('latency'),
      coverageBinding(),
    ]);

    await restarted.tick([12], coverage);
    await restarted.tick([13, 14, 15], coverage);

    expect(before.found.map((f) => f.state)).toEqual(['raised', 'ongoing']);
    expect(restarted.found.map((f) => f.state)).toEqual(['ongoing', 'cleared']);
    expect(new Set([...before.found, ...restarted.found].map((f) => f.id)).size).toBe(1);
  });

  it('an explicit id: keeps the identity when the binding content changes', () => {
    const plain = coverageBinding();
    const named = compileBinding(
      detectorBinding.parse({ id: 'coverage', metric: 'coverage', use: [{ kind: 'zscore' }] }),
    );
    expect(plain.id).toMatch(/^b-[0-9a-f]{12}$/);
    expect(coverageBinding().id).toBe(plain.id);
    expect(named.id).toBe('coverage');
    expect(otherBinding('coverage').id).not.toBe(plain.id);
  });

  it('gives the same findings with and without the replica cache', async () => {
    // Two separate deployments (own key prefixes) fed the same data.
    const cached = replica(true, `${env.prefix}cached`);
    const uncached = replica(false, `${env.prefix}uncached`);
    const quietThenDrop = (day: number) => (day % 17 === 0 ? 40 : 90);

    for (const batch of [[1, 2, 3], [4], [5, 6], [17], [18], [19], [34], [35, 36]]) {
      await cached.tick(batch, quietThenDrop);
      await uncached.tick(batch, quietThenDrop);
    }

    expect(cached.found.map((f) => [f.state, f.since, f.value])).toEqual(
      uncached.found.map((f) => [f.state, f.since, f.value]),
    );
    expect(cached.found.length).toBeGreaterThan(2);
  });

  it('stores one point per timestamp when a collector returns a day twice, warm cache or not', async () => {
    const a = replica();
    await a.tick([1, 2, 3, 4, 5], coverage);
    const day6 = (value: number): Sample => ({ metric: 'coverage', labels: {}, timestamp: 6 * DAY, value });

    await a.tickSamples([day6(90), day6(44.7)]);
    const afterDuplicate = (await a.store.read(['coverage'])).get('coverage');
    await a.tickSamples([day6(91), { ...day6(92), timestamp: 7 * DAY }]);
    const afterRewrite = (await a.store.read(['coverage'])).get('coverage');

    const days = (series: typeof afterRewrite) => [...(series?.timestamps ?? [])].map((t) => t / DAY);
    expect(days(afterDuplicate)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(afterDuplicate?.values.at(-1)).toBe(44.7);
    expect(days(afterRewrite)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([...(afterRewrite?.values ?? [])].slice(-2)).toEqual([91, 92]);
  });

  it('judges a tick split into chunks of series exactly as one batch, with or without the cache', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    // Each series drops on its own days, so findings differ per series and per chunk.
    const drops = (day: number, s: string) => ((day + s.charCodeAt(0)) % 7 === 0 ? 40 : 90);
    const whole = replica(false, `${env.prefix}whole`);
    const chunked = replica(true, `${env.prefix}chunked`, 2);
    const chunkedUncached = replica(false, `${env.prefix}chunked-uncached`, 2);

    const reports = [];
    for (const days of [[1, 2, 3, 4], [5], [6, 7], [8], [9], [10, 11, 12], [13], [14]]) {
      const [w, c, u] = [
        await whole.tickSeries(days, names, drops),
        await chunked.tickSeries(days, names, drops),
        await chunkedUncached.tickSeries(days, names, drops),
      ];
      reports.push([w, c, u]);
    }

    const story = (found: Finding[]) =>
      found.map((f) => `${f.series} ${f.state} ${f.since / DAY} ${f.value}`).sort();
    expect(story(chunked.found)).toEqual(story(whole.found));
    expect(story(chunkedUncached.found)).toEqual(story(whole.found));
    expect(new Set(whole.found.map((f) => f.series)).size).toBe(names.length);
    for (const [w, c, u] of reports) {
      const verdicts = (r: typeof w) =>
        r?.series.map((s) => `${s.series} ${s.value} ${s.verdict?.severity}`).sort() ?? [];
      expect(verdicts(c)).toEqual(verdicts(w));
      expect(verdicts(u)).toEqual(verdicts(w));
      expect(w?.series).toHaveLength(names.length);
    }
  });
});

describe('collected values on /metrics (metrics.export_series)', () => {
  it('exports the newest value of each series, capped at max_series with the rest counted', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const exporter = new SeriesExport(registry, { maxSeries: 2 });

    exporter.record([
      { series: 'coverage{model="a"}', metric: 'coverage', value: 91 },
      { series: 'coverage{model="b"}', metric: 'coverage', value: 44.6 },
      { series: 'coverage{model="c"}', metric: 'coverage', value: 12 },
      { series: 'coverage{model="d"}', metric: 'coverage' },
    ]);
    exporter.record([{ series: 'coverage{model="a"}', metric: 'coverage', value: 92 }]);

    const text = await registry.metrics();
    expect(text).toContain('vigil_collected_value{metric="coverage",series="coverage{model=\\"a\\"}"} 92');
    expect(text).toContain('vigil_collected_value{metric="coverage",series="coverage{model=\\"b\\"}"} 44.6');
    expect(text).not.toContain('model=\\"c\\"');
    expect(text).toContain('vigil_collected_value_over_cap_total 1');
  });

  it('a tick with the export on sets the collected value; without it nothing is exported', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const on = replica(true, env.prefix, undefined, [coverageBinding()], {
      seriesExport: new SeriesExport(registry, { maxSeries: 10 }),
    });
    const off = replica(true, `${env.prefix}off:`);
    const sample = { metric: 'coverage', labels: {}, timestamp: DAY, value: 44.6 };

    await on.tickSamples([sample]);
    await off.tickSamples([sample]);

    expect(await registry.metrics()).toContain(
      'vigil_collected_value{metric="coverage",series="coverage"} 44.6',
    );
    expect(await off.metrics.metrics()).not.toContain('vigil_collected_value');
  });
});
