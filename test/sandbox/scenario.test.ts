import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpClients, type GcpClients } from '../../src/platform/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import './helpers.js';

const PHASE4 = 'nba-phase4-precompute-processors';

describe('the seed-incident scenario, day by day', () => {
  let sandbox: Sandbox;
  let gcp: GcpClients;

  const coverageByDate = async (from: string, to: string) => {
    const { rows } = await gcp.bigquery.query(
      `SELECT game_date, ROUND(100 * COUNTIF(has_vegas_line) / COUNT(*), 2) AS pct
       FROM \`nba-props-platform.nba_predictions.ml_feature_store_v2\`
       WHERE game_date BETWEEN @from AND @to GROUP BY game_date ORDER BY game_date`,
      { from: { type: 'DATE', value: from }, to: { type: 'DATE', value: to } },
    );
    return new Map(rows.map((row) => [row.game_date as string, row.pct as number]));
  };
  const gradedPct = async (model: string, from: string, to: string) => {
    const { rows } = await gcp.bigquery.query(
      `SELECT p.game_date, ROUND(100 * COUNT(a.prediction_id) / COUNT(*), 2) AS pct
       FROM nba_predictions.player_prop_predictions p
       LEFT JOIN nba_predictions.prediction_accuracy a USING (prediction_id)
       WHERE p.system_id = @model AND p.game_date BETWEEN @from AND @to
       GROUP BY p.game_date ORDER BY p.game_date`,
      { model, from: { type: 'DATE', value: from }, to: { type: 'DATE', value: to } },
    );
    return rows.map((row) => row.pct as number);
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ operationDelayMs: 0 });
    gcp = createGcpClients({
      project: sandbox.project,
      region: sandbox.region,
      endpoint: sandbox.url,
      timeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await gcp?.close();
    await sandbox?.close();
  });

  it('opens on the first incident day with the seed’s numbers', () => {
    const state = sandbox.state();

    expect(state).toMatchObject({ day: 45, date: '2026-02-02', now: '2026-02-02T12:00:00.000Z' });
    const byName = new Map(state.services.map((service) => [service.name, service]));
    expect(byName.get(PHASE4)).toMatchObject({
      commits_behind_main: 598,
      contains_vegas_fix: false,
      health: 'ok',
    });
    expect(byName.get('prediction-worker')).toMatchObject({ health: 'error' });
    expect(byName.get('prediction-coordinator')).toMatchObject({ paused_by: 'jane.doe@nba-props.example' });
    expect(byName.get('prediction-coordinator')?.traffic[0]).toMatchObject({
      type: 'REVISION',
      percent: 100,
    });
  });

  it('keeps a real git repository whose main is 598 commits ahead of phase 4', () => {
    const state = sandbox.state();
    const phase4 = state.services.find((service) => service.name === PHASE4)?.commit as string;
    const git = (...args: string[]) =>
      execFileSync('git', ['--git-dir', new URL(sandbox.gitUrl).pathname, ...args])
        .toString()
        .trim();

    expect(git('rev-parse', 'main')).toBe(state.git.main);
    expect(git('rev-list', '--count', `${phase4}..main`)).toBe('598');
    expect(git('log', '-1', '--format=%s', state.git.vegas_fix as string)).toContain('Vegas points line');
  });

  it('matches the scenario file’s Vegas line coverage on every day (±1 point)', async () => {
    const { coverage_with_fix_pct: withFix, coverage_without_fix_pct: withoutFix } =
      sandbox.scenario.vegas_line;
    const noGames = new Set(sandbox.scenario.calendar.no_game_dates);

    const coverage = await coverageByDate('2025-12-19', '2026-02-02');

    for (let day = 0; day <= 45; day++) {
      const date = new Date(Date.UTC(2025, 11, 19 + day)).toISOString().slice(0, 10);
      if (noGames.has(date)) {
        expect(coverage.has(date), date).toBe(false);
        continue;
      }
      const expected = day < 45 ? withFix : withoutFix;
      expect(
        Math.abs((coverage.get(date) ?? -100) - expected),
        `${date}: ${coverage.get(date)}`,
      ).toBeLessThanOrEqual(1);
    }
  });

  it('matches the scenario file’s graded share per model on the outage dates (±1 point)', async () => {
    for (const outage of sandbox.scenario.grading.outages) {
      const pcts = await gradedPct(outage.model, '2026-01-26', '2026-02-01');

      expect(pcts, outage.model).toHaveLength(7);
      for (const pct of pcts)
        expect(Math.abs(pct - outage.graded_pct), `${outage.model} ${pct}`).toBeLessThanOrEqual(1);
    }
    expect(await gradedPct('catboost_v9', '2026-01-18', '2026-01-24')).toEqual([
      100, 100, 100, 100, 100, 100, 100,
    ]);
  });

  it('backfill grades dates with results and cannot help rows without them', async () => {
    const execution = await gcp.run.runJob(
      'grading-backfill',
      ['--start-date', '2026-01-26', '--end-date', '2026-02-01'],
      {
        wait: true,
      },
    );

    expect(execution.status).toBe('succeeded');
    expect(await gradedPct('catboost_v9', '2026-01-26', '2026-02-01')).toEqual([
      100, 100, 100, 100, 100, 100, 100,
    ]);
    expect(await gradedPct('catboost_v8', '2026-01-26', '2026-02-01')).toEqual([
      100, 100, 100, 100, 100, 100, 100,
    ]);
    for (const pct of await gradedPct('ensemble_v1', '2026-01-26', '2026-02-01'))
      expect(Math.abs(pct - 4.2)).toBeLessThanOrEqual(1);
  });

  it('redeploying phase 4 at main raises coverage the next simulated day', async () => {
    const main = sandbox.state().git.main;
    const image = `us-west2-docker.pkg.dev/nba-props-platform/nba-props/${PHASE4}:${main.slice(0, 8)}`;

    const service = await gcp.run.updateServiceImage(PHASE4, image, { 'commit-sha': main });
    await sandbox.advanceDays(1);

    expect(service).toMatchObject({ image, commitSha: main });
    const coverage = await coverageByDate('2026-02-02', '2026-02-03');
    expect(coverage.get('2026-02-02')).toBeLessThan(46);
    expect(coverage.get('2026-02-03')).toBeGreaterThan(91);
    expect(sandbox.state().services.find((item) => item.name === PHASE4)).toMatchObject({
      contains_vegas_fix: true,
    });
  });

  it('keeps prediction-worker wedged across days until a new revision, which restores its health', async () => {
    const probe = () =>
      fetch(`${sandbox.healthBaseUrl}/prediction-worker/healthz`).then((response) => response.status);
    expect(await probe()).toBe(500);

    await gcp.run.restartService('prediction-worker');

    expect(await probe()).toBe(200);
  });
});
