import type { AuditEntry, Finding, Labels, Verdict } from '../core/types.js';
import type { ApprovalRequest } from '../policies/approvals.js';

/**
 * The status read model's data: what vigil sees and did, as plain JSON, the same for the HTTP
 * API, the status page and `vigil status`.
 */

/** The newest state of one finding (one episode of one series under one binding). */
export interface FindingRecord {
  readonly id: string;
  readonly series: string;
  readonly metric: string;
  readonly labels: Labels;
  readonly state: Finding['state'];
  readonly since: number;
  /** Timestamp and value of the newest judged point. */
  readonly timestamp: number;
  readonly value: number;
  readonly verdict: Verdict;
  /** When a replica last recorded this finding (vigil's clock). */
  readonly updatedAt: number;
  /** When it was cleared, if it was. */
  readonly clearedAt?: number;
}

/** One audit record as every replica mirrored it into Redis (the files stay the source of truth). */
export type StatusEvent = Omit<AuditEntry, 'prevHash' | 'hash'> & { readonly replica: string };

/** The last tick of one collector, whichever replica ran it. */
export interface CollectorHealth {
  readonly id: string;
  readonly lastTickAt: number;
  readonly lastOutcome: 'success' | 'failure' | 'skipped';
  readonly lastSuccessAt: number | null;
  readonly error?: string;
  /** Consecutive failed ticks (0 after a success). */
  readonly failures: number;
}

/** The policy one replica has in force. */
export interface PolicyState {
  readonly replica: string;
  readonly file: string;
  readonly mode: string;
  readonly hash: string;
  readonly loadedAt: number;
  /** Last heartbeat of the replica. */
  readonly seenAt: number;
  /** The last reload was rejected (the previous policy stays in force). */
  readonly lastReloadOk: boolean;
}

/** A breaker open on one (remediation kind, target), fleet-wide. */
export interface BreakerState {
  readonly kind: string;
  readonly target: string;
  readonly openUntil: number;
}

/** Runs left before the policy's rate limits refuse another, per (kind, target). */
export interface Budget {
  readonly kind: string;
  readonly target: string;
  readonly runsLastHour: number;
  readonly maxPerHour: number | null;
  readonly leftThisHour: number | null;
  readonly consecutiveFailures: number;
  /** Automatic runs stopped until a human resets the target (failures reached the limit). */
  readonly escalated: boolean;
  readonly cooldownUntil: number | null;
}

/** One remediation as followed through the audit: from enqueued to its verification. */
export interface RemediationView {
  readonly findingId: string;
  readonly kind: string;
  readonly target: string;
  readonly description?: string;
  readonly startedAt: number | null;
  readonly outcome: string | null;
  readonly outcomeAt: number | null;
  readonly verification: string | null;
  readonly verifiedAt: number | null;
  readonly job?: string;
  readonly detail?: string;
}

export interface QueueState {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  /** Age (ms) of the oldest job waiting to run, or null when none waits. */
  readonly oldestWaitingMs: number | null;
}

/** A manual control (hold, silence, pause) as the closed-loop module keeps it in Redis. */
export interface ControlState {
  readonly kind: 'hold' | 'silence' | 'pause' | 'override' | 'do-not-deploy';
  readonly id: string;
  readonly target?: string;
  readonly by?: string;
  readonly reason?: string;
  readonly until?: number | null;
}

export type PendingApproval = ApprovalRequest;

export interface StatusOverview {
  readonly now: number;
  /** healthy, or what makes it not: the reasons `vigil status` exits 1 for. */
  readonly health: { readonly ok: boolean; readonly problems: readonly string[] };
  readonly policy: readonly PolicyState[];
  readonly findings: readonly FindingWithDecisions[];
  readonly remediations: readonly RemediationView[];
  readonly breakers: readonly BreakerState[];
  readonly budgets: readonly Budget[];
  readonly approvals: readonly PendingApproval[];
  readonly controls: readonly ControlState[];
  readonly collectors: readonly CollectorHealth[];
  readonly queue: QueueState | null;
}

export interface DecisionView {
  readonly time: number;
  readonly action: string;
  readonly rule: string | null;
  readonly remediation?: string;
  readonly target?: string;
  readonly reason: string;
}

export interface FindingWithDecisions extends FindingRecord {
  readonly decisions: readonly DecisionView[];
}
