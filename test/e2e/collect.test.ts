import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bigquerySql } from '../../src/collectors/bigquery-sql.js';
import type { CollectorDeps } from '../../src/collectors/types.js';
import { runOnce } from '../../src/commands/once.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { assembleCollection } from '../../src/pipeline/assemble.js';
import { runTick, type TickDeps } from '../../src/pipeline/tick.js';
import { createGcpClients } from '../../src/platform/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { capture } from '../support/capture.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';

// The seed platform's config, collected through the real Google clients from the sandbox.
let sandbox: Sandbox;
let env: TestRedis;
let dataDir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  env = await testRedis();
  dataDir = await mkdtemp(join(tmpdir(), 'vigil-e2e-'));
});
afterEach(async () => {
  await env.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

function vigilEnv(): Record<string, string> {
  return {
    ...sandbox.env,
    NO_PROXY: '127.0.0.1',
    VIGIL_REDIS_URL: REDIS_URL,
    VIGIL_KEY_PREFIX: env.prefix.slice(0, -1),
    VIGIL_DATA_DIR: dataDir,
    VIGIL_NOW: new Date(sandbox.clock.now()).toISOString(),
  };
}

async function collection(configFile = 'examples/nba-props.yaml') {
  const config = { ...(await loadConfig(configFile, vigilEnv())), data_dir: dataDir };
  const clock = new ManualClock(sandbox.clock.now());
  const metrics = createMetricsRegistry({ processMetrics: false });
  const logger = pino({ level: 'silent' });
  const built = assembleCollection(config, { logger, clock, metrics, redis: env.redis, lease: false });
  const deps: TickDeps = {
    store: built.store,
    bindings: built.bindings,
    clock,
    logger,
    metrics,
    readPoints: config.history.read_points,
    persist: true,
    seenSeries: new Set(),
    onFindings: async () => undefined,
  };
  const collector = (id: string) => {
    const found = built.collectors.find((c) => c.id === id);
    if (!found) throw new Error(`no collector ${id}`);
    return found;
  };
  return { built, deps, metrics, clock, collector };
}

describe('examples/nba-props.yaml against the sandbox (real Google clients)', () => {
  it('vigil once prints the seed series and flags the coverage drop, the drift and the grading gaps', async () => {
    const out = capture();
    const err = capture();

    const code = await runOnce(
      'examples/nba-props.yaml',
      { stdout: out.stream, stderr: err.stream },
      vigilEnv(),
    );
    const row = (series: string) =>
      out
        .text()
        .split('\n')
        .find((line) => line.startsWith(`${series} `)) ?? '';

    expect(err.text()).toBe('');
    expect(code).toBe(1);
    expect(out.text()).toMatch(/^vigil once at 2026-02-02T12:00:00.000Z: 8 collectors, 31 series\n/);
    expect(row('vegas_line_coverage')).toMatch(
      / 2026-02-02 +44\.\d +critical +0\.9\d\d +vegas_line_coverage 44\.\d% is \d+σ below its 28-point median 92\.\d%/,
    );
    expect(row('deploy_commits_behind{service="nba-phase4-precompute-processors"}')).toMatch(
      / 598 +critical /,
    );
    expect(
      row('deploy_contains_commit{commit="vegas-line-fix",service="nba-phase4-precompute-processors"}'),
    ).toMatch(/ 0 +critical /);
    expect(row('deploy_commits_behind{service="prediction-coordinator"}')).toMatch(
      / pinned .*traffic pinned to .* by a human; not drift/,
    );
    expect(row('grading_completeness{model="catboost_v9"}')).toMatch(/ 2026-02-01 +61\.\d +warning /);
    expect(row('grading_completeness{model="ensemble_v1_1"}')).toMatch(/ 2026-02-01 +22\.\d +critical /);
    expect(row('grading_completeness{model="catboost_v8"}')).toMatch(/ 2026-02-01 +18\.\d +critical /);
    expect(row('grading_completeness{model="ensemble_v1"}')).toMatch(/ 2026-02-01 +4\.\d +critical /);
    expect(row('probe_up{service="prediction-worker",target="prediction-worker"}')).toMatch(/ 0 +critical /);
    expect(row('phase3_completion')).toMatch(/ 100 +ok /);
  });

  it('collects the seed values for a fixed seed and raises each grading gap from its first day', async () => {
    const { deps, collector } = await collection();

    const coverage = await runTick(collector('vegas-line-coverage'), deps);
    const grading = await runTick(collector('grading-completeness'), deps);

    const byDay = new Map(coverage.series.map((row) => [row.series, row.value]));
    expect(byDay.get('vegas_line_coverage')).toBeCloseTo(44.7, 0);
    expect(coverage.findings.map((f) => [f.series, f.state, f.verdict.severity])).toEqual([
      ['vegas_line_coverage', 'raised', 'critical'],
    ]);
    const gaps = grading.findings.map((f) => [
      f.labels.model,
      f.state,
      new Date(f.since).toISOString().slice(0, 10),
    ]);
    expect(gaps.sort()).toEqual([
      ['catboost_v8', 'raised', '2026-01-26'],
      ['catboost_v9', 'raised', '2026-01-26'],
      ['ensemble_v1', 'raised', '2026-01-26'],
      ['ensemble_v1_1', 'raised', '2026-01-26'],
    ]);
  });

  it('reports phase 4 598 commits behind, and 0 after the sandbox redeploys it at main', async () => {
    const { deps, collector, clock } = await collection();
    const before = await runTick(collector('deployment-drift'), deps);
    const gcp = createGcpClients({
      project: sandbox.project,
      region: sandbox.region,
      endpoint: sandbox.url,
      timeoutMs: 10_000,
    });
    const main = sandbox.state().git.main;
    const phase4 = 'nba-phase4-precompute-processors';

    await gcp.run.updateServiceImage(
      phase4,
      `us-west2-docker.pkg.dev/nba-props-platform/nba-props/${phase4}:${main.slice(0, 8)}`,
      { 'commit-sha': main },
    );
    clock.advance(10 * 60_000);
    const after = await runTick(collector('deployment-drift'), deps);
    await gcp.close();
    await sandbox.reset();

    const behind = (report: typeof before) =>
      report.series.find((r) => r.series === `deploy_commits_behind{service="${phase4}"}`)?.value;
    expect(behind(before)).toBe(598);
    expect(behind(after)).toBe(0);
    // The episode stays open until two normal points in a row (hysteresis m=2): ongoing, now ok.
    expect(after.findings.map((f) => [f.metric, f.state, f.verdict.severity])).toEqual([
      ['deploy_commits_behind', 'ongoing', 'ok'],
      ['deploy_contains_commit', 'ongoing', 'ok'],
    ]);
  });

  it('reports NULL values and an empty latest partition as data-quality and no-data states', async () => {
    const gcp = createGcpClients({
      project: sandbox.project,
      region: sandbox.region,
      endpoint: sandbox.url,
      timeoutMs: 10_000,
    });
    const deps = {
      platform: { bigquery: () => gcp.bigquery, cloudRun: () => gcp.run },
    } as unknown as CollectorDeps;
    const ctx = {
      clock: new ManualClock(sandbox.clock.now()),
      logger: pino({ level: 'silent' }),
      signal: new AbortController().signal,
    };
    const nullLatest = bigquerySql.create(
      bigquerySql.options.parse({
        metric: 'vegas_line_coverage',
        expect_latest: false,
        query: `SELECT game_date, IF(game_date = @end_date, NULL, ROUND(100 * COUNTIF(has_vegas_line) / COUNT(*), 1)) AS value
                FROM nba_predictions.ml_feature_store_v2 WHERE game_date BETWEEN DATE_SUB(@end_date, INTERVAL 2 DAY) AND @end_date
                GROUP BY game_date ORDER BY game_date`,
      }),
      deps,
    );
    const emptyLatest = bigquerySql.create(
      bigquerySql.options.parse({
        metric: 'vegas_line_coverage',
        query: `SELECT game_date, 1.0 AS value FROM nba_predictions.ml_feature_store_v2
                WHERE game_date BETWEEN @start_date AND DATE_SUB(@end_date, INTERVAL 1 DAY) GROUP BY game_date`,
      }),
      deps,
    );

    const withNull = await nullLatest.collect(ctx);
    const withoutLatest = await emptyLatest.collect(ctx);
    await gcp.close();

    expect(withNull.samples).toHaveLength(2);
    expect(withNull.problems.map((p) => [p.kind, p.message])).toEqual([
      ['null-value', 'value is NULL on 2026-02-02'],
      ['no-data', 'latest partition 2026-02-02 has no value yet (NULL)'],
    ]);
    expect(withoutLatest.samples.length).toBeGreaterThan(20);
    expect(withoutLatest.statuses).toEqual([
      {
        metric: 'vegas_line_coverage',
        labels: {},
        status: 'no-data',
        reason: 'no row for the latest expected partition 2026-02-02',
      },
    ]);
  });

  it('records a failed run on a BigQuery 503 and succeeds on the next tick', async () => {
    const { deps, collector, metrics } = await collection();
    sandbox.faults.add({ endpoint: 'bigquery.query', status: 503, count: 1, latency_ms: 0, probability: 1 });

    const failed = await runTick(collector('vegas-line-coverage'), deps);
    const next = await runTick(collector('vegas-line-coverage'), deps);

    expect([failed.outcome, failed.error]).toEqual(['failure', expect.stringMatching(/503|unavailable/i)]);
    expect([next.outcome, next.error]).toEqual(['success', undefined]);
    const runs = await metrics.getSingleMetricAsString('vigil_collector_runs_total');
    expect(runs).toContain('vigil_collector_runs_total{collector="vegas-line-coverage",outcome="failure"} 1');
    expect(runs).toContain('vigil_collector_runs_total{collector="vegas-line-coverage",outcome="success"} 1');
  });
});
