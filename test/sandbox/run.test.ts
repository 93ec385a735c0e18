import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { rawClients } from './helpers.js';

describe('Cloud Run Admin v2 emulation with the real @google-cloud/run clients', () => {
  let sandbox: Sandbox;
  let clients: ReturnType<typeof rawClients>;

  beforeAll(async () => {
    // A longer delay than the client's first (immediate) poll, so polling really happens.
    sandbox = await startSandbox({ operationDelayMs: 120 });
    clients = rawClients(sandbox);
  });

  afterAll(async () => {
    await clients?.close();
    await sandbox?.close();
  });

  it('gets a service with its commit-tagged image, commit-sha label and ready revision', async () => {
    const [service] = await clients.services.getService({
      name: `${clients.parent}/services/nba-phase4-precompute-processors`,
    });

    const commit = sandbox
      .state()
      .services.find((item) => item.name === 'nba-phase4-precompute-processors')?.commit;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(service.template?.containers?.[0]?.image).toBe(
      `us-west2-docker.pkg.dev/nba-props-platform/nba-props/nba-phase4-precompute-processors:${commit?.slice(0, 8)}`,
    );
    expect(service.template?.labels?.['commit-sha']).toBe(commit);
    expect(service.latestReadyRevision).toMatch(/\/revisions\/nba-phase4-precompute-processors-\d{5}-\w{3}$/);
    expect(service.terminalCondition?.state).toBe('CONDITION_SUCCEEDED');
  });

  it('lists services and revisions', async () => {
    const [services] = await clients.services.listServices({ parent: clients.parent });
    const [list] = await clients.revisions.listRevisions({
      parent: `${clients.parent}/services/prediction-worker`,
    });

    expect(services.map((service) => service.name?.split('/').at(-1)).sort()).toEqual([
      'nba-phase3-analytics-processors',
      'nba-phase4-precompute-processors',
      'prediction-coordinator',
      'prediction-worker',
    ]);
    expect(list.length).toBeGreaterThan(1);
    expect(list[0]?.name).toMatch(/prediction-worker-\d{5}-\w{3}$/);
  });

  it('updates a service through a polled operation into a new revision with the new image and label', async () => {
    const name = `${clients.parent}/services/nba-phase3-analytics-processors`;
    const [before] = await clients.services.getService({ name });
    const main = sandbox.state().git.main;
    const image = `us-west2-docker.pkg.dev/nba-props-platform/nba-props/nba-phase3-analytics-processors:${main.slice(0, 8)}`;
    const mark = sandbox.requests().at(-1)?.seq ?? 0;

    const [operation] = await clients.services.updateService({
      service: {
        ...before,
        template: {
          ...before.template,
          labels: { ...before.template?.labels, 'commit-sha': main },
          containers: [{ ...before.template?.containers?.[0], image }],
        },
      },
    });
    const [after] = await operation.promise();

    expect(after.latestReadyRevision).not.toBe(before.latestReadyRevision);
    expect(after.template?.containers?.[0]?.image).toBe(image);
    expect(after.template?.labels?.['commit-sha']).toBe(main);
    const state = sandbox.state().services.find((item) => item.name === 'nba-phase3-analytics-processors');
    expect(state).toMatchObject({ commit: main, commits_behind_main: 0 });
    const polls = sandbox.requests(mark).filter((entry) => entry.route === 'run.operations.get');
    // At least one poll: under load the first poll may already find the rollout done.
    expect(polls.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses an update made from a stale read, as Cloud Run does with etags', async () => {
    const name = `${clients.parent}/services/prediction-worker`;
    const [stale] = await clients.services.getService({ name });
    const [first] = await clients.services.updateService({
      service: { ...stale, annotations: { ...stale.annotations, touched: 'first' } },
    });
    await first.promise();

    const second = clients.services.updateService({
      service: { ...stale, annotations: { ...stale.annotations, touched: 'second' } },
    });

    await expect(second).rejects.toThrow(/etag .* is stale/);
    const [now] = await clients.services.getService({ name });
    expect(now.annotations?.touched).toBe('first');
  });

  it('fails the operation when the image names no known commit', async () => {
    const name = `${clients.parent}/services/prediction-coordinator`;
    const [before] = await clients.services.getService({ name });

    const [operation] = await clients.services.updateService({
      service: {
        ...before,
        template: { ...before.template, containers: [{ image: 'us-west2-docker.pkg.dev/x/y/z:deadbeef' }] },
      },
    });
    const error = await operation.promise().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 5 });
    const [after] = await clients.services.getService({ name });
    expect(after.latestReadyRevision).toBe(before.latestReadyRevision);
  });

  it('runs the backfill job with args: the execution grades the given dates', async () => {
    const graded = async () => {
      const [rows] = await clients.bigquery.query(
        "SELECT COUNT(*) AS n FROM nba_predictions.prediction_accuracy WHERE system_id = 'catboost_v9' AND game_date BETWEEN '2026-01-26' AND '2026-02-01'",
      );
      return rows[0].n as number;
    };
    const before = await graded();

    const [operation] = await clients.jobs.runJob({
      name: `${clients.parent}/jobs/grading-backfill`,
      overrides: {
        containerOverrides: [{ args: ['--start-date', '2026-01-26', '--end-date', '2026-02-01'] }],
      },
    });
    const [execution] = await operation.promise();

    expect(execution.name).toMatch(/\/jobs\/grading-backfill\/executions\/grading-backfill-\w{5}$/);
    expect(Number(execution.succeededCount)).toBe(1);
    expect(await graded()).toBeGreaterThan(before);
    const [job] = await clients.jobs.getJob({ name: `${clients.parent}/jobs/grading-backfill` });
    expect(job.latestCreatedExecution?.name).toBe(execution.name);
  });

  it('fails an execution whose args the job cannot parse', async () => {
    const [operation] = await clients.jobs.runJob({
      name: `${clients.parent}/jobs/grading-backfill`,
      overrides: { containerOverrides: [{ args: ['--start', 'yesterday'] }] },
    });

    const error = await operation.promise().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 9 });
    expect(sandbox.state().jobs[0]?.executions.at(-1)).toMatchObject({ state: 'failed' });
  });

  it('answers an unknown service with 404 and an unknown endpoint with 501', async () => {
    const missing = await clients.services
      .getService({ name: `${clients.parent}/services/nope` })
      .catch((caught: unknown) => caught);
    const unknown = await fetch(`${sandbox.url}/v2/${clients.parent}/workerPools`);

    expect(missing).toMatchObject({ code: 404 });
    expect(unknown.status).toBe(501);
    expect(await unknown.json()).toMatchObject({
      error: { code: 501, message: expect.stringContaining('does not emulate') },
    });
  });
});
