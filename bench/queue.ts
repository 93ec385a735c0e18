import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import CircuitBreaker from 'opossum';
import pino from 'pino';
import type { AuditRecord } from '../src/audit/chain.js';
import { AuditLog } from '../src/audit/log.js';
import { systemClock } from '../src/core/clock.js';
import { createMetricsRegistry } from '../src/core/metrics.js';
import { type Finding, seriesKey } from '../src/core/types.js';
import { createDispatcher } from '../src/pipeline/dispatch.js';
import { createPolicyStage } from '../src/pipeline/policy-stage.js';
import { RemediationWorker } from '../src/pipeline/remediation-worker.js';
import type { CloudRunAdapter } from '../src/platform/cloud-run.js';
import type { RunService } from '../src/platform/run-types.js';
import { CounterStore } from '../src/policies/counters.js';
import { loadPolicy } from '../src/policies/load.js';
import { redisKeys } from '../src/store/keys.js';
import { bullConnection } from '../src/store/redis.js';
import { startLocalRedis } from '../src/store/redis-server.js';
import { median, quantile, report, say } from './report.js';

/**
 * The acting path, finding → remediation `started`, through the real code: policy stage (counters
 * read, decision audited) → dispatch (plan, BullMQ dedup + limit + add, `enqueued` audited) →
 * BullMQ → worker (policy re-check, slot lease, cooldown claim, `started` audited with fdatasync)
 * → opossum breaker → restart-service's execute. The remediation is a no-op: its platform read
 * answers in-process that the service was already restarted, so it ends `already-satisfied`.
 *
 * Runs on a throwaway redis-server (no other client skews INFO commandstats; nothing to clean up
 * in the shared Redis). Phase 1: REMEDIATIONS findings one after another (each waits for its run
 * to finish), for unloaded latency and where the time goes. Phase 2: the same number in one burst
 * through vigil, then through a bare BullMQ no-op worker on the same Redis with the same
 * concurrency, for the throughput ratio.
 */
const BENCH = 'queue';
const REMEDIATIONS = Number(process.env.VIGIL_BENCH_REMEDIATIONS ?? 1_000);
/** The daemon's default `remediations.concurrency`. */
const CONCURRENCY = Number(process.env.VIGIL_BENCH_CONCURRENCY ?? 2);

const policyYaml = `
mode: auto
remediations:
  restart-service:
    mode: auto
    cooldown: 1h
    max_per_hour: { target: 10, global: 1000000 }
    max_per_day: { target: 10, global: 1000000 }
    max_concurrent: ${CONCURRENCY}
rules:
  - id: restart
    match: { metric: probe_up }
    action: { kind: restart-service, params: { service: '{{labels.service}}' } }
`;

/** Cloud Run as the no-op remediation sees it: every service was restarted in the future. */
function noopCloudRun(): CloudRunAdapter {
  const service = (name: string): RunService => ({
    name,
    resourceName: `projects/bench/locations/here/services/${name}`,
    generation: 1,
    labels: {},
    annotations: {},
    image: 'bench:latest',
    templateLabels: {},
    templateAnnotations: { 'vigil.dev/restarted-at': '2999-01-01T00:00:00Z' },
    commitSha: undefined,
    latestReadyRevision: `${name}-00001`,
    latestCreatedRevision: `${name}-00001`,
    traffic: [],
    ready: true,
    reconciling: false,
    updateTime: undefined,
    uri: `http://127.0.0.1/${name}`,
  });
  const refuse = () => Promise.reject(new Error('the no-op remediation only reads'));
  return {
    getService: async (name) => service(name),
    listServices: refuse,
    listRevisions: refuse,
    getRevision: refuse,
    updateServiceImage: refuse,
    restartService: refuse,
    routeTraffic: refuse,
    getJob: refuse,
    runJob: refuse,
    getExecution: refuse,
    getOperation: refuse,
  };
}

function probeFinding(run: string, i: number): Finding {
  const labels = { service: `bench-${run}-${i}` };
  const now = Date.now();
  return {
    id: `f-${run}-${i}`,
    series: seriesKey('probe_up', labels),
    metric: 'probe_up',
    labels,
    timestamp: now,
    value: 0,
    state: 'raised',
    since: now,
    verdict: {
      detector: 'threshold',
      anomalous: true,
      severity: 'critical',
      score: 1,
      statistic: null,
      baseline: null,
      reason: 'probe down',
    },
  };
}

/** Milliseconds spent per labelled operation (summed), for "where the time goes". */
class Spent {
  readonly ms = new Map<string, number>();
  async time<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.ms.set(label, (this.ms.get(label) ?? 0) + performance.now() - started);
    }
  }
  reset(): void {
    this.ms.clear();
  }
}

/** Redis calls and server-side µs per command since the last reset. */
async function commandStats(
  redis: import('ioredis').Redis,
): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const match of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g))
    stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) });
  return stats;
}

export async function run(): Promise<void> {
  const server = await startLocalRedis();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-queue-'));
  const owned: import('ioredis').Redis[] = [];
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const redis = bullConnection(server.url, owned);
    const keys = redisKeys('vigil-bench');
    const clock = systemClock;
    const logger = pino({ level: 'silent' });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const policy = loadPolicy(policyYaml, 'bench-policy.yaml');
    const spent = new Spent();
    const log = await AuditLog.open({ dir, replica: 'bench', clock });
    stops.push(() => log.close());

    // Each audit append is timed; `started` and the final stage resolve waiting promises.
    const waiting = new Map<string, { event: string; resolve: () => void }[]>();
    const whenAudited = (findingId: string, event: string) =>
      new Promise<void>((resolve) => {
        const list = waiting.get(findingId) ?? [];
        list.push({ event, resolve });
        waiting.set(findingId, list);
      });
    const audit = {
      async append(record: AuditRecord) {
        const entry = await spent.time(`audit ${record.event}`, () => log.append(record));
        const list = waiting.get(record.findingId ?? '');
        for (const waiter of list ?? []) if (waiter.event === record.event) waiter.resolve();
        return entry;
      },
    };
    const counters = new CounterStore({ redis, keys, clock });
    for (const method of ['read', 'claimed', 'claim', 'commit', 'unclaim', 'recordOutcome'] as const) {
      const original = counters[method].bind(counters) as (...args: unknown[]) => Promise<unknown>;
      (counters as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
        spent.time(`counters.${method}`, () => original(...args));
    }
    const cloudRun = noopCloudRun();
    const worker = new RemediationWorker(
      {
        redisUrl: server.url,
        prefix: keys.bullmq,
        concurrency: CONCURRENCY,
        attempts: 3,
        verifyAfterMs: 86_400_000,
        verifyAttempts: 1,
        callTimeoutMs: 5_000,
        maxQueued: 100_000,
        backoffMs: 100,
      },
      {
        policy: () => policy,
        counters,
        audit,
        announce: () => undefined,
        platform: {
          cloudRun: () => cloudRun,
          bigquery: () => {
            throw new Error('not used');
          },
        },
        clock,
        logger,
        metrics,
      },
    );
    stops.push(() => worker.stop());
    const enqueue = worker.queue.enqueue.bind(worker.queue);
    worker.queue.enqueue = (data) =>
      spent.time('queue.enqueue (BullMQ getJob, counts, add)', () => enqueue(data));
    const dispatch = createDispatcher({ queue: worker.queue, audit, logger });
    const stage = createPolicyStage({
      policy: () => policy,
      counters,
      clock,
      logger,
      metrics,
      audit,
      onDecisions: dispatch,
    });
    worker.start();

    say(
      `queue: ${REMEDIATIONS} no-op remediations, finding → started, concurrency ${CONCURRENCY}, throwaway redis-server`,
    );
    // Warm-up: connections, JIT, the first breaker.
    for (let i = 0; i < 20; i++) {
      const found = probeFinding('warm', i);
      const done = whenAudited(found.id, 'remediation-already-satisfied');
      await stage([found]);
      await done;
    }

    // Phase 1: one at a time.
    spent.reset();
    await redis.config('RESETSTAT');
    const latencies: number[] = [];
    const phaseStarted = performance.now();
    for (let i = 0; i < REMEDIATIONS; i++) {
      const found = probeFinding('seq', i);
      const started = whenAudited(found.id, 'started');
      const done = whenAudited(found.id, 'remediation-already-satisfied');
      const t0 = performance.now();
      await stage([found]);
      await started;
      latencies.push(performance.now() - t0);
      await done;
      waiting.delete(found.id);
    }
    const phaseMs = performance.now() - phaseStarted;
    const stats = await commandStats(redis);
    report({ bench: BENCH, figure: 'finding → started p50', value: quantile(latencies, 0.5), unit: 'ms' });
    report({
      bench: BENCH,
      figure: 'finding → started p99',
      value: quantile(latencies, 0.99),
      unit: 'ms',
      target: { op: '<=', value: 50 },
    });
    report({ bench: BENCH, figure: 'finding → started max', value: Math.max(...latencies), unit: 'ms' });
    say('  where the time goes (ms per remediation, one at a time; audit appends are serialised):');
    for (const [label, ms] of [...spent.ms].sort((a, b) => b[1] - a[1]))
      report({ bench: BENCH, figure: `  ${label}`, value: ms / REMEDIATIONS, unit: 'ms' });
    let calls = 0;
    let usec = 0;
    for (const [name, stat] of stats) {
      if (name === 'info' || name === 'config') continue;
      calls += stat.calls;
      usec += stat.usec;
    }
    report({
      bench: BENCH,
      figure: 'redis commands per remediation',
      value: calls / REMEDIATIONS,
      unit: 'calls',
      note: `(${[...stats]
        .filter(([name]) => name !== 'info' && name !== 'config')
        .sort((a, b) => b[1].calls - a[1].calls)
        .slice(0, 6)
        .map(([name, stat]) => `${name} ${(stat.calls / REMEDIATIONS).toFixed(1)}`)
        .join(', ')}; blocking BZPOPMIN/XREAD included)`,
    });
    report({ bench: BENCH, figure: 'redis CPU per remediation', value: usec / REMEDIATIONS, unit: 'µs' });
    report({
      bench: BENCH,
      figure: 'one-at-a-time rate',
      value: (REMEDIATIONS / phaseMs) * 1000,
      unit: 'remediations/s',
    });
    report({
      bench: BENCH,
      figure: 'opossum breaker overhead per call',
      value: await breakerOverhead(),
      unit: 'µs',
    });

    // Phase 2: a burst through vigil, then through bare BullMQ, same Redis and concurrency.
    const burst = Array.from({ length: REMEDIATIONS }, (_, i) => probeFinding('burst', i));
    const burstDone = Promise.all(
      burst.map((found) => whenAudited(found.id, 'remediation-already-satisfied')),
    );
    const vigilStarted = performance.now();
    await stage(burst);
    await burstDone;
    const vigilRate = (REMEDIATIONS / (performance.now() - vigilStarted)) * 1000;
    const bareRate = await bareBullmq(server.url, owned, stops);
    report({ bench: BENCH, figure: 'throughput, vigil path', value: vigilRate, unit: 'remediations/s' });
    report({ bench: BENCH, figure: 'throughput, bare BullMQ no-op worker', value: bareRate, unit: 'jobs/s' });
    report({
      bench: BENCH,
      figure: 'throughput ratio vigil / bare BullMQ',
      value: vigilRate / bareRate,
      unit: '×',
      target: { op: '>=', value: 0.5 },
    });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    for (const connection of owned) connection.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same number of jobs added one by one to a plain queue, processed by a worker that does nothing. */
async function bareBullmq(
  url: string,
  owned: import('ioredis').Redis[],
  stops: (() => Promise<unknown>)[],
): Promise<number> {
  const prefix = 'bare-bench';
  const queue = new Queue('bare', { connection: bullConnection(url, owned), prefix });
  let completed = 0;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const worker = new Worker('bare', async (_job: Job) => undefined, {
    connection: bullConnection(url, owned),
    prefix,
    concurrency: CONCURRENCY,
  });
  stops.push(
    () => worker.close(),
    () => queue.close(),
  );
  worker.on('completed', () => {
    completed++;
    if (completed === REMEDIATIONS) allDone();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < REMEDIATIONS; i++) await queue.add('noop', { i }, { jobId: `bare|${i}` });
  await done;
  return (REMEDIATIONS / (performance.now() - started)) * 1000;
}

/** µs an opossum fire adds to an async no-op (median of 5 rounds of 10,000 calls). */
async function breakerOverhead(): Promise<number> {
  const work = async (x: number) => x;
  const breaker = new CircuitBreaker(work, { timeout: 60_000, volumeThreshold: 3, resetTimeout: 600_000 });
  const rounds: number[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      let t = performance.now();
      for (let i = 0; i < 10_000; i++) await work(i);
      const direct = performance.now() - t;
      t = performance.now();
      for (let i = 0; i < 10_000; i++) await breaker.fire(i);
      rounds.push(((performance.now() - t - direct) * 1000) / 10_000);
    }
  } finally {
    breaker.shutdown();
  }
  return median(rounds);
}
