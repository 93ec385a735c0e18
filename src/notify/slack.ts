import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import { z } from 'zod';
import { duration } from '../core/duration.js';
import { Secret } from '../core/secret.js';
import { renderSlack } from './lib/format.js';
import { type NotifierDefinition, NotifyError } from './types.js';

const slackOptions = z.strictObject({
  /** Set it from SLACK_WEBHOOK_URL rather than writing it in the file; it is never logged. */
  webhook_url: z
    .string()
    .url('expected the incoming webhook URL (https://hooks.slack.com/services/...)')
    .transform((url) => new Secret(url)),
  /** Per attempt. */
  timeout: duration.prefault('5s'),
  /** Further attempts after a 5xx or a network failure (4xx, 429 included, are not retried). */
  retries: z.number().int().min(0).max(5).default(2),
  /** First retry delay; doubles each time. */
  retry_delay: duration.prefault('500ms'),
});

export type SlackOptions = z.output<typeof slackOptions>;

/** Posts to a Slack incoming webhook, with a timeout per attempt and a bounded number of retries. */
export const slackNotifier: NotifierDefinition<SlackOptions> = {
  kind: 'slack',
  summary: 'post notifications to a Slack incoming webhook',
  options: slackOptions as unknown as z.ZodType<SlackOptions>,
  create(options, deps) {
    const webhook = new IncomingWebhook(options.webhook_url.reveal(), {
      timeout: options.timeout,
      retryConfig: {
        retries: options.retries,
        minTimeout: options.retry_delay,
        maxTimeout: options.retry_delay * 8,
        randomize: false,
      },
    });
    return {
      id: deps.id,
      kind: 'slack',
      async notify(event) {
        try {
          await webhook.send(renderSlack(event));
        } catch (error) {
          throw classify(error);
        }
      },
    };
  },
};

/**
 * A NotifyError that says what happened without the URL: the webhook's path is its secret, and
 * transport errors can quote it.
 */
function classify(error: unknown): NotifyError {
  if (error instanceof IncomingWebhookHTTPError) {
    return new NotifyError(`slack answered HTTP ${error.statusCode}`, error.statusCode >= 500);
  }
  const cause = (error as { original?: { cause?: { code?: string }; name?: string } }).original;
  const reason = cause?.cause?.code ?? (cause?.name === 'TimeoutError' ? 'timeout' : 'network error');
  return new NotifyError(`slack webhook unreachable (${reason})`, true);
}
