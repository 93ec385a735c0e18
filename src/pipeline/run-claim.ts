import type { ControlStore } from '../controls/store.js';
import { NO_CONTROLS } from '../controls/types.js';
import type { Clock } from '../core/clock.js';
import type { Decision, Finding } from '../core/types.js';
import type { ApprovalStore } from '../policies/approvals.js';
import type { ClaimResult, CounterStore } from '../policies/counters.js';
import { candidatesFor, type EvaluateOptions, evaluate } from '../policies/evaluate.js';
import { type Counters, counterKey, type PolicySnapshot, settingsOf } from '../policies/types.js';
import type { RemediationPlan } from '../remediations/types.js';

/**
 * The worker's gate before a run: the decision re-made now with the live policy and the REAL
 * counters (a decision can go stale while its job waits), then the atomic claim in Redis that
 * checks and counts every limit at once for every replica. The re-check alone is not enough (two
 * replicas can both read "2 of 3 used"); the claim alone would not see overrides, freezes or
 * modes. A job that retries its own claimed run is judged without that run.
 */
export type ClaimVerdict =
  | { readonly status: 'claimed'; readonly runId: string }
  | { readonly status: 'skip'; readonly reason: string }
  | { readonly status: 'busy'; readonly running: number };

export interface RunClaimDeps {
  readonly counters: CounterStore;
  readonly approvals?: ApprovalStore | undefined;
  /** Run-time controls (pause, holds, silences, do-not-deploy memory): checked again before every run. */
  readonly controls?: ControlStore | undefined;
  readonly clock: Clock;
  /**
   * Why Redis cannot hold the limits right now (an evicting `maxmemory-policy`), or null. Checked
   * before every claim: an evicted counter or lease would let a second run through.
   */
  readonly redisProblem?: (() => Promise<string | null>) | undefined;
}

export interface RunRequest {
  readonly finding: Finding;
  readonly ruleId: string;
  readonly plan: RemediationPlan;
  /** Unique per job instance and stable across its retries and re-deliveries. */
  readonly runId: string;
}

/** How long a `max_concurrent` slot is leased: the run's own timeout plus a margin to report. */
export function slotLeaseMs(snapshot: PolicySnapshot, kind: string): number {
  return settingsOf(snapshot, kind).breaker.timeout + 60_000;
}

export async function claimRun(
  request: RunRequest,
  snapshot: PolicySnapshot,
  deps: RunClaimDeps,
): Promise<ClaimVerdict> {
  const { finding, plan, runId } = request;
  const unsafe = await deps.redisProblem?.();
  if (unsafe) return { status: 'skip', reason: `skip: ${unsafe}; no remediation runs until it is fixed` };
  const approved = (await deps.approvals?.granted(finding.id)) !== undefined;
  const controls = (await deps.controls?.read()) ?? NO_CONTROLS;
  const live = await deps.counters.read(candidatesFor(finding, snapshot));
  const retry = await deps.counters.claimed(plan.kind, plan.target, runId);
  const now = deps.clock.now();
  const stale = staleReason(
    request,
    decide(request, snapshot, now, retry ? withoutOwnRun(live, plan) : live, { approved, controls }),
  );
  if (stale) return { status: 'skip', reason: stale };
  const settings = settingsOf(snapshot, plan.kind);
  const claim = await deps.counters.claim(
    plan.kind,
    plan.target,
    runId,
    settings,
    slotLeaseMs(snapshot, plan.kind),
    now,
  );
  if (claim.status === 'busy') return { status: 'busy', running: claim.running };
  if (claim.status === 'refused')
    return { status: 'skip', reason: refusal(request, snapshot, claim, { approved, controls }) };
  return { status: 'claimed', runId };
}

function decide(
  request: RunRequest,
  snapshot: PolicySnapshot,
  now: number,
  counters: Counters,
  options: EvaluateOptions,
): Decision | undefined {
  return evaluate(request.finding, snapshot, now, counters, options).find(
    (d) => d.ruleId === request.ruleId && d.target === request.plan.target,
  );
}

function staleReason(request: RunRequest, decision: Decision | undefined): string | undefined {
  const { ruleId, plan } = request;
  if (!decision) return `rule ${ruleId} no longer asks for ${plan.kind} on ${plan.target}`;
  return decision.action === 'act' ? undefined : `${decision.action}: ${decision.reason}`;
}

/** The reason a claim was refused, rendered by the policy's own gates from the counters it judged. */
function refusal(
  request: RunRequest,
  snapshot: PolicySnapshot,
  claim: ClaimResult,
  options: EvaluateOptions,
): string {
  const { plan } = request;
  const counters: Counters = {
    targets: { [counterKey(plan.kind, plan.target)]: claim.counters },
    kinds: { [plan.kind]: claim.kindCounters },
  };
  return (
    staleReason(request, decide(request, snapshot, claim.at, counters, options)) ??
    `skip: a limit of ${plan.kind}/${plan.target} was reached at claim time`
  );
}

/** The counters without this run's own earlier claim (a retry must not be refused by itself). */
function withoutOwnRun(counters: Counters, plan: RemediationPlan): Counters {
  const key = counterKey(plan.kind, plan.target);
  const own = counters.targets[key];
  const kind = counters.kinds[plan.kind];
  const less = (n: number) => Math.max(0, n - 1);
  return {
    targets: own
      ? {
          ...counters.targets,
          [key]: {
            ...own,
            lastRunAt: null,
            runsLastHour: less(own.runsLastHour),
            runsLastDay: less(own.runsLastDay),
          },
        }
      : counters.targets,
    kinds: kind
      ? {
          ...counters.kinds,
          [plan.kind]: { runsLastHour: less(kind.runsLastHour), runsLastDay: less(kind.runsLastDay) },
        }
      : counters.kinds,
  };
}
