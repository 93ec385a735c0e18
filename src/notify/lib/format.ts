import type { Decision } from '../../core/types.js';
import { formatDecision } from '../../policies/evaluate.js';
import type { NotifyEvent } from '../types.js';

/**
 * Rendering, separate from transport: plain lines for the console, Slack mrkdwn for Slack. Pure,
 * so a message is tested by its text.
 */
export function renderText(event: NotifyEvent): string {
  if (event.type === 'control')
    return `${event.severity === 'escalation' ? 'ESCALATION ' : ''}${event.action}: ${event.text}`;
  if (event.type === 'remediation') {
    return `remediation ${event.stage}: ${event.plan.description}: ${event.detail} (finding ${event.findingId})`;
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

/** The Slack incoming-webhook payload: a one-line fallback `text` and one mrkdwn section. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: { type: 'section'; text: { type: 'mrkdwn'; text: string } }[];
}

export function renderSlack(event: NotifyEvent): SlackMessage {
  const lines = renderSlackLines(event);
  return {
    text: lines[0] as string,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }],
  };
}

const STAGE_ICONS: Record<string, string> = {
  executed: ':wrench:',
  'already-satisfied': ':ballot_box_with_check:',
  skipped: ':double_vertical_bar:',
  failed: ':x:',
  interrupted: ':pause_button:',
  verified: ':white_check_mark:',
  unverified: ':grey_question:',
  ineffective: ':sos:',
};

function renderSlackLines(event: NotifyEvent): string[] {
  if (event.type === 'control') {
    const icon = event.severity === 'escalation' ? ':sos:' : ':information_source:';
    return [`${icon} *${event.action}*`, slackEscape(event.text)];
  }
  if (event.type === 'remediation') {
    return [
      `${STAGE_ICONS[event.stage] ?? ''} remediation *${event.stage}*: ${slackEscape(event.plan.description)}`,
      slackEscape(event.detail),
      `finding ${event.findingId}`,
    ];
  }
  if (event.type === 'policy-rejected') {
    return [
      `:warning: vigil rejected an edit of \`${slackEscape(event.file)}\`; the last good policy stays in force`,
      ...event.problems.map((problem) => `• ${slackEscape(problem)}`),
    ];
  }
  const { finding, decisions } = event;
  const since = new Date(finding.since).toISOString();
  if (finding.state === 'cleared') {
    return [
      `:white_check_mark: cleared: \`${slackEscape(finding.series)}\` is ${finding.value} again`,
      `finding ${finding.id}, open since ${since}`,
    ];
  }
  const icon = finding.verdict.severity === 'critical' ? ':rotating_light:' : ':warning:';
  return [
    `${icon} *${finding.verdict.severity}* \`${slackEscape(finding.series)}\` = ${finding.value}`,
    slackEscape(finding.verdict.reason),
    `finding ${finding.id}, since ${since}`,
    ...decisions.map(
      (decision) => `• ${slackEscape(formatDecision(decision) + approvalHint(decision, finding.id))}`,
    ),
  ];
}

/** Slack treats &, < and > as control characters in mrkdwn. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function approvalHint(decision: Decision, findingId: string): string {
  return decision.action === 'needs-approval' ? ` (approve with: vigil approve ${findingId})` : '';
}
