import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/commands/demo.js';
import { runStatus } from '../../src/commands/status.js';
import type { SlackCard } from '../../src/notify/lib/blocks.js';
import { CounterStore } from '../../src/policies/counters.js';
import type { TrailEntry } from '../../src/status/audit-trail.js';
import type { SeriesView } from '../../src/status/series.js';
import type { StatusOverview } from '../../src/status/types.js';
import { redisKeys } from '../../src/store/keys.js';
import { blockKitViolations } from '../support/block-kit.js';
import { ARTIFACTS, launchBrowser } from '../support/browser.js';
import { capture } from '../support/capture.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus.js';
import { REDIS_URL } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/**
 * The operator's view of the seed incident, on one `vigil demo --keep` run: `vigil status` mid-run
 * and after, the status page in a real Chromium (markers where the audit says), and a real
 * Prometheus scraping the demo's vigil (every dashboard query answers; the breaker alert fires).
 */
const DRIFT = 'deploy_commits_behind{service="nba-phase4-precompute-processors"}';
const COVERAGE = 'vegas_line_coverage';
const DROP_DAY = Date.UTC(2026, 1, 2);

let dir: string;
const stop = new AbortController();
const stdout = capture();
const stderr = capture();
let demo: Promise<number>;
let url: string;
let prefix: string;
let midRun: { code: number; out: string };
let browser: { context: BrowserContext; close(): Promise<void> } | undefined;
let prometheus: RunningPrometheus | undefined;
let slack: TestServer;
const SLACK_SECRET = '/services/T0VIGIL/B0DEMO/s3cr3t-t0ken-never-shown';

async function status(json = false): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await runStatus({ url, json }, { stdout: out.stream, stderr: err.stream });
  return { code, out: out.text(), err: err.text() };
}

async function get<T>(path: string): Promise<T> {
  return (await (await fetch(`${url}${path}`)).json()) as T;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-operator-'));
  slack = await startTestServer((_request, response) => response.writeHead(200).end('ok'));
  demo = runDemo(
    {
      redis: REDIS_URL,
      timeoutMs: 150_000,
      dataDir: join(dir, 'demo'),
      keep: stop.signal,
      notifiers: [
        {
          id: 'slack',
          kind: 'slack',
          options: { webhook_url: `${slack.url}${SLACK_SECRET}`, status_url: 'http://vigil.example:9464' },
        },
      ],
    },
    { stdout: stdout.stream, stderr: stderr.stream },
  );
  const line = await waitFor(
    'the demo prints its status page',
    () => /status page (http:\/\/[^/\s]+)\/ .*Redis keys under (\S+):/.exec(stdout.text()) ?? undefined,
    60_000,
  );
  url = line[1] as string;
  prefix = line[2] as string;
  // Mid-run: the coverage finding is open before the story is over.
  midRun = await waitFor(
    'vigil status to show the open coverage finding',
    async () => {
      const result = await status();
      return /\n\s+f-\w+\s+critical\s+vegas_line_coverage\s/.test(result.out) ? result : undefined;
    },
    60_000,
    200,
  );
  await waitFor(
    'the story to end',
    () => (stdout.text().includes('demo: the status page:') ? true : undefined),
    150_000,
    200,
  );
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await prometheus?.stop();
  await slack?.close();
  stop.abort();
  const code = await demo;
  await rm(dir, { recursive: true, force: true });
  expect(stderr.text()).toBe('');
  expect(code).toBe(0);
}, 120_000);

describe('the operator view of the seed incident', () => {
  it('vigil status: exit 0 mid-run with the open coverage finding; exit 1 after the story (the ensemble_v1 backfill was ineffective)', async () => {
    const after = await status();
    const json = JSON.parse((await status(true)).out) as StatusOverview;

    expect(midRun.code).toBe(0);
    expect(midRun.out).toContain('HEALTHY');
    expect(midRun.out).toMatch(/critical\s+vegas_line_coverage\s+44\.6/);
    expect(after.code).toBe(1);
    expect(after.out).toContain('ATTENTION');
    expect(after.out).toMatch(
      /f-\w+\s+redeploy-service\s+nba-phase4-precompute-processors\s+\S+\s+executed\s+verified/,
    );
    expect(json.health.problems).toContainEqual(
      expect.stringMatching(/^escalated: run-job on grading-backfill stopped after/),
    );
    expect(json.findings.some((finding) => finding.metric === 'vegas_line_coverage')).toBe(false);
  });

  it('the page: coverage drop and drift at the right time, remediation markers where the audit says, the pinned service, the incident chain', async () => {
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));

    await page.goto(`${url}/`);
    await page.waitForSelector('#charts[data-ready="true"]', { timeout: 60_000 });
    const coverage = await drawn(page, COVERAGE);
    const drift = await drawn(page, DRIFT);
    const driftView = await get<SeriesView>(`/api/series?key=${encodeURIComponent(DRIFT)}`);
    const driftFinding = driftView.findings.find((finding) =>
      finding.decisions.some((decision) => decision.action === 'act'),
    );
    const trail = await get<{ entries: TrailEntry[] }>(`/api/audit?finding=${driftFinding?.id}`);
    const auditTime = (event: string) => trail.entries.find((entry) => entry.event === event)?.time;
    const controls = await page.locator(`.chart[data-series='${DRIFT}'] .control`).allTextContents();
    await mkdir(ARTIFACTS, { recursive: true });
    // The README's picture (docs/img/status-page.png is a copy): the overview and the first charts.
    await page.screenshot({
      path: fileURLToPath(new URL('status-page.png', ARTIFACTS)),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1400, height: 1800 },
    });
    await page.screenshot({
      path: fileURLToPath(new URL('status-page-full.png', ARTIFACTS)),
      fullPage: true,
    });

    expect(errors).toEqual([]);
    expect(requests.every((request) => request.startsWith(`${url}/`))).toBe(true);
    expect(coverage.anomalies).toContainEqual(expect.objectContaining({ t: DROP_DAY, severity: 'critical' }));
    expect(drift.anomalies.map((a) => a.severity)).toContain('critical');
    expect(driftFinding).toBeDefined();
    const own = drift.remediations.filter((marker) => marker.own);
    expect(own.map((marker) => [marker.stage, marker.t])).toEqual([
      ['started', auditTime('started')],
      ['executed', auditTime('remediation-executed')],
      ['verified', auditTime('remediation-verified')],
    ]);
    // The redeploy explains the coverage recovery: its markers show (faintly) on that chart too.
    expect(coverage.remediations.some((marker) => !marker.own && marker.kind === 'redeploy-service')).toBe(
      true,
    );
    for (const marker of [...own, ...coverage.anomalies]) expect(marker.x).toBeGreaterThan(0);
    expect(controls.join('\n')).toMatch(
      /override phase4-schema-migration on nba-phase4-precompute-processors by data-platform-oncall/,
    );
    expect(controls.join('\n')).toMatch(/do-not-deploy nba-phase4-precompute-processors@8cb96558/);

    await page.click(`a.finding-link[href="#/finding/${driftFinding?.id}"]`);
    await page.waitForSelector(`#incident[data-finding="${driftFinding?.id}"] li[data-step="verification"]`);
    const steps = await page
      .locator('#chain li')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-step')));
    const events = await page
      .locator('#audit-entries li')
      .evaluateAll((items) => items.map((item) => [item.getAttribute('data-event'), item.className]));
    await page.screenshot({ path: fileURLToPath(new URL('incident.png', ARTIFACTS)), fullPage: true });

    expect(steps).toEqual(expect.arrayContaining(['finding', 'decision', 'job', 'outcome', 'verification']));
    expect(steps.indexOf('finding')).toBeLessThan(steps.indexOf('decision'));
    expect(steps.indexOf('decision')).toBeLessThan(steps.indexOf('verification'));
    expect(events.map(([event]) => event)).toEqual(
      expect.arrayContaining([
        'decision',
        'enqueued',
        'started',
        'remediation-executed',
        'remediation-verified',
      ]),
    );
    expect(events.every(([, className]) => className === '')).toBe(true);
  }, 120_000);

  it('Slack: every card of the whole run is valid Block Kit, says how to stop it, links the finding, and never carries the webhook secret', async () => {
    const cards = await waitFor(
      'the verified redeploy card',
      () => {
        const received = slack.requests.map((request) => JSON.parse(request.body) as SlackCard);
        return received.some((card) => card.text.startsWith('remediation verified: redeploy'))
          ? received
          : undefined;
      },
      30_000,
      200,
    );
    const texts = cards.map((card) => card.text);

    expect(slack.requests.every((request) => request.path === SLACK_SECRET)).toBe(true);
    for (const card of cards) expect(blockKitViolations(card)).toEqual([]);
    for (const card of cards) expect(JSON.stringify(card)).not.toContain('s3cr3t-t0ken');
    expect(texts).toContainEqual(
      expect.stringMatching(/^critical vegas_line_coverage = 44\.6 \(finding f-\w+\)$/),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(/^remediation executed: redeploy nba-phase4-precompute-processors at main/),
    );
    expect(texts).toContainEqual(expect.stringMatching(/^hold-placed: run-job\/grading-backfill held/));
    const redeploy = cards.find((card) =>
      card.text.startsWith('remediation verified: redeploy'),
    ) as SlackCard;
    const findingId = /\(finding (f-\w+)\)/.exec(redeploy.text)?.[1] as string;
    // Plain incoming webhooks cannot thread: the stages of one finding are grouped by its id.
    expect(texts.filter((text) => text.includes(`(finding ${findingId})`)).length).toBeGreaterThanOrEqual(3);
    const context = JSON.stringify(redeploy.blocks.at(-1));
    expect(context).toContain('vigil pause --as NAME');
    expect(context).toContain('vigil silence add --target nba-phase4-precompute-processors');
    expect(context).toContain(`<http://vigil.example:9464/#/finding/${findingId}|status page>`);
  });

  it('Prometheus scraping the demo: every dashboard query answers with data; the breaker alert fires when a breaker opens', async () => {
    prometheus = await startPrometheus(url);
    const running = prometheus;
    const dashboard = (await import('../../deploy/grafana-dashboard.json', { with: { type: 'json' } }))
      .default as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const queries = dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })),
    );
    await waitFor(
      'two successful scrapes of vigil',
      async () => {
        const data = await running.api<{ result: unknown[] }>(
          'query?query=sum_over_time(up{job="vigil"}[1m])>=2',
        );
        return data.result.length > 0 ? true : undefined;
      },
      60_000,
      500,
    );

    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const data = await running.api<{ result: unknown[] }>(`query?query=${encodeURIComponent(expr)}`);
      if (data.result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    const overview = await get<StatusOverview>('/api/status');
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    // The demo's clock lives on the sandbox's simulated day: the breaker opens on that clock.
    await new CounterStore({
      redis,
      keys: redisKeys(prefix),
      clock: { now: () => overview.now },
    }).openBreaker('restart-service', 'prediction-worker', overview.now + 3_600_000);
    redis.disconnect();
    const firing = await waitFor(
      'VigilBreakerOpen firing',
      async () => {
        const { alerts } = await running.api<{ alerts: { labels: Record<string, string>; state: string }[] }>(
          'alerts',
        );
        return alerts.find(
          (alert) => alert.labels.alertname === 'VigilBreakerOpen' && alert.state === 'firing',
        );
      },
      60_000,
      500,
    );
    const unhealthy = await status();

    expect(queries.length).toBeGreaterThan(15);
    expect(empty).toEqual([]);
    expect(firing.labels).toMatchObject({
      kind: 'restart-service',
      target: 'prediction-worker',
      severity: 'warning',
    });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.out).toMatch(/breaker open on restart-service prediction-worker/);
  }, 120_000);
});

interface Drawn {
  anomalies: { t: number; severity: string; x: number }[];
  remediations: { t: number; stage: string; kind: string; target: string; own: boolean; x: number }[];
}

/** What the page drew on one series' chart (the page records each marker with its pixel position). */
async function drawn(page: Page, series: string): Promise<Drawn> {
  const chart = page.locator(`.chart[data-series='${series}']`);
  await chart.waitFor({ timeout: 30_000 });
  const data = await chart.evaluate((el) => ({
    anomalies: (el as unknown as DatasetElement).dataset.anomalies,
    remediations: (el as unknown as DatasetElement).dataset.remediations,
  }));
  return {
    anomalies: JSON.parse(data.anomalies ?? '[]'),
    remediations: JSON.parse(data.remediations ?? '[]'),
  };
}

type DatasetElement = { dataset: Record<string, string | undefined> };
