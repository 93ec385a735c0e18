import type { Decision } from '../../core/types.js';
import { formatDecision } from '../../policies/evaluate.js';
import type { NotifyEvent } from '../types.js';

/**
 * Rendering, separate from transport: plain lines for the console (Slack's Block Kit cards are in
 * blocks.ts). Pure, so a message is tested by its text.
 */
export function renderText(event: NotifyEvent): string {
  if (event.type === 'control')
    return `${event.severity === 'escalation' ? 'ESCALATION ' : ''}${event.action}: ${event.text}`;
  if (event.type === 'remediation') {
    return `remediation ${event.stage}: ${event.plan.description}: ${event.detail} (finding ${event.findingId})`;
  }
  if (event.type === 'storm') {
    return [
      `storm: ${event.total} findings raised in one tick (one summary instead of ${event.total} messages)`,
      ...event.findings
        .slice(0, 20)
        .map((f) => `  ${f.verdict.severity} ${f.series} = ${f.value} (finding ${f.id})`),
    ].join('\n');
  }
  if (event.type === 'policy-rejected') {
    return [
      `policy ${event.file} rejected; the last good policy stays in force:`,
      ...event.problems.map((problem) => `  ${problem}`),
    ].join('\n');
  }
  const { finding, decisions } = event;
  const when = new Date(finding.since).toISOString();
  if (finding.state === 'cleared') {
    return `cleared ${finding.series} = ${finding.value} (finding ${finding.id}, open since ${when})`;
  }
  return [
    `${finding.state} ${finding.verdict.severity} ${finding.series} = ${finding.value}: ${finding.verdict.reason} (finding ${finding.id}, since ${when})`,
    ...decisions.map((decision) => `  ${formatDecision(decision)}${approvalHint(decision, finding.id)}`),
  ].join('\n');
}

function approvalHint(decision: Decision, findingId: string): string {
  return decision.action === 'needs-approval' ? ` (approve with: vigil approve ${findingId})` : '';
}
