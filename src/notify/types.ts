import type { Clock } from '../core/clock.js';
import { type ErrorKind, VigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PluginDefinition } from '../core/plugin.js';
import type { Decision, Finding } from '../core/types.js';
import type { RemediationPlan } from '../remediations/types.js';

/**
 * What vigil tells humans. Notifications run after the audit and never gate anything: a Slack
 * outage costs a message, never a remediation or a tick.
 */
export type NotifyEvent =
  /** A finding opened (with what the policy decided for it) or closed. */
  | {
      readonly type: 'finding';
      readonly finding: Finding;
      readonly decisions: readonly Decision[];
    }
  /** An edit of the policy file was rejected; the last good policy stays in force. */
  | { readonly type: 'policy-rejected'; readonly file: string; readonly problems: readonly string[] }
  /**
   * A run-time control changed: a hold placed by vigil (`escalation`: a human must look) or a
   * human's pause, resume, silence or hold clear (`info`).
   */
  | {
      readonly type: 'control';
      readonly severity: 'escalation' | 'info';
      readonly action: string;
      readonly text: string;
    }
  /**
   * A storm: one tick raised more findings than `notify.storm_threshold`; humans get this one
   * summary instead of one message per finding (each is still decided and audited).
   */
  | { readonly type: 'storm'; readonly findings: readonly Finding[]; readonly total: number }
  /** A step of an automatic remediation (see RemediationStage). */
  | {
      readonly type: 'remediation';
      readonly stage: RemediationStage;
      readonly findingId: string;
      readonly plan: RemediationPlan;
      readonly detail: string;
    };

/**
 * `executed` changed the platform; `already-satisfied` found nothing to do; `skipped` was stopped
 * at run time (kill switch, override, cooldown); `failed` gave up; `interrupted` was cut short by
 * vigil's own shutdown (retried, not counted against the target); `verified` / `ineffective` are
 * the verification's verdict (ineffective stops automatic runs on the target until a human resets
 * it); `unverified`: the platform could not be read to check.
 */
export type RemediationStage =
  | 'executed'
  | 'already-satisfied'
  | 'skipped'
  | 'failed'
  | 'interrupted'
  | 'verified'
  | 'unverified'
  | 'ineffective';

/** One configured destination. `notify` is called at most once at a time per event, never concurrently with itself for one event. */
export interface Notifier {
  readonly id: string;
  readonly kind: string;
  /** Delivered through the notification queue (BullMQ) when the daemon has one: it leaves the process. */
  readonly queued?: boolean;
  /** Delivers the event, retrying within its own bounds; throws a NotifyError when it gave up. */
  notify(event: NotifyEvent, signal: AbortSignal): Promise<void>;
}

export interface NotifierDeps {
  readonly id: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where the console notifier writes; stdout by default. */
  readonly out?: { write(text: string): unknown };
}

export type NotifierDefinition<Options = unknown> = PluginDefinition<Options, Notifier, NotifierDeps>;

/** A notification that could not be delivered; `retryable` says whether trying later may help. */
export class NotifyError extends VigilError {
  readonly kind: ErrorKind;

  constructor(
    message: string,
    readonly retryable: boolean,
    /** The receiver asked to wait this long (HTTP 429 Retry-After) before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message, { code: retryable ? 'notify-transient' : 'notify-rejected' });
    this.kind = retryable ? 'transient' : 'permanent';
  }
}
