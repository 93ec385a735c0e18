import type { AuditRecord } from '../audit/chain.js';
import type { ControlStore } from '../controls/store.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter, type MetricsRegistry } from '../core/metrics.js';
import type { Decision, Finding } from '../core/types.js';
import type { NotifyEvent } from '../notify/types.js';
import type { ApprovalGrant, ApprovalStore } from '../policies/approvals.js';
import type { CounterStore } from '../policies/counters.js';
import { candidatesFor, evaluate, formatDecision } from '../policies/evaluate.js';
import type { PolicySnapshot } from '../policies/types.js';
import { type EvidenceStore, evidenceOf, isEvidence } from './evidence.js';

/**
 * The policy stage of the tick: each raised or ongoing finding is evaluated against the policy
 * in force, with counters read from Redis (every replica sees the same cooldowns and rates),
 * and every decision — skips included — is logged with the finding id, counted and audited.
 *
 * The remediation queue that executes `act` decisions is a later stage; until it is wired in,
 * `onDecisions` is where decisions go (the daemon logs them as not executed).
 */
export interface PolicyStageDeps {
  readonly policy: () => PolicySnapshot | undefined;
  readonly counters: CounterStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly onDecisions?: (
    finding: Finding,
    decisions: readonly Decision[],
    collector: string | undefined,
  ) => Promise<void>;
  /** Run-time controls (pause, holds, silences, do-not-deploy memory), read with the counters. */
  readonly controls?: ControlStore;
  /** Where the series a remediation should fix are remembered for its verification. */
  readonly evidence?: EvidenceStore;
  /** Where decisions are recorded (the replica's audit log); rejects when it cannot record. */
  readonly audit?: { append(record: AuditRecord): Promise<unknown> };
  /** Where `needs-approval` decisions wait for `vigil approve`, and grants are read. */
  readonly approvals?: ApprovalStore;
  /** Tells humans about raised findings (with their decisions) and cleared ones; never awaited. */
  readonly announce?: (event: NotifyEvent) => unknown;
  /** More raised findings than this in one call (one tick) are announced as one storm summary. */
  readonly stormThreshold?: number;
}

/** The stage for one tick's findings; `collector` names the collector that produced them. */
export type PolicyStage = (findings: readonly Finding[], collector?: string) => Promise<void>;

export function createPolicyStage(deps: PolicyStageDeps): PolicyStage {
  const decisionsTotal = counter(deps.metrics, {
    name: 'vigil_decisions_total',
    help: 'Policy decisions by action',
    labelNames: ['action', 'rule'] as const,
  });
  const auditFailures = counter(deps.metrics, {
    name: 'vigil_audit_failures_total',
    help: 'Decisions that could not be written to the audit log (nothing is acted on without one)',
  });
  return async (findings, collector) => {
    const raised = findings.filter((finding) => finding.state === 'raised');
    // Humans read one summary, not hundreds of cards; each finding is still decided and audited.
    const storm = raised.length > (deps.stormThreshold ?? Number.POSITIVE_INFINITY);
    for (const finding of findings) {
      if (finding.state === 'cleared') {
        deps.announce?.({ type: 'finding', finding, decisions: [] });
        continue;
      }
      const snapshot = deps.policy();
      if (!snapshot) {
        deps.logger.warn({ findingId: finding.id }, 'no policy loaded: finding reported, not acted on');
        continue;
      }
      let decisions: Decision[];
      let approval: ApprovalGrant | undefined;
      try {
        const counters = await deps.counters.read(candidatesFor(finding, snapshot));
        approval = await deps.approvals?.granted(finding.id);
        const controls = await deps.controls?.read();
        decisions = evaluate(finding, snapshot, deps.clock.now(), counters, {
          approved: approval !== undefined,
          ...(controls ? { controls } : {}),
        });
      } catch (error) {
        // Without counters no gate can be trusted: fail closed, retry at the next tick.
        deps.logger.error({ findingId: finding.id, error: errorMessage(error) }, 'policy evaluation failed');
        continue;
      }
      for (const decision of decisions) {
        decisionsTotal.inc({ action: decision.action, rule: decision.ruleId ?? 'none' });
        deps.logger.info(
          {
            findingId: finding.id,
            series: finding.series,
            action: decision.action,
            rule: decision.ruleId,
            target: decision.target,
            decision: formatDecision(decision),
          },
          'policy decision',
        );
        try {
          await deps.audit?.append(decisionRecord(finding, decision, snapshot, approval));
        } catch (error) {
          auditFailures.inc();
          deps.logger.error({ findingId: finding.id, error: errorMessage(error) }, 'decision not audited');
        }
      }
      await recordEvidence(finding, decisions, collector, deps);
      const asked = await requestApprovals(finding, decisions, collector, deps);
      if (asked || (finding.state === 'raised' && !storm))
        deps.announce?.({ type: 'finding', finding, decisions });
      await deps.onDecisions?.(finding, decisions, collector);
    }
    if (storm) deps.announce?.({ type: 'storm', findings: raised, total: raised.length });
  };
}

/** The audit entry of one decision: what was decided, by which rule and policy, and why. */
export function decisionRecord(
  finding: Finding,
  decision: Decision,
  snapshot: PolicySnapshot,
  approval?: ApprovalGrant,
): AuditRecord {
  return {
    event: 'decision',
    findingId: finding.id,
    outcome: decision.action,
    reason: decision.reason,
    plan: {
      series: finding.series,
      since: finding.since,
      severity: finding.verdict.severity,
      // The same explanation a Slack card shows (notify/lib/blocks.ts): audit and card agree.
      explanation: explanationOf(finding),
      rule: decision.ruleId,
      remediation: decision.remediation,
      target: decision.target,
      params: decision.params,
      gates: decision.gates,
      policy: snapshot.hash,
      ...(approval ? { approvedBy: approval.approver, approvedAt: approval.at } : {}),
    },
  };
}

/** Remembers the series each run should fix (acted on, or covered by a run in its cooldown). */
async function recordEvidence(
  finding: Finding,
  decisions: readonly Decision[],
  collector: string | undefined,
  deps: PolicyStageDeps,
): Promise<void> {
  for (const decision of decisions) {
    if (!deps.evidence || !isEvidence(decision) || !decision.remediation || !decision.target) continue;
    try {
      const entry = evidenceOf(finding, decision, collector, deps.clock.now());
      await deps.evidence.record(decision.remediation, decision.target, entry);
    } catch (error) {
      // Verification then judges only the series its job was queued for.
      deps.logger.warn({ findingId: finding.id, error: errorMessage(error) }, 'evidence not recorded');
    }
  }
}

/** Leaves a request for each `needs-approval` decision; true when one is new (humans must hear of it). */
async function requestApprovals(
  finding: Finding,
  decisions: readonly Decision[],
  collector: string | undefined,
  deps: PolicyStageDeps,
): Promise<boolean> {
  let asked = false;
  for (const decision of decisions) {
    if (decision.action !== 'needs-approval' || !deps.approvals) continue;
    try {
      if (await deps.approvals.request(finding, decision, collector)) {
        asked = true;
        await deps.audit?.append({
          event: 'approval-requested',
          findingId: finding.id,
          reason: `${decision.reason}; approve with: vigil approve ${finding.id}`,
        });
      }
    } catch (error) {
      deps.logger.error(
        { findingId: finding.id, error: errorMessage(error) },
        'approval request not recorded',
      );
    }
  }
  return asked;
}

/** What the detector saw: the fields of a finding's card (value, baseline, σ, window, detector, reason). */
export function explanationOf(finding: Finding): Record<string, unknown> {
  const { verdict } = finding;
  return {
    value: finding.value,
    timestamp: finding.timestamp,
    detector: verdict.detector,
    statistic: verdict.statistic,
    baseline: verdict.baseline?.center ?? null,
    spread: verdict.baseline?.spread ?? null,
    window: verdict.baseline?.window ?? null,
    reason: verdict.reason,
  };
}
