import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { counter, createMetricsRegistry } from '../../src/core/metrics.js';
import { renderCard } from '../../src/notify/lib/blocks.js';
import { NotificationQueue } from '../../src/notify/lib/queue.js';
import { slackNotifier } from '../../src/notify/slack.js';
import type { Notifier, NotifyEvent } from '../../src/notify/types.js';
import { createPolicyStage } from '../../src/pipeline/policy-stage.js';
import { CounterStore } from '../../src/policies/counters.js';
import { evaluate } from '../../src/policies/evaluate.js';
import { at, countersFor, DRIFT_POLICY, finding } from '../policies/helpers.js';
import { blockKitViolations } from '../support/block-kit.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const SECRET_PATH = '/services/T000/B000/very-secret-token';
let env: TestRedis;
let server: TestServer | undefined;
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  env = await testRedis();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await server?.close();
  server = undefined;
  await env.cleanup();
});

const snapshot = DRIFT_POLICY;

/** A notification queue on the test's Redis prefix, stopped after the test, and its outcome counter's registry. */
function notificationQueue(notifiers: Map<string, Notifier>, maxQueued: number) {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const outcomes = counter(metrics, {
    name: 'vigil_notifications_total',
    help: 'h',
    labelNames: ['notifier', 'outcome'] as const,
  });
  const queue = new NotificationQueue(
    {
      redisUrl: REDIS_URL,
      prefix: env.keys.bullmq,
      maxQueued,
      attempts: 1,
      backoffMs: 100,
      addTimeoutMs: 5_000,
    },
    { notifiers, logger: pino({ level: 'silent' }), outcomes },
  );
  stops.push(() => queue.stop());
  return { queue, metrics };
}

describe('slack cards and delivery', () => {
  it('a storm of 200 findings in one tick is one summary card (each finding still decided), inside Block Kit limits', async () => {
    const clock = new ManualClock(at('2026-02-03T14:00:00Z'));
    const announced: NotifyEvent[] = [];
    const decided: string[] = [];
    const run = createPolicyStage({
      policy: () => snapshot,
      counters: new CounterStore({ redis: env.redis, keys: env.keys, clock }),
      clock,
      logger: pino({ level: 'silent' }),
      metrics: createMetricsRegistry({ processMetrics: false }),
      announce: (event) => announced.push(event),
      onDecisions: async (f) => void decided.push(f.id),
      stormThreshold: 10,
    });
    const findings = Array.from({ length: 200 }, (_, i) =>
      finding({ id: `f-${i}`, labels: { service: `svc-${i}`, main_commit: '6f195068' } }),
    );

    await run(findings);
    const quiet = announced.length;
    const decidedInStorm = decided.length;
    await run(findings.slice(0, 10).map((f) => ({ ...f, id: `${f.id}-next` })));

    expect(quiet).toBe(1);
    const storm = announced[0];
    expect(storm).toMatchObject({ type: 'storm', total: 200 });
    const card = renderCard(storm as NotifyEvent, { statusUrl: 'http://vigil.internal:9464' });
    expect(blockKitViolations(card)).toEqual([]);
    expect(card.text).toBe('200 findings raised in one tick');
    expect(JSON.stringify(card.blocks)).toContain('and 180 more on the status page');
    // At the threshold it is not a storm: one card per finding.
    expect(announced.slice(1).map((event) => event.type)).toEqual(Array(10).fill('finding'));
    expect(decidedInStorm).toBe(200);
  });

  it("a decision card shows the budget left, in the rate-limit gate's words", () => {
    const f = finding();
    const decisions = evaluate(f, snapshot, at('2026-02-03T14:00:00Z'), countersFor(f, snapshot));

    const card = renderCard({ type: 'finding', finding: f, decisions });

    const texts = JSON.stringify(card.blocks);
    expect(decisions[0]?.gates?.some((gate) => gate.gate === 'rate-limit')).toBe(true);
    expect(texts).toMatch(/\*Budget\*\\n0\/\d+ this hour, 0\/\d+ today/);
    expect(blockKitViolations(card)).toEqual([]);
  });

  it('every card stays inside Slack limits whatever the content (long reasons, many decisions, many params)', () => {
    const long = 'x'.repeat(10_000);
    const decisions = Array.from({ length: 60 }, (_, i) => ({
      action: 'skip' as const,
      ruleId: `rule-${i}`,
      reason: long,
      remediation: 'run-job',
      target: 'grading-backfill',
      params: Object.fromEntries(Array.from({ length: 15 }, (_, j) => [`p${j}`, long])),
    }));
    const events: NotifyEvent[] = [
      {
        type: 'finding',
        finding: finding({
          id: 'f-long',
          metric: `m_${long}`,
          verdict: { ...finding().verdict, reason: long },
        }),
        decisions,
      },
      {
        type: 'remediation',
        stage: 'failed',
        findingId: 'f-long',
        plan: { kind: 'run-job', target: long, description: long },
        detail: long,
      },
      { type: 'control', severity: 'escalation', action: 'hold-placed', text: long },
      { type: 'policy-rejected', file: long, problems: Array(100).fill(long) },
    ];

    for (const event of events) expect(blockKitViolations(renderCard(event))).toEqual([]);
  });

  it('delivery goes through its own queue: a 429 waits out Retry-After without spending the attempt, then delivers once', async () => {
    const arrivals: number[] = [];
    server = await startTestServer((_request, response) => {
      arrivals.push(Date.now());
      if (arrivals.length === 1) response.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
      else response.writeHead(200).end('ok');
    });
    const notifier = slackNotifier.create(
      slackNotifier.options.parse({ webhook_url: `${server.url}${SECRET_PATH}`, retries: 0 }),
      { id: 'slack-0', logger: pino({ level: 'silent' }), clock: new ManualClock(0) },
    );
    const { queue, metrics } = notificationQueue(new Map([[notifier.id, notifier]]), 10);
    queue.start();

    const queued = await queue.enqueue('slack-0', {
      type: 'control',
      severity: 'info',
      action: 'pause',
      text: 'paused by alice',
    });
    await waitFor('the second attempt', () => (arrivals.length >= 2 ? true : undefined), 30_000);
    await waitFor('delivered counted', async () => {
      const text = await metrics.metrics();
      return text.includes('vigil_notifications_total{notifier="slack-0",outcome="delivered"} 1')
        ? true
        : undefined;
    });

    expect(queued).toBe('queued');
    expect(arrivals).toHaveLength(2);
    // Attempts = 1: only a rate-limited retry that does not spend it can explain a second request.
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(900);
  });

  it('a full queue drops the message and counts the drop; the caller is never blocked or thrown at', async () => {
    const { queue, metrics } = notificationQueue(new Map(), 3);
    const event: NotifyEvent = { type: 'control', severity: 'info', action: 'silence', text: 'by bob' };

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await queue.enqueue('slack-0', event));

    expect(results).toEqual(['queued', 'queued', 'queued', 'dropped', 'dropped']);
    expect(await metrics.metrics()).toContain(
      'vigil_notifications_total{notifier="slack-0",outcome="dropped"} 2',
    );
  });
});
