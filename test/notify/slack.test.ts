import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { createAnnouncer } from '../../src/notify/lib/announce.js';
import type { SlackCard } from '../../src/notify/lib/blocks.js';
import { slackNotifier } from '../../src/notify/slack.js';
import { NotifyError, type NotifyEvent } from '../../src/notify/types.js';
import { finding } from '../policies/helpers.js';
import { capture } from '../support/capture.js';
import { startTestServer, type TestServer } from '../support/http.js';

const SECRET_PATH = '/services/T000/B000/very-secret-token';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A receiver answering the given statuses in turn (the last one repeats); `hang` never answers. */
async function receiver(statuses: (number | 'hang')[]): Promise<TestServer> {
  let call = 0;
  server = await startTestServer((_request, response) => {
    const status = statuses[Math.min(call++, statuses.length - 1)];
    if (status === 'hang') return;
    response.writeHead(status as number, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  });
  return server;
}

function slack(url: string, options: Record<string, unknown> = {}) {
  const parsed = slackNotifier.options.parse({ webhook_url: url, retry_delay: '10ms', ...options });
  return slackNotifier.create(parsed, {
    id: 'slack-0',
    logger: pino({ level: 'silent' }),
    clock: systemClock,
  });
}

const raised: NotifyEvent = {
  type: 'finding',
  finding: finding({ id: 'f-9', value: 598 }),
  decisions: [
    {
      action: 'act',
      ruleId: 'drift',
      reason: 'redeploy-service/nba-phase4 runs (mode auto)',
      remediation: 'redeploy-service',
      target: 'nba-phase4',
    },
  ],
};

describe('slack notifier', () => {
  it('posts the rendered message to the webhook', async () => {
    const hook = await receiver([200]);

    await slack(`${hook.url}${SECRET_PATH}`).notify(raised, new AbortController().signal);

    expect(hook.requests.map((r) => [r.method, r.path])).toEqual([['POST', SECRET_PATH]]);
    const body = JSON.parse(hook.requests[0]?.body ?? '{}') as SlackCard;
    expect(body.text).toBe(
      'critical deploy_drift_commits_behind{main_commit="6f195068",service="nba-phase4"} = 598 (finding f-9)',
    );
    expect(body.blocks.map((block) => block.type)).toEqual([
      'header',
      'section',
      'section',
      'section',
      'section',
      'context',
    ]);
    expect(JSON.stringify(body.blocks)).toContain('*Decision:* act by rule `drift`');
    expect(JSON.stringify(body.blocks)).toContain('vigil silence add --target nba-phase4');
  });

  it('retries server errors a bounded number of times, then delivers', async () => {
    const hook = await receiver([500, 503, 200]);

    await slack(`${hook.url}${SECRET_PATH}`, { retries: 2 }).notify(raised, new AbortController().signal);

    expect(hook.requests).toHaveLength(3);
  });

  it('gives up after its retries with a retryable error that does not quote the URL', async () => {
    const hook = await receiver([500]);

    const error = await slack(`${hook.url}${SECRET_PATH}`, { retries: 2 })
      .notify(raised, new AbortController().signal)
      .catch((caught: unknown) => caught);

    expect(hook.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(NotifyError);
    expect(error).toMatchObject({ retryable: true, message: 'slack answered HTTP 500' });
  });

  it('answers HTTP 429 with a retryable error carrying Retry-After, without retrying in process', async () => {
    server = await startTestServer((_request, response) => {
      response.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '7' }).end('rate_limited');
    });

    const error = await slack(`${server.url}${SECRET_PATH}`, { retries: 2 })
      .notify(raised, new AbortController().signal)
      .catch((caught: unknown) => caught);

    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({
      retryable: true,
      retryAfterMs: 7_000,
      message: 'slack answered HTTP 429 (retry after 7 s)',
    });
  });

  it.each([400, 404])('does not retry HTTP %i', async (status) => {
    const hook = await receiver([status]);

    const error = await slack(`${hook.url}${SECRET_PATH}`, { retries: 2 })
      .notify(raised, new AbortController().signal)
      .catch((caught: unknown) => caught);

    expect(hook.requests).toHaveLength(1);
    expect(error).toMatchObject({ retryable: false, message: `slack answered HTTP ${status}` });
  });

  it('bounds a webhook that never answers by its timeout per attempt', async () => {
    const hook = await receiver(['hang']);

    const error = await slack(`${hook.url}${SECRET_PATH}`, { retries: 1, timeout: '100ms' })
      .notify(raised, new AbortController().signal)
      .catch((caught: unknown) => caught);

    expect(hook.requests.length).toBeGreaterThanOrEqual(1);
    expect(error).toMatchObject({ retryable: true, message: 'slack webhook unreachable (timeout)' });
  });

  it('never writes the webhook URL to the logs when delivery fails', async () => {
    const hook = await receiver([500]);
    const logs = capture();
    const metrics = createMetricsRegistry({ processMetrics: false });
    const announcer = createAnnouncer([slack(`${hook.url}${SECRET_PATH}`, { retries: 0 })], {
      logger: pino({ level: 'debug' }, logs.stream),
      metrics,
    });

    await announcer.announce(raised);

    expect(logs.text()).toContain('notification not delivered');
    expect(logs.text()).toContain('"findingId":"f-9"');
    expect(logs.text()).not.toContain('very-secret-token');
    expect(await metrics.getSingleMetricAsString('vigil_notifications_total')).toContain(
      'vigil_notifications_total{notifier="slack-0",outcome="failed"} 1',
    );
  });

  it('rejects a webhook_url that is not a URL, and prints it as <secret> when it is one', () => {
    const bad = slackNotifier.options.safeParse({ webhook_url: 'hooks.slack.com/x' });
    const good = slackNotifier.options.parse({ webhook_url: `https://hooks.slack.com${SECRET_PATH}` });

    expect(bad.success).toBe(false);
    expect(JSON.stringify(good)).not.toContain('very-secret-token');
  });
});
