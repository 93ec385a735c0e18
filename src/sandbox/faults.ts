import { z } from 'zod';
import { createRandom, hashString, type Random } from './world/rng.js';

/**
 * Injected failures, matched per endpoint (route id such as `run.services.get`, a prefix such as
 * `run.*`, or `*`). Deterministic: each rule rolls its own seeded dice, so the same sequence of
 * requests sees the same failures for a given sandbox seed.
 */
export const faultSpec = z.strictObject({
  endpoint: z.string().min(1),
  /** Only requests whose target (service, job or table) equals this. */
  target: z.string().optional(),
  /** HTTP status to answer with; omit for latency only. */
  status: z.number().int().min(400).max(599).optional(),
  latency_ms: z.number().int().min(0).max(600_000).default(0),
  probability: z.number().min(0).max(1).default(1),
  /** How many requests the rule hits before it expires; omit for unlimited. */
  count: z.number().int().min(1).optional(),
  message: z.string().optional(),
  /**
   * With `latency_ms` and no `status`: the request is carried out after the delay even if the
   * client gave up meanwhile (a hung call that lands late, as a real API may do).
   */
  land_late: z.boolean().optional(),
  /** Sent as the `Retry-After` header (seconds), e.g. with status 429. */
  retry_after_s: z.number().int().min(0).max(86_400).optional(),
});
export type FaultSpec = z.output<typeof faultSpec>;

export interface FaultRule extends FaultSpec {
  readonly id: string;
  hits: number;
}

export interface FaultHit {
  readonly rule: string;
  readonly status: number | undefined;
  readonly latencyMs: number;
  readonly message: string;
  readonly retryAfterS: number | undefined;
  readonly landLate: boolean;
}

export class FaultInjector {
  private rules: { rule: FaultRule; random: Random }[] = [];
  private added = 0;

  constructor(private readonly seed: number) {}

  add(spec: FaultSpec): FaultRule {
    this.added += 1;
    const rule: FaultRule = { ...spec, id: `fault-${this.added}`, hits: 0 };
    this.rules.push({ rule, random: createRandom(hashString(`fault|${this.seed}|${this.added}`)) });
    return rule;
  }

  list(): readonly FaultRule[] {
    return this.rules.map((entry) => entry.rule);
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule that matches and fires for this request; counts the hit. */
  check(route: string, target: string | undefined): FaultHit | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.count !== undefined && rule.hits >= rule.count) continue;
      if (!matches(rule.endpoint, route)) continue;
      if (rule.target !== undefined && rule.target !== target) continue;
      // Roll only for matching requests, so unrelated traffic never shifts the sequence.
      if (rule.probability < 1 && entry.random() >= rule.probability) continue;
      rule.hits += 1;
      return {
        rule: rule.id,
        status: rule.status,
        latencyMs: rule.latency_ms,
        message: rule.message ?? `injected fault ${rule.id}: ${rule.status ?? 'latency'} on ${route}`,
        retryAfterS: rule.retry_after_s,
        landLate: rule.land_late === true,
      };
    }
    return undefined;
  }
}

function matches(pattern: string, route: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return route.startsWith(pattern.slice(0, -1));
  return pattern === route;
}
