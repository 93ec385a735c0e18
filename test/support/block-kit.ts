import { type Block, SLACK_LIMITS, type SlackCard } from '../../src/notify/lib/blocks.js';

/** Every limit Slack enforces on a webhook message, as one list of violations (empty = valid). */
export function blockKitViolations(card: SlackCard): string[] {
  const problems: string[] = [];
  if (card.blocks.length > SLACK_LIMITS.blocks) problems.push(`${card.blocks.length} blocks`);
  if (card.text.length > SLACK_LIMITS.text) problems.push(`text of ${card.text.length} characters`);
  card.blocks.forEach((block: Block, i) => {
    if (block.type === 'header' && block.text.text.length > SLACK_LIMITS.header)
      problems.push(`block ${i}: header too long`);
    if (block.type === 'section') {
      if ((block.fields?.length ?? 0) > SLACK_LIMITS.fields)
        problems.push(`block ${i}: ${block.fields?.length} fields`);
      if (block.text && block.text.text.length > SLACK_LIMITS.text)
        problems.push(`block ${i}: text too long`);
      for (const field of block.fields ?? [])
        if (field.text.length > 2_000) problems.push(`block ${i}: field too long`);
      if (!block.text && (block.fields?.length ?? 0) === 0) problems.push(`block ${i}: empty section`);
    }
  });
  return problems;
}
