import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/types.js';
import type { GcpClients } from '../../src/platform/index.js';
import { redeployService } from '../../src/remediations/redeploy-service.js';
import { restartService } from '../../src/remediations/restart-service.js';
import { runJob } from '../../src/remediations/run-job.js';
import type { RemediationContext } from '../../src/remediations/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { finding } from '../policies/helpers.js';
import { sandboxWithClients } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// The executing half of each remediation, through the real Cloud Run client, against the sandbox.
let sandbox: Sandbox;
let gcp: GcpClients;
let context: RemediationContext;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ sandbox, gcp, close } = await sandboxWithClients());
  context = { cloudRun: gcp.run, timeoutMs: 10_000 };
});
afterAll(() => close());
afterEach(async () => {
  sandbox.faults.clear();
  await sandbox.reset();
});

const PHASE4 = 'nba-phase4-precompute-processors';
const WORKER = 'prediction-worker';

function findingOf(series: string, labels: Record<string, string>): Finding {
  const now = sandbox.clock.now();
  return finding({
    id: 'f-test',
    metric: series.split('{')[0] as string,
    series,
    labels,
    timestamp: now,
    since: now,
  });
}

const service = (name: string) => sandbox.state().services.find((s) => s.name === name);

describe('redeploy-service', () => {
  it('rolls the drifted service to main once, however often the plan runs, and verifies it', async () => {
    const main = sandbox.state().git.main;
    const finding = findingOf(`deploy_commits_behind{service="${PHASE4}"}`, {
      service: PHASE4,
      main_commit: main,
    });
    const plan = redeployService.plan(finding, { service: PHASE4 });
    const before = service(PHASE4);

    const first = await redeployService.execute(plan, context);
    const second = await redeployService.execute(plan, context);
    const verified = await redeployService.verify(plan, context);

    expect(before?.commits_behind_main).toBe(598);
    expect(plan).toMatchObject({
      target: PHASE4,
      commit: main,
      description: `redeploy ${PHASE4} at main ${main.slice(0, 8)}`,
    });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('already-satisfied');
    expect(verified.status).toBe('recovered');
    expect(service(PHASE4)).toMatchObject({ commit: main, commits_behind_main: 0, contains_vegas_fix: true });
    expect(service(PHASE4)?.revisions).toBe((before?.revisions ?? 0) + 1);
  });

  it('cannot plan without the main commit, and says why', () => {
    const finding = findingOf('vegas_line_coverage', {});

    expect(() => redeployService.plan(finding, { service: PHASE4 })).toThrow(
      expect.objectContaining({
        code: 'plan-impossible',
        message: expect.stringContaining('no main_commit label'),
      }),
    );
  });

  it('reports a Cloud Run outage as transient, changing nothing', async () => {
    const main = sandbox.state().git.main;
    const plan = redeployService.plan(findingOf('d', { main_commit: main }), { service: PHASE4 });
    sandbox.faults.add({ endpoint: 'run.services.get', status: 503, latency_ms: 0, probability: 1 });

    await expect(redeployService.execute(plan, context)).rejects.toMatchObject({ kind: 'transient' });
    expect(service(PHASE4)?.commits_behind_main).toBe(598);
  });
});

describe('restart-service', () => {
  it('restarts the wedged worker once and verifies the new revision serves', async () => {
    const plan = restartService.plan(findingOf(`probe_up{service="${WORKER}"}`, { service: WORKER }), {
      service: WORKER,
    });
    const before = service(WORKER);

    const first = await restartService.execute(plan, context);
    const second = await restartService.execute(plan, context);
    const verified = await restartService.verify(plan, context);

    expect(before?.health).not.toBe('ok');
    expect(first.status).toBe('changed');
    expect(second.status).toBe('already-satisfied');
    expect(verified.status).toBe('recovered');
    expect(service(WORKER)).toMatchObject({ health: 'ok', revisions: (before?.revisions ?? 0) + 1 });
  });
});

describe('run-job', () => {
  it('runs the grading backfill for the affected dates once, and verifies it succeeded', async () => {
    const plan = runJob.plan(
      findingOf('grading_completeness{model="catboost_v8"}', { model: 'catboost_v8' }),
      {
        job: 'grading-backfill',
        start_date: '2026-01-26',
        end_date: '2026-02-01',
      },
    );

    const first = await runJob.execute(plan, context);
    const second = await runJob.execute(plan, context);
    const verified = await waitFor('execution finished', async () => {
      const outcome = await runJob.verify(plan, context);
      return outcome.status === 'not-yet' ? undefined : outcome;
    });

    expect(plan.args).toEqual(['--start-date', '2026-01-26', '--end-date', '2026-02-01']);
    expect(first.status).toBe('changed');
    expect(second.status).toBe('already-satisfied');
    expect(verified.status).toBe('recovered');
    const executions = sandbox.state().jobs.find((job) => job.name === 'grading-backfill')?.executions ?? [];
    expect(executions.map((e) => [e.state, e.args.join(' ')])).toEqual([
      ['succeeded', '--start-date 2026-01-26 --end-date 2026-02-01'],
    ]);
  });

  it('starts the job when an earlier attempt never reached Cloud Run', async () => {
    const plan = runJob.plan(findingOf('g', {}), {
      job: 'grading-backfill',
      start_date: '2026-01-26',
      end_date: '2026-02-01',
    });
    sandbox.faults.add({ endpoint: 'run.jobs.run', status: 500, latency_ms: 0, probability: 1, count: 1 });

    await expect(runJob.execute(plan, context)).rejects.toMatchObject({ kind: 'transient' });
    const retried = await runJob.execute(plan, context);

    expect(retried.status).toBe('changed');
  });
});
