import type { StatusOverview } from './types.js';

/** The overview as plain-text tables for a terminal (`vigil status`); pure, so it is testable. */
export function formatOverview(state: StatusOverview): string {
  const at = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');
  const out: string[] = [];
  out.push(`vigil status at ${at(state.now)}: ${state.health.ok ? 'HEALTHY' : 'ATTENTION'}`);
  for (const problem of state.health.problems) out.push(`  ! ${problem}`);
  section(
    out,
    'policy',
    ['replica', 'mode', 'hash', 'reload'],
    state.policy.map((p) => [p.replica, p.mode, p.hash.slice(0, 12), p.lastReloadOk ? 'ok' : 'REJECTED']),
  );
  section(
    out,
    'open findings',
    ['id', 'severity', 'series', 'value', 'since', 'decision'],
    state.findings.map((f) => {
      const last = f.decisions.at(-1);
      return [
        f.id,
        f.verdict.severity,
        f.series,
        String(f.value),
        at(f.since),
        last ? `${last.action} (${last.rule ?? 'no rule'})` : '-',
      ];
    }),
  );
  section(
    out,
    'remediations',
    ['finding', 'kind', 'target', 'started', 'outcome', 'verification'],
    state.remediations
      .slice(0, 10)
      .map((r) => [r.findingId, r.kind, r.target, at(r.startedAt), r.outcome ?? '-', r.verification ?? '-']),
  );
  section(
    out,
    'breakers open',
    ['kind', 'target', 'until'],
    state.breakers.map((b) => [b.kind, b.target, at(b.openUntil)]),
  );
  section(
    out,
    'holds, silences, pauses, overrides',
    ['kind', 'id', 'target', 'by', 'until', 'reason'],
    state.controls.map((c) => [c.kind, c.id, c.target ?? '*', c.by ?? '-', at(c.until), c.reason ?? '']),
  );
  section(
    out,
    'pending approvals',
    ['finding', 'remediation', 'target', 'requested', 'approve with'],
    state.approvals.map((a) => [
      a.findingId,
      a.remediation ?? '-',
      a.target ?? '-',
      at(a.requestedAt),
      `vigil approve ${a.findingId}`,
    ]),
  );
  section(
    out,
    'budgets',
    ['kind', 'target', 'left this hour', 'failures', 'cooldown until'],
    state.budgets.map((b) => [
      b.kind,
      b.target,
      b.leftThisHour === null ? '-' : `${b.leftThisHour}/${b.maxPerHour}`,
      `${b.consecutiveFailures}${b.escalated ? ' ESCALATED' : ''}`,
      at(b.cooldownUntil),
    ]),
  );
  section(
    out,
    'collectors',
    ['id', 'last tick', 'outcome', 'last success', 'error'],
    state.collectors.map((c) => [c.id, at(c.lastTickAt), c.lastOutcome, at(c.lastSuccessAt), c.error ?? '']),
  );
  if (state.queue)
    out.push(
      '',
      `queue: ${state.queue.waiting} waiting, ${state.queue.active} active, ${state.queue.delayed} delayed, ${state.queue.failed} failed; oldest waiting ${state.queue.oldestWaitingMs === null ? '-' : `${Math.round(state.queue.oldestWaitingMs / 1000)} s`}`,
    );
  return `${out.join('\n')}\n`;
}

function section(
  out: string[],
  title: string,
  header: readonly string[],
  rows: readonly (readonly string[])[],
): void {
  out.push('', `${title}${rows.length === 0 ? ': none' : ''}`);
  if (rows.length === 0) return;
  const widths = header.map((name, i) => Math.max(name.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}`;
  out.push(line(header), ...rows.map(line));
}
