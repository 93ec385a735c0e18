import type { Decision, Finding } from '../../core/types.js';
import type { RemediationPlan } from '../../remediations/types.js';
import type { NotifyEvent } from '../types.js';

/**
 * Slack Block Kit cards, pure (snapshot-testable) and always inside Slack's limits: at most 50
 * blocks, 10 fields per section, 3,000 characters per text (150 for a header). Every card quotes
 * its finding id: plain incoming webhooks cannot update or thread a message, so the stages of one
 * finding are grouped by that id (one message per stage), and the id links the status page.
 */
export const SLACK_LIMITS = { blocks: 50, fields: 10, text: 3_000, header: 150 } as const;

type Text = { type: 'mrkdwn'; text: string } | { type: 'plain_text'; text: string; emoji?: boolean };
export type Block =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'divider' };

export interface SlackCard {
  /** The notification's fallback (and what a phone shows). */
  readonly text: string;
  readonly blocks: Block[];
}

export interface CardContext {
  /** Base URL of vigil's status page (`/#/finding/<id>` is appended); no link without one. */
  readonly statusUrl?: string | undefined;
}

const SEVERITY_ICON: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:' };
const STAGE_ICON: Record<string, string> = {
  executed: ':wrench:',
  'already-satisfied': ':ballot_box_with_check:',
  skipped: ':double_vertical_bar:',
  failed: ':x:',
  interrupted: ':pause_button:',
  verified: ':white_check_mark:',
  unverified: ':grey_question:',
  ineffective: ':sos:',
};

export function renderCard(event: NotifyEvent, context: CardContext = {}): SlackCard {
  const card = build(event, context);
  return { text: clip(card.text, SLACK_LIMITS.text), blocks: bounded(card.blocks) };
}

function build(event: NotifyEvent, context: CardContext): SlackCard {
  switch (event.type) {
    case 'finding':
      return event.finding.state === 'cleared'
        ? clearedCard(event.finding, context)
        : findingCard(event.finding, event.decisions, context);
    case 'remediation':
      return remediationCard(event.stage, event.findingId, event.plan, event.detail, context);
    case 'storm':
      return stormCard(event.findings, event.total, context);
    case 'control': {
      const icon = event.severity === 'escalation' ? ':sos:' : ':information_source:';
      const title = `${icon} ${event.action}`;
      return {
        text: `${event.action}: ${event.text}`,
        blocks: [header(title), section(mrkdwn(event.text)), stopLine(undefined, undefined, context)],
      };
    }
    case 'policy-rejected':
      return {
        text: `policy ${event.file} rejected; the last good policy stays in force`,
        blocks: [
          header(':warning: policy edit rejected'),
          section(`\`${mrkdwn(event.file)}\`: the last good policy stays in force`),
          section(event.problems.map((problem) => `• ${mrkdwn(problem)}`).join('\n')),
        ],
      };
  }
}

function findingCard(finding: Finding, decisions: readonly Decision[], context: CardContext): SlackCard {
  const { verdict } = finding;
  const baseline = verdict.baseline;
  const fields = [
    field('Value', String(finding.value)),
    field('Baseline', baseline ? `${round(baseline.center)} (n ${baseline.n})` : 'none'),
    field(
      'σ / band',
      baseline
        ? `${round(baseline.spread)}${verdict.statistic === null ? '' : `, statistic ${round(verdict.statistic)}`}`
        : '–',
    ),
    field('Window', baseline?.window ?? '–'),
    field('Detector', verdict.detector),
    field('Since', iso(finding.since)),
    field('Finding', `\`${finding.id}\``),
  ];
  const blocks: Block[] = [
    header(`${SEVERITY_ICON[verdict.severity] ?? ''} ${verdict.severity} ${finding.series}`),
    section(mrkdwn(verdict.reason)),
    { type: 'section', fields },
  ];
  for (const decision of decisions) blocks.push(...decisionBlocks(decision, finding.id));
  const target = decisions.find((decision) => decision.target)?.target;
  blocks.push(stopLine(finding.id, target, context));
  return { text: `${verdict.severity} ${finding.series} = ${finding.value} (finding ${finding.id})`, blocks };
}

function decisionBlocks(decision: Decision, findingId: string): Block[] {
  const rule = decision.ruleId ? ` by rule \`${mrkdwn(decision.ruleId)}\`` : '';
  const approve =
    decision.action === 'needs-approval' ? `\nApprove with \`vigil approve ${findingId} --as NAME\`` : '';
  const blocks: Block[] = [
    section(`*Decision:* ${decision.action}${rule}: ${mrkdwn(decision.reason)}${approve}`),
  ];
  if (decision.remediation && decision.target) {
    const params = Object.entries(decision.params ?? {}).map(([name, value]) => field(name, value));
    blocks.push({
      type: 'section',
      fields: [
        field('Plan', `${decision.remediation} ${decision.target}`),
        ...params,
        ...budgetField(decision),
      ],
    });
  }
  return blocks;
}

/** The rate-limit gate's own words ("0/1 this hour, 0/2 today", or the cap that was hit). */
function budgetField(decision: Decision): Text[] {
  const gate = decision.gates?.find((entry) => entry.gate === 'rate-limit');
  return gate ? [field('Budget', gate.reason)] : [];
}

function remediationCard(
  stage: string,
  findingId: string,
  plan: RemediationPlan,
  detail: string,
  context: CardContext,
): SlackCard {
  const extra = Object.entries(plan)
    .filter(([name]) => !['kind', 'target', 'description'].includes(name))
    .map(([name, value]) =>
      field(name, name === 'after' && typeof value === 'number' ? iso(value) : formatValue(value)),
    );
  return {
    text: `remediation ${stage}: ${plan.description} (finding ${findingId})`,
    blocks: [
      header(`${STAGE_ICON[stage] ?? ''} remediation ${stage}: ${plan.kind} ${plan.target}`),
      section(`*Plan:* ${mrkdwn(plan.description)}`),
      { type: 'section', fields: [field('Outcome', stage), field('Finding', `\`${findingId}\``), ...extra] },
      section(`*Detail:* ${mrkdwn(detail)}`),
      stopLine(findingId, plan.target, context),
    ],
  };
}

function clearedCard(finding: Finding, context: CardContext): SlackCard {
  return {
    text: `cleared ${finding.series} = ${finding.value} (finding ${finding.id})`,
    blocks: [
      header(`:white_check_mark: cleared ${finding.series}`),
      {
        type: 'section',
        fields: [
          field('Value', String(finding.value)),
          field('Open since', iso(finding.since)),
          field('Finding', `\`${finding.id}\``),
        ],
      },
      stopLine(finding.id, undefined, context),
    ],
  };
}

/** One message for a tick that raised more findings than a person can read one by one. */
function stormCard(findings: readonly Finding[], total: number, context: CardContext): SlackCard {
  const bySeverity = new Map<string, number>();
  for (const finding of findings)
    bySeverity.set(finding.verdict.severity, (bySeverity.get(finding.verdict.severity) ?? 0) + 1);
  const listed = findings
    .slice(0, 20)
    .map((f) => `• ${f.verdict.severity} \`${mrkdwn(f.series)}\` = ${f.value} (\`${f.id}\`)`);
  const more = total > listed.length ? `\n…and ${total - listed.length} more on the status page` : '';
  return {
    text: `${total} findings raised in one tick`,
    blocks: [
      header(`:rotating_light: storm: ${total} findings raised in one tick`),
      { type: 'section', fields: [...bySeverity].map(([severity, count]) => field(severity, String(count))) },
      section(listed.join('\n') + more),
      stopLine(undefined, undefined, context),
    ],
  };
}

/** How to stop it, and where to see it: on every card. */
function stopLine(findingId: string | undefined, target: string | undefined, context: CardContext): Block {
  const parts = ['Stop everything: `vigil pause --as NAME --reason TEXT`'];
  if (target)
    parts.push(
      `stop this target: \`vigil silence add --target ${mrkdwn(target)} --for 4h --as NAME --reason TEXT\``,
    );
  if (context.statusUrl) {
    const base = context.statusUrl.replace(/\/+$/, '');
    parts.push(
      findingId
        ? `<${base}/#/finding/${encodeURIComponent(findingId)}|status page>`
        : `<${base}/|status page>`,
    );
  }
  return { type: 'context', elements: [{ type: 'mrkdwn', text: parts.join(' · ') }] };
}

function header(text: string): Block {
  return {
    type: 'header',
    text: { type: 'plain_text', text: clip(text.trim(), SLACK_LIMITS.header), emoji: true },
  };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK_LIMITS.text) } };
}

function field(name: string, value: string): Text {
  return { type: 'mrkdwn', text: clip(`*${mrkdwn(name)}*\n${value === '' ? '–' : value}`, 2_000) };
}

/** Slack's limits, enforced whatever the content: fields per section, sections per message. */
function bounded(blocks: Block[]): Block[] {
  const fixed = blocks.map((block) =>
    block.type === 'section' && block.fields
      ? { ...block, fields: block.fields.slice(0, SLACK_LIMITS.fields) }
      : block,
  );
  const nonEmpty = fixed.filter(
    (block) => !(block.type === 'section' && block.fields?.length === 0 && !block.text),
  );
  if (nonEmpty.length <= SLACK_LIMITS.blocks) return nonEmpty;
  const last = nonEmpty.at(-1) as Block;
  return [...nonEmpty.slice(0, SLACK_LIMITS.blocks - 2), section('…more on the status page'), last];
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack treats &, < and > as control characters in mrkdwn. */
export function mrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function round(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `\`${mrkdwn(value.join(' '))}\``;
  return mrkdwn(typeof value === 'string' ? value : JSON.stringify(value));
}
