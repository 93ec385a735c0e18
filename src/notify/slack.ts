import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import { z } from 'zod';
import { duration } from '../core/duration.js';
import { Secret } from '../core/secret.js';
import { renderCard } from './lib/blocks.js';
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
  /** Base URL of vigil's status page, linked from every card (e.g. https://vigil.internal:9464). */
  status_url: z.url({ protocol: /^https?$/ }).optional(),
});

export type SlackOptions = z.output<typeof slackOptions>;

/** Posts to a Slack incoming webhook, with a timeout per attempt and a bounded number of retries. */
export const slackNotifier: NotifierDefinition<SlackOptions> = {
  kind: 'slack',
  summary: 'post notifications to a Slack incoming webhook',
  options: slackOptions as unknown as z.ZodType<SlackOptions>,
  create(options, deps) {
    return {
      id: deps.id,
      kind: 'slack',
      queued: true,
      async notify(event) {
        // One webhook client per message, so the Retry-After this message got is its own.
        let retryAfter: string | null = null;
        const webhook = new IncomingWebhook(options.webhook_url.reveal(), {
          timeout: options.timeout,
          retryConfig: {
            retries: options.retries,
            minTimeout: options.retry_delay,
            maxTimeout: options.retry_delay * 8,
            randomize: false,
          },
          fetch: async (input: string | URL | Request, init?: RequestInit) => {
            const response = await fetch(input, init);
            if (response.status === 429) retryAfter = response.headers.get('retry-after');
            return response;
          },
        });
        try {
          await webhook.send(renderCard(event, { statusUrl: options.status_url }));
        } catch (error) {
          throw classify(error, retryAfter);
        }
      },
    };
  },
};

/**
 * A NotifyError that says what happened without the URL: the webhook's path is its secret, and
 * transport errors can quote it.
 */
function classify(error: unknown, retryAfter: string | null): NotifyError {
  if (error instanceof IncomingWebhookHTTPError && error.statusCode === 429) {
    const waitMs = retryAfterMs(retryAfter);
    return new NotifyError(
      `slack answered HTTP 429 (retry after ${Math.ceil(waitMs / 1_000)} s)`,
      true,
      waitMs,
    );
  }
  if (error instanceof IncomingWebhookHTTPError) {
    return new NotifyError(`slack answered HTTP ${error.statusCode}`, error.statusCode >= 500);
  }
  const cause = (error as { original?: { cause?: { code?: string }; name?: string } }).original;
  const reason = cause?.cause?.code ?? (cause?.name === 'TimeoutError' ? 'timeout' : 'network error');
  return new NotifyError(`slack webhook unreachable (${reason})`, true);
}

/** Retry-After in seconds (or an HTTP date), bounded to [1 s, 15 min]; 30 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  const seconds = header === null ? Number.NaN : Number(header);
  const date = header === null ? Number.NaN : Date.parse(header);
  const waitMs = Number.isFinite(seconds) ? seconds * 1_000 : Number.isFinite(date) ? date - now : 30_000;
  return Math.min(15 * 60_000, Math.max(1_000, waitMs));
}
