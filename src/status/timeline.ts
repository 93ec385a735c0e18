import type { DecisionView, RemediationView, StatusEvent } from './types.js';

/**
 * Pure folds over audit events (oldest first): the decisions of each finding and each
 * remediation's path enqueued → started → outcome → verification. Shared by the overview, the
 * incident view and the series markers, so all three tell one story.
 */

interface PlanLike {
  readonly kind?: string;
  readonly target?: string;
  readonly description?: string;
  readonly rule?: string | null;
  readonly remediation?: string;
}

const VERIFICATIONS = new Set(['verified', 'unverified', 'ineffective', 'rolled-back']);

export function decisionsByFinding(events: readonly StatusEvent[]): Map<string, DecisionView[]> {
  const byFinding = new Map<string, DecisionView[]>();
  for (const event of events) {
    if (event.event !== 'decision' || !event.findingId) continue;
    const plan = (event.plan ?? {}) as PlanLike;
    const list = byFinding.get(event.findingId) ?? [];
    const view: DecisionView = {
      time: event.time,
      action: event.outcome ?? 'unknown',
      rule: plan.rule ?? null,
      ...(plan.remediation ? { remediation: plan.remediation } : {}),
      ...(plan.target ? { target: plan.target } : {}),
      reason: event.reason ?? '',
    };
    // Every tick re-decides an ongoing finding: keep a decision only when it changed.
    const last = list.at(-1);
    if (!last || last.action !== view.action || last.reason !== view.reason || last.target !== view.target)
      list.push(view);
    byFinding.set(event.findingId, list);
  }
  return byFinding;
}

export function remediationsOf(events: readonly StatusEvent[]): RemediationView[] {
  const byKey = new Map<string, RemediationView>();
  for (const event of events) {
    const plan = event.plan as PlanLike | undefined;
    if (!event.findingId || !plan?.kind || !plan.target) continue;
    const stage = remediationStage(event);
    if (!stage) continue;
    const key = `${event.findingId}|${plan.kind}|${plan.target}`;
    const view = byKey.get(key) ?? {
      findingId: event.findingId,
      kind: plan.kind,
      target: plan.target,
      ...(plan.description ? { description: plan.description } : {}),
      startedAt: null,
      outcome: null,
      outcomeAt: null,
      verification: null,
      verifiedAt: null,
    };
    byKey.set(key, advance(view, stage, event));
  }
  return [...byKey.values()].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

function remediationStage(event: StatusEvent): string | undefined {
  if (event.event === 'enqueued' || event.event === 'started') return event.event;
  if (event.event.startsWith('remediation-')) return event.event.slice('remediation-'.length);
  if (event.event === 'rollback' || event.event === 'rolled-back') return 'rolled-back';
  return undefined;
}

function advance(view: RemediationView, stage: string, event: StatusEvent): RemediationView {
  const job = event.reason?.startsWith('job ') ? event.reason.slice(4) : view.job;
  const withJob = job ? { ...view, job } : view;
  if (stage === 'enqueued') return withJob;
  if (stage === 'started') return { ...withJob, startedAt: event.time };
  if (VERIFICATIONS.has(stage))
    return { ...withJob, verification: stage, verifiedAt: event.time, ...detail(event) };
  return { ...withJob, outcome: stage, outcomeAt: event.time, ...detail(event) };
}

function detail(event: StatusEvent): { detail?: string } {
  return event.reason ? { detail: event.reason } : {};
}
