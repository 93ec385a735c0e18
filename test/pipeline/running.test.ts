import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collector, CollectResult } from '../../src/collectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { RunningCollector } from '../../src/pipeline/running.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const EMPTY: CollectResult = { samples: [], problems: [], statuses: [] };
let env: TestRedis;
beforeEach(async () => {
  env = await testRedis();
});
afterEach(async () => {
  await env.cleanup();
});

function gated(): { collector: Collector; release: () => void; calls: () => number } {
  let calls = 0;
  let release = (): void => undefined;
  const collector: Collector = {
    metrics: [],
    collect: () => {
      calls++;
      return new Promise((resolve) => {
        release = () => resolve(EMPTY);
      });
    },
  };
  return { collector, release: () => release(), calls: () => calls };
}

function deps(metrics = createMetricsRegistry({ processMetrics: false })) {
  return {
    logger: pino({ level: 'silent' }),
    clock: new ManualClock(0),
    metrics,
    redis: env.redis,
    keys: env.keys,
  };
}

describe('RunningCollector', () => {
  it('skips and counts a tick while the previous run is still going, here or on another replica', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const slow = gated();
    const here = new RunningCollector('coverage', 'fake', slow.collector, 10_000, deps(metrics));
    const otherReplica = new RunningCollector('coverage', 'fake', slow.collector, 10_000, deps(metrics));

    const first = here.run();
    const again = await here.run();
    const elsewhere = await otherReplica.run();
    slow.release();
    const done = await first;

    expect(again).toEqual({ outcome: 'skipped', reason: 'previous run still in progress on this replica' });
    expect(elsewhere).toEqual({
      outcome: 'skipped',
      reason: 'previous run still in progress on another replica',
    });
    expect(done.outcome).toBe('success');
    expect(slow.calls()).toBe(1);
    const runs = await metrics.getSingleMetricAsString('vigil_collector_runs_total');
    expect(runs).toContain('vigil_collector_runs_total{collector="coverage",outcome="skipped"} 2');
    expect(runs).toContain('vigil_collector_runs_total{collector="coverage",outcome="success"} 1');
  });

  it('aborts a collector at its timeout and records a failure, then runs again', async () => {
    let sawAbort = false;
    const hangs: Collector = {
      metrics: [],
      collect: ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason);
          });
        }),
    };
    const running = new RunningCollector('hangs', 'fake', hangs, 100, deps());

    const first = await running.run();
    const second = await running.run();

    expect(first.outcome).toBe('failure');
    expect(sawAbort).toBe(true);
    expect(second.outcome).toBe('failure');
  });
});
