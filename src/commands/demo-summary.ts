import type { AuditEntry } from '../core/types.js';

/**
 * The table `vigil demo` ends with, read back from the audit log alone: for each finding a policy
 * rule considered, when it was detected, what vigil decided, how the run went, what verification
 * said about the series, and whether the target was held; then the actions taken on episodes
 * that started before the incident (false alarms on clean days) and the audit chain's status.
 */
export interface SummaryRow {
  readonly incident: string;
  readonly detectedAt: string;
  readonly action: string;
  readonly outcome: string;
  readonly verification: string;
  readonly escalation: string;
}

export interface Summary {
  readonly rows: readonly SummaryRow[];
  /** The latest decision on each finding vigil rolled back for (the freeze that follows). */
  readonly afterRollback: readonly string[];
  /** `act` decisions on findings whose episode began before `incidentStart`. */
  readonly falseAlarms: number;
  /** Decisions (any action) per target, for "untouched" lines. */
  readonly decisionsByTarget: ReadonlyMap<string, number>;
}

interface DecisionPlan {
  readonly series?: string;
  readonly rule?: string | null;
  readonly remediation?: string;
  readonly target?: string;
  readonly since?: number;
}

interface Verification {
  readonly series?: string;
  readonly before?: number;
  readonly after?: number | null;
}

export function summarize(entries: readonly AuditEntry[], incidentStart: number): Summary {
  const decisions = entries.filter((entry) => entry.event === 'decision');
  const byFinding = new Map<string, AuditEntry[]>();
  for (const entry of decisions) {
    const list = byFinding.get(entry.findingId ?? '') ?? [];
    list.push(entry);
    byFinding.set(entry.findingId ?? '', list);
  }
  const rows: SummaryRow[] = [];
  let falseAlarms = 0;
  const decisionsByTarget = new Map<string, number>();
  for (const [findingId, list] of byFinding) {
    const first = list[0] as AuditEntry;
    const plan = (first.plan ?? {}) as DecisionPlan;
    for (const entry of list) {
      const target = ((entry.plan ?? {}) as DecisionPlan).target;
      if (target) decisionsByTarget.set(target, (decisionsByTarget.get(target) ?? 0) + 1);
    }
    const acted = list.find((entry) => entry.outcome === 'act');
    if (acted && plan.since !== undefined && plan.since < incidentStart) falseAlarms++;
    if (!plan.rule) continue;
    rows.push({
      incident: plan.series ?? findingId,
      detectedAt: clock(first.time),
      action: action(acted ?? first),
      outcome: outcome(entries, findingId, list),
      verification: verification(entries, findingId),
      escalation: escalation(entries, plan, findingId),
    });
  }
  const afterRollback = entries
    .filter((entry) => entry.event === 'do-not-deploy-added')
    .flatMap((memory) => {
      const last = byFinding.get(memory.findingId ?? '')?.at(-1);
      const series = ((last?.plan ?? {}) as DecisionPlan).series;
      return last ? [`${series}: latest decision ${last.outcome}: ${last.reason}`] : [];
    });
  return { rows, falseAlarms, decisionsByTarget, afterRollback };
}

function action(entry: AuditEntry): string {
  const plan = (entry.plan ?? {}) as DecisionPlan;
  if (entry.outcome === 'act') return `${plan.remediation}/${plan.target}`;
  return `${entry.outcome}: ${shorten(entry.reason ?? '', 48)}`;
}

function outcome(
  entries: readonly AuditEntry[],
  findingId: string,
  decisions: readonly AuditEntry[],
): string {
  const run = entries.find(
    (entry) =>
      entry.findingId === findingId &&
      [
        'remediation-executed',
        'remediation-already-satisfied',
        'remediation-failed',
        'remediation-skipped',
      ].includes(entry.event),
  );
  if (run) return run.outcome ?? run.event;
  if (entries.some((entry) => entry.findingId === findingId && entry.event === 'deduplicated'))
    return 'joined the queued run';
  const covered = decisions.some((entry) => entry.outcome === 'skip' && /^cooldown/.test(entry.reason ?? ''));
  return covered ? 'covered by the run in cooldown' : '—';
}

function verification(entries: readonly AuditEntry[], findingId: string): string {
  const verdict = entries.find(
    (entry) =>
      entry.findingId === findingId &&
      ['remediation-verified', 'remediation-ineffective', 'remediation-unverified'].includes(entry.event),
  );
  if (!verdict) return '—';
  const detail = ((verdict.plan ?? {}) as { verification?: Verification }).verification;
  if (!detail || detail.before === undefined) return verdict.outcome ?? '';
  return `${verdict.outcome} ${detail.before} → ${detail.after ?? '?'}`;
}

function escalation(entries: readonly AuditEntry[], plan: DecisionPlan, findingId: string): string {
  const memory = entries.find(
    (entry) => entry.event === 'do-not-deploy-added' && entry.findingId === findingId,
  );
  if (memory) {
    const commit = ((memory.plan ?? {}) as { commit?: string }).commit ?? '?';
    return `rolled back; do-not-deploy ${commit.slice(0, 8)} by vigil`;
  }
  const hold = entries.find((entry) => {
    if (entry.event !== 'hold-placed') return false;
    const held = (entry.plan ?? {}) as { kind?: string; target?: string; reason?: string };
    return (
      held.kind === plan.remediation &&
      held.target === plan.target &&
      (held.reason ?? '').includes(plan.series ?? '\u0000')
    );
  });
  if (!hold) return '—';
  const until = ((hold.plan ?? {}) as { until?: number }).until;
  return `held until ${until === undefined ? '?' : new Date(until).toISOString().slice(0, 16).replace('T', ' ')}`;
}

/** The rows as an aligned text table (what the terminal shows). */
export function renderTable(rows: readonly SummaryRow[]): string[] {
  const header: SummaryRow = {
    incident: 'incident',
    detectedAt: 'detected at',
    action: 'action',
    outcome: 'outcome',
    verification: 'verification',
    escalation: 'escalation',
  };
  const columns = Object.keys(header) as (keyof SummaryRow)[];
  const all = [header, ...rows];
  const widths = columns.map((column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: SummaryRow) =>
    columns
      .map((column, index) => row[column].padEnd(widths[index] ?? 0))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)];
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
