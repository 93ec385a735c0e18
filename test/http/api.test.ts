import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { compileBinding, detectorBinding } from '../../src/detectors/binding.js';
import { createApiRoutes } from '../../src/http/api.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import type { AuditTrail } from '../../src/status/audit-trail.js';
import { StatusReader } from '../../src/status/read-model.js';
import { StatusRecorder } from '../../src/status/recorder.js';
import { type SeriesPoint, type SeriesView, SeriesViews } from '../../src/status/series.js';
import { HistoryStore } from '../../src/store/history.js';
import { redisKeys } from '../../src/store/keys.js';
import { coverageFinding, REDEPLOY_PLAN } from '../status/fixtures.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 1, 2);
let t: TestRedis;
let dir: string;
let server: RunningHttpServer;
const logger = createLogger({ level: 'silent' });

beforeEach(async () => {
  t = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-api-'));
});
afterEach(async () => {
  await server?.close();
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function serve(): Promise<{
  url: string;
  audit: AuditLog;
  recorder: StatusRecorder;
  store: HistoryStore;
}> {
  const prefix = t.prefix.slice(0, -1);
  const clock = new ManualClock(T0 + 3_600_000);
  const binding = detectorBinding.parse({
    metric: 'vegas_line_coverage',
    use: [
      { kind: 'threshold', options: { direction: 'down', warning: 80, critical: 50 } },
      { kind: 'robust-zscore', options: { direction: 'down', window: 28 } },
    ],
  });
  const store = new HistoryStore(t.redis, { keys: redisKeys(prefix), maxPoints: 2_000, maxAgeMs: 365 * DAY });
  const reader = new StatusReader({ redis: t.redis, keys: redisKeys(prefix), clock });
  const routes = createApiRoutes({
    reader,
    series: new SeriesViews(store, [binding], [compileBinding(binding)], reader),
    auditDir: dir,
  });
  server = await startHttpServer(
    { host: '127.0.0.1', port: 0 },
    { logger, metrics: createMetricsRegistry({ processMetrics: false }), readiness: () => [], routes },
  );
  const audit = await AuditLog.open({ dir, replica: 'r1', clock });
  return {
    url: server.url,
    audit,
    recorder: new StatusRecorder(t.redis, redisKeys(prefix), 'r1', clock, logger),
    store,
  };
}

async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

describe('status API', () => {
  it('a series: points with the band and verdict of each, and the remediation markers where the audit says', async () => {
    const { url, audit, recorder, store } = await serve();
    const samples = Array.from({ length: 29 }, (_, i) => ({
      metric: 'vegas_line_coverage',
      labels: {},
      timestamp: T0 - (28 - i) * DAY,
      value: i === 28 ? 44.6 : 92 + (i % 3) * 0.2,
    }));
    await store.write(samples, T0);
    await store.flag([{ series: 'vegas_line_coverage', timestamp: T0, anomalous: true }]);
    await recorder.findings([coverageFinding('raised', T0)]);
    for (const record of [
      { event: 'started', findingId: 'f-coverage', plan: REDEPLOY_PLAN, reason: 'job j1' },
      { event: 'remediation-executed', findingId: 'f-coverage', plan: REDEPLOY_PLAN, outcome: 'executed' },
    ])
      await recorder.audited(await audit.append(record));

    const { status, body } = await getJson<SeriesView>(
      `${url}/api/series?key=vegas_line_coverage&since=${T0 - 2 * DAY}`,
    );

    expect(status).toBe(200);
    expect(body.detectors).toEqual(['threshold', 'robust-zscore']);
    expect(body.points.map((p) => [p.t, p.anomalous, p.severity])).toEqual([
      [T0 - 2 * DAY, false, 'ok'],
      [T0 - DAY, false, 'ok'],
      [T0, true, 'critical'],
    ]);
    const last = body.points[2] as SeriesPoint;
    expect(last.warning).toBe(80);
    expect(last.critical).toBe(50);
    expect(last.lower).toBeGreaterThan(80);
    expect(last.lower).toBeLessThan(92);
    expect(last.upper).toBeGreaterThan(92);
    expect(last.reason).toMatch(/44\.6% is \d+σ below/);
    expect(body.markers.map((m) => m.stage)).toEqual(['started', 'executed']);
    expect(body.findings.map((f) => f.id)).toEqual(['f-coverage']);
  });

  it('lists series, answers 404 for an unknown one and 400 for a bad since', async () => {
    const { url, store } = await serve();
    await store.write([{ metric: 'm', labels: { a: '1' }, timestamp: T0, value: 1 }], T0);

    expect((await getJson(`${url}/api/series`)).body).toEqual({ series: ['m{a="1"}'] });
    expect((await getJson(`${url}/api/series?key=nope`)).status).toBe(404);
    expect((await getJson(`${url}/api/series?key=m&since=yesterday-ish`)).body).toEqual({
      error: 'since: expected epoch ms or an ISO date, got "yesterday-ish"',
    });
  });

  it("a finding's audit entries with their chain status: an edited line breaks it there and after", async () => {
    const { url, audit } = await serve();
    await audit.append({ event: 'decision', findingId: 'f-1', outcome: 'act' });
    await audit.append({ event: 'decision', findingId: 'f-2', outcome: 'skip' });
    await audit.append({ event: 'started', findingId: 'f-1', plan: REDEPLOY_PLAN });
    const intact = await getJson<AuditTrail>(`${url}/api/audit?finding=f-1`);
    await audit.close();
    const file = join(dir, 'audit-r1.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = (lines[1] as string).replace('"skip"', '"act"');
    await writeFile(file, lines.join('\n'));

    const broken = await getJson<AuditTrail>(`${url}/api/audit?finding=f-1`);

    expect(intact.body.entries.map((e) => [e.event, e.chain])).toEqual([
      ['decision', 'ok'],
      ['started', 'ok'],
    ]);
    expect(broken.body.entries.map((e) => [e.event, e.chain])).toEqual([
      ['decision', 'ok'],
      ['started', 'broken'],
    ]);
    expect(broken.body.files).toEqual([
      {
        file: 'audit-r1.jsonl',
        entries: 1,
        problem: 'line 2: hash does not match the entry (the entry was altered)',
      },
    ]);
  });

  it('serves the page and uPlot from the installed package, and nothing but GET', async () => {
    const { url } = await serve();

    const page = await fetch(`${url}/`);
    const html = await page.text();
    const uplot = await fetch(`${url}/assets/uPlot.js`);
    const post = await fetch(`${url}/api/status`, { method: 'POST' });

    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('/assets/uPlot.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain('uPlot');
    expect(post.status).toBe(405);
  });
});
