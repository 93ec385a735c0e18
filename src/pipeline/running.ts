import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Collector, CollectResult } from '../collectors/types.js';
import type { Clock } from '../core/clock.js';
import { errorMessage, isVigilError, TransientError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter, histogram, type MetricsRegistry } from '../core/metrics.js';
import { type RedisKeys, redisKeys } from '../store/keys.js';

/**
 * Wraps one collector instance with what every collector gets from the runtime: a child
 * logger, metrics, a timeout that aborts its I/O, and a guarantee that it never runs twice at
 * once — within this process (a flag) and across replicas (a Redis lease with the timeout as TTL).
 * An overrunning collector's next tick is skipped, logged and counted, never queued behind it.
 */
export type RunOutcome =
  | { readonly outcome: 'success'; readonly result: CollectResult; readonly durationMs: number }
  | { readonly outcome: 'failure'; readonly error: Error; readonly durationMs: number }
  | { readonly outcome: 'skipped'; readonly reason: string };

export interface RunningCollectorDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
  /** For the cross-replica lease; omit in single-process tools such as `vigil once`. */
  readonly redis?: Redis;
  /** Where the lease lives (default namespace `vigil`). */
  readonly keys?: RedisKeys;
}

const RELEASE_LEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export class RunningCollector {
  private running = false;
  private readonly runs;
  private readonly duration;

  constructor(
    readonly id: string,
    readonly kind: string,
    readonly collector: Collector,
    private readonly timeoutMs: number,
    private readonly deps: RunningCollectorDeps,
  ) {
    this.runs = counter(deps.metrics, {
      name: 'vigil_collector_runs_total',
      help: 'Collector runs by outcome (success, failure, skipped)',
      labelNames: ['collector', 'outcome'] as const,
    });
    this.duration = histogram(deps.metrics, {
      name: 'vigil_collector_duration_seconds',
      help: 'Collector run duration',
      labelNames: ['collector'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
  }

  /** Runs the collector once unless it is already running here or on another replica. */
  async run(shutdown?: AbortSignal): Promise<RunOutcome> {
    if (this.running) return this.skip('previous run still in progress on this replica');
    // Claimed before the first await, so a second call in the same tick of the event loop sees it.
    this.running = true;
    const leaseKey = (this.deps.keys ?? redisKeys('vigil')).collectorLease(this.id);
    const token = randomUUID();
    try {
      if (this.deps.redis) {
        const acquired = await this.deps.redis.set(leaseKey, token, 'PX', this.timeoutMs + 1_000, 'NX');
        if (acquired !== 'OK') return this.skip('previous run still in progress on another replica');
      }
      try {
        return await this.collectWithTimeout(shutdown);
      } finally {
        // Compare-and-delete: after an expiry another replica may hold the lease now; never drop theirs.
        await this.deps.redis?.eval(RELEASE_LEASE, 1, leaseKey, token).catch(() => undefined);
      }
    } finally {
      this.running = false;
    }
  }

  private skip(reason: string): RunOutcome {
    this.runs.inc({ collector: this.id, outcome: 'skipped' });
    this.deps.logger.warn({ collector: this.id, reason }, 'collector tick skipped');
    return { outcome: 'skipped', reason };
  }

  private async collectWithTimeout(shutdown?: AbortSignal): Promise<RunOutcome> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(shutdown ? [shutdown] : [])];
    const signal = AbortSignal.any(signals);
    const started = performance.now();
    try {
      const result = await raceAbort(
        this.collector.collect({ clock: this.deps.clock, logger: this.deps.logger, signal }),
        signal,
        this.timeoutMs,
      );
      const durationMs = performance.now() - started;
      this.record('success', durationMs);
      return { outcome: 'success', result, durationMs };
    } catch (error) {
      const durationMs = performance.now() - started;
      this.record('failure', durationMs);
      const wrapped = error instanceof Error ? error : new Error(String(error));
      const code = isVigilError(error) ? error.code : 'error';
      this.deps.logger.warn({ collector: this.id, code, error: errorMessage(error) }, 'collector run failed');
      return { outcome: 'failure', error: wrapped, durationMs };
    }
  }

  private record(outcome: 'success' | 'failure', durationMs: number): void {
    this.runs.inc({ collector: this.id, outcome });
    this.duration.observe({ collector: this.id }, durationMs / 1000);
  }
}

/** A collector that ignores its signal must still not hold the tick past the timeout. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(
        new TransientError(`collector did not finish within ${timeoutMs} ms`, { code: 'collector-timeout' }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
