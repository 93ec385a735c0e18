import type { Redis } from 'ioredis';
import { TransientError } from '../core/errors.js';
import type { Decision, Finding, Labels } from '../core/types.js';
import type { RemediationPlan } from '../remediations/types.js';
import type { RedisKeys } from '../store/keys.js';

/**
 * The series a remediation is meant to fix, with their values before it ran: what verification
 * re-collects and judges. The policy stage records one entry per finding whose decision names a
 * remediation target and either acts or is held back by that target's cooldown (a run already
 * covers it: the grading backfill started for one model also fixes the others). Kept in Redis so
 * the replica that verifies need not be the one that decided.
 *
 * Key: `evidence:<kind|target>` (store/keys.ts), a hash of series → JSON entry, expiring a week after the
 * last write.
 */
export interface Evidence {
  readonly findingId: string;
  readonly series: string;
  readonly metric: string;
  readonly labels: Labels;
  /** The series' value when the decision was made. */
  readonly value: number;
  /** The detector's baseline (mean, median or band edge), when it reported one. */
  readonly baseline: number | null;
  /** The collector that produced the series (re-run to verify); undefined when unknown. */
  readonly collector: string | undefined;
  /** The rendered remediation params of the decision (a backfill's date range). */
  readonly params: Readonly<Record<string, string>>;
  readonly decidedAt: number;
}

const TTL_MS = 7 * 86_400_000;

export function evidenceOf(
  finding: Finding,
  decision: Decision,
  collector: string | undefined,
  at: number,
): Evidence {
  return {
    findingId: finding.id,
    series: finding.series,
    metric: finding.metric,
    labels: finding.labels,
    value: finding.value,
    baseline: finding.verdict.baseline?.center ?? null,
    collector,
    params: decision.params ?? {},
    decidedAt: at,
  };
}

/** Whether a decision's finding is one a run on its target is meant to fix (see the class comment). */
export function isEvidence(decision: Decision): boolean {
  if (!decision.remediation || !decision.target) return false;
  if (decision.action === 'act') return true;
  return decision.action === 'skip' && decision.gates?.at(-1)?.gate === 'cooldown';
}

/**
 * Whether a run of `plan` covers a finding decided with `params`: a job run must span the
 * finding's dates; any other plan acts on the whole target.
 */
export function planCovers(plan: RemediationPlan, params: Readonly<Record<string, string>>): boolean {
  if (plan.kind !== 'run-job') return true;
  const args = (plan as RemediationPlan & { args?: readonly string[] }).args ?? [];
  const start = args[args.indexOf('--start-date') + 1];
  const end = args[args.indexOf('--end-date') + 1];
  if (!start || !end || !params.start_date || !params.end_date) return false;
  return start <= params.start_date && params.end_date <= end;
}

export class EvidenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private key(kind: string, target: string): string {
    return this.keys.evidence(kind, target);
  }

  async record(kind: string, target: string, evidence: Evidence): Promise<void> {
    const key = this.key(kind, target);
    await this.call(() =>
      this.redis.multi().hset(key, evidence.series, JSON.stringify(evidence)).pexpire(key, TTL_MS).exec(),
    );
  }

  /** The entries recorded for the plan's target that the plan covers. */
  async covered(plan: RemediationPlan): Promise<Evidence[]> {
    const raw = await this.call(() => this.redis.hgetall(this.key(plan.kind, plan.target)));
    return Object.values(raw)
      .flatMap((text) => {
        try {
          return [JSON.parse(text) as Evidence];
        } catch {
          return [];
        }
      })
      .filter((entry) => planCovers(plan, entry.params));
  }

  /** Forgets judged series, so the next run on the target is judged on its own findings. */
  async forget(plan: RemediationPlan, series: readonly string[]): Promise<void> {
    if (series.length === 0) return;
    await this.call(() => this.redis.hdel(this.key(plan.kind, plan.target), ...series));
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new TransientError('remediation evidence unavailable', { cause: error });
    }
  }
}
