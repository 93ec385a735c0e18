import CircuitBreaker from 'opossum';
import { isVigilError } from '../core/errors.js';
import { isRateLimited } from '../platform/errors.js';
import { counterKey, type PolicySnapshot, settingsOf } from '../policies/types.js';
import { remediationRegistry } from '../remediations/index.js';
import type { ExecuteOutcome, RemediationContext, RemediationPlan } from '../remediations/types.js';

export type RemediationBreaker = CircuitBreaker<[RemediationPlan, RemediationContext], ExecuteOutcome>;

/**
 * One opossum circuit breaker per remediation kind and target, wrapping `execute`, with the
 * policy's `breaker` settings; rebuilt when a policy reload changes them. Breakers live in one
 * process: the worker copies an opening into Redis so every replica's policy gate sees it.
 */
export class BreakerSet {
  private readonly breakers = new Map<string, { settings: string; breaker: RemediationBreaker }>();
  private readonly openedAt = new Map<string, number>();

  /**
   * Closes the local breaker of the plan's target if it opened before a human's fleet-wide reset
   * (`vigil breaker close` at `resetAt`): the Redis breaker key is gone then, and this process's
   * opossum state must follow on every replica.
   */
  resetIfClosedSince(plan: RemediationPlan, resetAt: number | undefined): void {
    const key = counterKey(plan.kind, plan.target);
    const opened = this.openedAt.get(key);
    const entry = this.breakers.get(key);
    if (resetAt === undefined || opened === undefined || !entry || opened > resetAt) return;
    entry.breaker.close();
    this.openedAt.delete(key);
  }

  for(plan: RemediationPlan, snapshot: PolicySnapshot): RemediationBreaker {
    const key = counterKey(plan.kind, plan.target);
    const options = settingsOf(snapshot, plan.kind).breaker;
    const settings = JSON.stringify(options);
    const existing = this.breakers.get(key);
    if (existing && existing.settings === settings) return existing.breaker;
    existing?.breaker.shutdown();
    const definition = remediationRegistry.get(plan.kind);
    const breaker: RemediationBreaker = new CircuitBreaker(
      (planned: RemediationPlan, context: RemediationContext) => definition.execute(planned, context),
      {
        timeout: options.timeout,
        errorThresholdPercentage: options.error_threshold_percentage,
        // opossum's default 0 opens on one failure in an empty window (the policy's default is 3).
        volumeThreshold: options.volume_threshold,
        resetTimeout: options.reset_timeout,
        // A plan the platform refuses says nothing about the platform's health.
        // Nor does a 429: the platform is healthy and asks us to slow down.
        errorFilter: (error: unknown) =>
          (isVigilError(error) && error.kind === 'permanent') || isRateLimited(error),
      },
    );
    breaker.on('open', () => this.openedAt.set(key, Date.now()));
    this.breakers.set(key, { settings, breaker });
    return breaker;
  }

  shutdown(): void {
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }
}
