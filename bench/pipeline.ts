import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { Collector } from '../src/collectors/types.js';
import { ManualClock } from '../src/core/clock.js';
import { createMetricsRegistry } from '../src/core/metrics.js';
import type { Sample } from '../src/core/types.js';
import { compileBinding, detectorBinding } from '../src/detectors/binding.js';
import { RunningCollector } from '../src/pipeline/running.js';
import { createDetectionCache, runTick } from '../src/pipeline/tick.js';
import { HistoryStore } from '../src/store/history.js';
import { redisKeys } from '../src/store/keys.js';
import { deleteKeysWithPrefix } from '../src/store/redis.js';
import { median, report } from './report.js';

/**
 * One tick over 10,000 series from an in-memory collector, through the real path: store in
 * Redis → read history and detection state → evaluate (zscore, 28-point window) → hysteresis →
 * commit state and flags. Prints ms per tick (median) and Redis round trips per 1,000 series.
 * Needs the Redis at VIGIL_REDIS_URL (default 127.0.0.1:6379); keys live under a unique prefix
 * and are deleted afterwards.
 */
const SERIES = 10_000;
const HISTORY = 28;
const TICKS = Number(process.env.VIGIL_BENCH_TICKS ?? 5);
const DAY = 86_400_000;

/** Microseconds Redis has spent in EVALSHA since its last stats reset (all clients). */
async function scriptMicros(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? 0);
}

export async function run(): Promise<void> {
  const redis = new Redis(process.env.VIGIL_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `vigil-bench:${randomUUID()}`;
  try {
    const store = new HistoryStore(redis, { keys: redisKeys(prefix), maxPoints: 400, maxAgeMs: 365 * DAY });
    const clock = new ManualClock(Date.UTC(2026, 1, 2));
    const sample = (s: number, day: number): Sample => ({
      metric: 'bench_metric',
      labels: { series: String(s) },
      timestamp: Date.UTC(2026, 0, 1) + day * DAY,
      value: 100 + Math.sin(s + day) * 5,
    });
    const backfill: Sample[] = [];
    for (let day = 0; day < HISTORY; day++) for (let s = 0; s < SERIES; s++) backfill.push(sample(s, day));
    await store.write(backfill, clock.now());

    let day = HISTORY;
    const collector: Collector = {
      metrics: ['bench_metric'],
      collect: async () => ({
        samples: Array.from({ length: SERIES }, (_, s) => sample(s, day)),
        problems: [],
        statuses: [],
      }),
    };
    const metrics = createMetricsRegistry({ processMetrics: false });
    const logger = pino({ level: 'silent' });
    const running = new RunningCollector('bench', 'fake', collector, 60_000, { logger, clock, metrics });
    const binding = compileBinding(
      detectorBinding.parse({
        metric: 'bench_metric',
        use: [{ kind: 'zscore', options: { window: HISTORY } }],
      }),
    );
    const deps = {
      store,
      bindings: [binding],
      clock,
      logger,
      metrics,
      readPoints: HISTORY + 1,
      persist: true,
      cache: createDetectionCache(50_000, HISTORY + 1),
      seenSeries: new Set<string>(),
      onFindings: async () => undefined,
    };

    const times: number[] = [];
    const trips: number[] = [];
    const redisTimes: number[] = [];
    for (let tick = 0; tick < TICKS + 1; tick++) {
      clock.advance(DAY);
      const before = store.roundTrips;
      const redisBefore = await scriptMicros(redis);
      const started = performance.now();
      const report = await runTick(running, deps);
      const elapsed = performance.now() - started;
      const redisMs = ((await scriptMicros(redis)) - redisBefore) / 1_000;
      if (report.outcome !== 'success') throw new Error(`tick failed: ${report.error}`);
      if (tick > 0) {
        times.push(elapsed);
        trips.push(store.roundTrips - before);
        redisTimes.push(redisMs);
      }
      day++;
    }
    const perThousand = median(trips) / (SERIES / 1_000);
    report({
      bench: 'pipeline',
      figure: `tick of ${SERIES} series (store + detect, zscore ${HISTORY})`,
      value: median(times),
      unit: 'ms',
      target: { op: '<=', value: 250 },
    });
    report({
      bench: 'pipeline',
      figure: '  of which Redis executing scripts',
      value: median(redisTimes),
      unit: 'ms',
      note: '(INFO commandstats, overlapped with judging)',
    });
    report({
      bench: 'pipeline',
      figure: 'redis round trips per 1,000 series',
      value: perThousand,
      unit: 'trips',
      note: `(${median(trips)} per tick)`,
      target: { op: '<=', value: 3 },
    });
  } finally {
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
  }
}
