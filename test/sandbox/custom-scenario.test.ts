import { afterAll, describe, expect, it } from 'vitest';
import { parseScenario, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import './helpers.js';

/** Tests write their own scenarios: a tiny platform where phase 4 regresses on day 4. */
const scenario = parseScenario(
  `
name: tiny-regression
seed: 5
project: tiny-project
region: europe-west1
start_date: '2026-03-01'
default_at: 5
calendar:
  games_by_weekday: { mon: 3, tue: 3, wed: 3, thu: 3, fri: 3, sat: 3, sun: 3 }
  no_game_dates: ['2026-03-03']
roster: { teams: 8, players_per_team: 10 }
repo:
  history_commits: 20
  commits_by_weekday: { mon: 5, tue: 5, wed: 5, thu: 5, fri: 5, sat: 5, sun: 5 }
  vegas_fix_day: 1
vegas_line: { service: phase4, coverage_with_fix_pct: 95, coverage_without_fix_pct: 30, noise_pts: 0 }
predictions: { worker_service: worker, wedged_volume_pct: 0 }
models:
  m1: { props: [points, rebounds] }
grading: { backfill_job: backfill }
services:
  phase4: { auto_deploy: { every_days: 1, from_day: 1, to_day: 3 } }
  worker: {}
events:
  - { day: 4, deploy: { service: phase4, commit: { behind_main: 20 } } }
  - { day: 5, wedge: { service: worker } }
  - { day: 5, wedge: { service: phase4, mode: timeout } }
`,
  'tiny.yaml',
);

describe('a scenario written by a test', () => {
  const sandboxes: Sandbox[] = [];
  const start = async () => {
    const sandbox = await startSandbox({ scenario, operationDelayMs: 0 });
    sandboxes.push(sandbox);
    return sandbox;
  };
  const sql = async (sandbox: Sandbox, query: string) => {
    const response = await fetch(`${sandbox.url}/bigquery/v2/projects/tiny-project/queries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, useLegacySql: false }),
    });
    return (await response.json()) as { rows?: { f: { v: string | null }[] }[] };
  };

  afterAll(async () => {
    await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
  });

  it('follows the file: coverage with and without the fix, no games on the break, the wedge', async () => {
    const sandbox = await start();

    const result = await sql(
      sandbox,
      'SELECT CAST(game_date AS STRING), ROUND(100 * COUNTIF(has_vegas_line) / COUNT(*)) FROM nba_predictions.ml_feature_store_v2 GROUP BY 1 ORDER BY 1',
    );
    const predictions = await sql(
      sandbox,
      "SELECT COUNT(*) FROM nba_predictions.player_prop_predictions WHERE game_date = '2026-03-06'",
    );

    // Day 0 runs the pre-fix initial image; days 1-3 are deployed at main; day 4 rolls back.
    const coverage = result.rows?.map((row) => [row.f[0]?.v, Number(row.f[1]?.v)]) ?? [];
    expect(coverage.map(([date]) => date)).toEqual([
      '2026-03-01',
      '2026-03-02',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
    ]);
    // About 80 players a day: one player is more than a point, so allow the rounding.
    coverage.forEach(([, pct], index) => {
      expect(Math.abs((pct as number) - ([30, 95, 95, 30, 30][index] as number))).toBeLessThanOrEqual(1.5);
    });
    expect(predictions.rows?.[0]?.f[0]?.v).toBe('0');
    expect(sandbox.state().services.find((service) => service.name === 'phase4')?.commits_behind_main).toBe(
      25,
    );
  });

  it('holds a timing-out health probe until the prober gives up', async () => {
    const sandbox = sandboxes[0] as Sandbox;

    const probe = await fetch(`${sandbox.healthBaseUrl}/phase4/healthz`, {
      signal: AbortSignal.timeout(300),
    }).catch((caught: unknown) => caught);
    const worker = await fetch(`${sandbox.healthBaseUrl}/worker/healthz`);

    expect(probe).toMatchObject({ name: 'TimeoutError' });
    expect(worker.status).toBe(500);
    expect(await worker.json()).toMatchObject({ service: 'worker', status: 'error' });
  });

  it('replays identically for the same seed', async () => {
    const [first, second] = [sandboxes[0] as Sandbox, await start()];
    const fingerprint =
      'SELECT COUNT(*), SUM(hash(prediction_id, predicted_value, game_id)) FROM nba_predictions.player_prop_predictions';

    expect(second.state().git.main).toBe(first.state().git.main);
    expect((await sql(second, fingerprint)).rows).toEqual((await sql(first, fingerprint)).rows);
  });
});
