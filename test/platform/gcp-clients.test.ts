import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { ConfigError, PermanentError, TransientError } from '../../src/core/errors.js';
import { createGcpClients, type GcpClients } from '../../src/platform/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { eventually } from '../sandbox/helpers.js';

describe('createGcpClients against the sandbox', () => {
  let sandbox: Sandbox;
  let gcp: GcpClients;
  const clock = new ManualClock(Date.parse('2026-02-02T12:00:00Z'));

  beforeAll(async () => {
    sandbox = await startSandbox({ at: 45, operationDelayMs: 30 });
    process.env.VIGIL_GCP_ENDPOINT = sandbox.url;
    // The endpoint comes from the environment, as every vigil client's does.
    gcp = createGcpClients({ project: sandbox.project, region: sandbox.region, timeoutMs: 5_000, clock });
  });

  afterAll(async () => {
    delete process.env.VIGIL_GCP_ENDPOINT;
    await gcp?.close();
    await sandbox?.close();
  });

  it('targets VIGIL_GCP_ENDPOINT', () => {
    expect(gcp.endpoint).toBe(sandbox.url);
  });

  it('queries with typed parameters and returns plain rows plus the schema', async () => {
    const result = await gcp.bigquery.query(
      `SELECT game_date, COUNT(*) AS players, AVG(vegas_points_line) AS mean_line, MAX(created_at) AS built_at,
         ANY_VALUE(player_lookup) IS NOT NULL AS has_players, CAST(NULL AS STRING) AS missing
       FROM \`nba-props-platform.nba_predictions.ml_feature_store_v2\`
       WHERE game_date = @d AND feature_count >= @min GROUP BY game_date`,
      { d: { type: 'DATE', value: '2026-02-02' }, min: 30 },
    );

    expect(result.schema).toEqual([
      { name: 'game_date', type: 'DATE' },
      { name: 'players', type: 'INTEGER' },
      { name: 'mean_line', type: 'FLOAT' },
      { name: 'built_at', type: 'TIMESTAMP' },
      { name: 'has_players', type: 'BOOLEAN' },
      { name: 'missing', type: 'STRING' },
    ]);
    expect(result.rows).toEqual([
      {
        game_date: '2026-02-02',
        players: expect.any(Number),
        mean_line: expect.any(Number),
        built_at: Date.parse('2026-02-02T10:30:00Z'),
        has_players: true,
        missing: null,
      },
    ]);
  });

  it('classifies a bad query as permanent and an unknown table as not found', async () => {
    const bad = await gcp.bigquery
      .query('SELECT nope FROM nba_raw.game_schedule')
      .catch((caught: unknown) => caught);
    const missing = await gcp.bigquery.query('SELECT 1 FROM nba_raw.gone').catch((caught: unknown) => caught);

    expect(bad).toBeInstanceOf(PermanentError);
    expect(bad).toMatchObject({ code: 'gcp-invalid' });
    expect(missing).toMatchObject({ code: 'gcp-not-found' });
  });

  it('reads services, revisions and jobs as plain objects', async () => {
    const services = await gcp.run.listServices();
    const worker = await gcp.run.getService('prediction-worker');
    const revisions = await gcp.run.listRevisions('prediction-worker');
    const revision = await gcp.run.getRevision('prediction-worker', revisions[0]?.name as string);
    const job = await gcp.run.getJob('grading-backfill');
    const coordinator = services.find((service) => service.name === 'prediction-coordinator');

    expect(services).toHaveLength(4);
    expect(worker).toMatchObject({
      name: 'prediction-worker',
      commitSha: expect.stringMatching(/^[0-9a-f]{40}$/),
      traffic: [{ type: 'LATEST', percent: 100 }],
      ready: true,
      latestReadyRevision: revisions[0]?.name,
    });
    expect(revision).toMatchObject({
      service: 'prediction-worker',
      ready: true,
      commitSha: worker.commitSha,
    });
    expect(coordinator?.traffic[0]).toMatchObject({
      type: 'REVISION',
      revision: expect.stringMatching(/^prediction-coordinator-/),
    });
    expect(coordinator?.annotations['vigil.dev/paused-by']).toBe('jane.doe@nba-props.example');
    expect(job).toMatchObject({ name: 'grading-backfill', executionCount: 0 });
  });

  it('redeploys an image with labels and restarts into a new revision', async () => {
    const main = sandbox.state().git.main;
    const image = `us-west2-docker.pkg.dev/nba-props-platform/nba-props/prediction-worker:${main.slice(0, 8)}`;
    const before = await gcp.run.getService('prediction-worker');

    const updated = await gcp.run.updateServiceImage('prediction-worker', image, { 'commit-sha': main });
    const restarted = await gcp.run.restartService('prediction-worker');

    expect(updated).toMatchObject({
      image,
      commitSha: main,
      labels: expect.objectContaining({ 'commit-sha': main }),
    });
    expect(updated.latestReadyRevision).not.toBe(before.latestReadyRevision);
    expect(restarted.latestReadyRevision).not.toBe(updated.latestReadyRevision);
    expect(restarted.templateAnnotations['vigil.dev/restarted-at']).toBe('2026-02-02T12:00:00.000Z');
    expect(restarted.image).toBe(image);
  });

  it('starts a job without waiting, then follows the execution to completion', async () => {
    const started = await gcp.run.runJob('grading-backfill', [
      '--start-date',
      '2026-01-30',
      '--end-date',
      '2026-02-01',
    ]);

    expect(started).toMatchObject({ job: 'grading-backfill', status: 'running' });
    const finished = await eventually(async () => {
      const execution = await gcp.run.getExecution('grading-backfill', started.name);
      return execution.status === 'running' ? undefined : execution;
    });
    expect(finished).toMatchObject({
      status: 'succeeded',
      succeededCount: 1,
      args: ['--start-date', '2026-01-30', '--end-date', '2026-02-01'],
    });
  });

  it('classifies a missing operation as not found', async () => {
    const operationName = `projects/${sandbox.project}/locations/${sandbox.region}/operations/000001-nothere`;

    const missing = await gcp.run.getOperation(operationName).catch((caught: unknown) => caught);

    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing).toMatchObject({ code: 'gcp-not-found' });
  });

  it('turns a refused connection into a TransientError', async () => {
    const port = await freePort();
    const offline = createGcpClients({
      project: 'p-offline',
      region: 'us-west2',
      endpoint: `http://127.0.0.1:${port}`,
      timeoutMs: 2_000,
    });

    const query = await offline.bigquery.query('SELECT 1').catch((caught: unknown) => caught);
    const service = await offline.run.getService('x').catch((caught: unknown) => caught);
    await offline.close();

    expect(query).toBeInstanceOf(TransientError);
    expect(query).toMatchObject({ code: 'gcp-unreachable' });
    expect(service).toBeInstanceOf(TransientError);
  });

  it('rejects a malformed endpoint as a config error', () => {
    expect(() => createGcpClients({ project: 'p', region: 'r', endpoint: 'not a url' })).toThrow(ConfigError);
  });
});

/** A port nothing listens on: bind, read the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
