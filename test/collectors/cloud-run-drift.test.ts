import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { cloudRunDrift } from '../../src/collectors/cloud-run-drift.js';
import type { CollectorDeps } from '../../src/collectors/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { PermanentError } from '../../src/core/errors.js';
import { createGitMirrors } from '../../src/platform/git.js';
import type { CloudRunAdapter, RunRevision, RunService, TrafficTarget } from '../../src/platform/index.js';
import { createTestRepo } from '../support/git.js';

// Real git repository and mirror; Cloud Run state from an in-memory reader (the sandbox e2e uses the real client).
function reader(
  services: Record<string, { state: RunService; revisions: Record<string, RunRevision> }>,
): CloudRunAdapter {
  const unused = async (): Promise<never> => {
    throw new Error('not used by the drift collector');
  };
  return {
    getService: async (name) => {
      const entry = services[name];
      if (!entry) throw new PermanentError(`service ${name} not found`);
      return entry.state;
    },
    getRevision: async (name, revision) => {
      const found = services[name]?.revisions[revision];
      if (!found) throw new PermanentError(`revision ${revision} not found`);
      return found;
    },
    listServices: unused,
    routeTraffic: unused,
    listRevisions: unused,
    updateServiceImage: unused,
    restartService: unused,
    getJob: unused,
    runJob: unused,
    getExecution: unused,
    getOperation: unused,
  };
}

function service(
  name: string,
  commit: string,
  traffic: TrafficTarget[] = [{ type: 'LATEST', percent: 100 }],
) {
  const revision = `${name}-00001`;
  const image = `gcr.io/p/${name}:${commit.slice(0, 8)}`;
  const labels = { 'commit-sha': commit };
  const state: RunService = {
    name,
    resourceName: `projects/p/locations/r/services/${name}`,
    generation: 1,
    labels,
    annotations: {},
    image,
    templateLabels: labels,
    templateAnnotations: {},
    commitSha: commit,
    latestReadyRevision: revision,
    latestCreatedRevision: revision,
    traffic,
    ready: true,
    reconciling: false,
    updateTime: undefined,
    uri: `https://${name}.example`,
  };
  const rev: RunRevision = {
    name: revision,
    service: name,
    image,
    labels,
    annotations: {},
    commitSha: commit,
    createTime: undefined,
    ready: true,
  };
  return { state, revisions: { [revision]: rev } };
}

describe('cloud-run-drift collector', () => {
  it('counts commits behind main, checks the required fix, reports pinned and unknown commits', async () => {
    const repo = await createTestRepo();
    const old = repo.commit(2, 'jan 26 build');
    const fix = repo.commit(1, 'vegas line fix');
    const main = repo.commit(597, 'later work');
    const run = reader({
      'nba-phase4-precompute-processors': service('nba-phase4-precompute-processors', old),
      'prediction-worker': service('prediction-worker', main),
      'prediction-coordinator': service('prediction-coordinator', old, [
        { type: 'REVISION', revision: 'prediction-coordinator-00000', percent: 100 },
      ]),
      'nba-phase3-analytics-processors': service('nba-phase3-analytics-processors', 'deadbeefdeadbeef'),
    });
    const deps = {
      platform: { cloudRun: () => run },
      git: createGitMirrors({
        directory: await mkdtemp(join(tmpdir(), 'vigil-mirrors-')),
        timeoutMs: 10_000,
      }),
    } as unknown as CollectorDeps;
    const options = cloudRunDrift.options.parse({
      repository: repo.bare,
      services: [
        'nba-phase4-precompute-processors',
        'prediction-worker',
        'prediction-coordinator',
        'nba-phase3-analytics-processors',
      ],
      required_commits: [{ name: 'vegas-line-fix', commit: fix.slice(0, 8) }],
    });
    const clock = new ManualClock(Date.parse('2026-02-02T12:00:00Z'));

    const result = await cloudRunDrift
      .create(options, deps)
      .collect({ clock, logger: pino({ level: 'silent' }), signal: new AbortController().signal });
    const values = result.samples.map((s) => [s.metric, s.labels, s.value]);

    expect(values).toEqual([
      ['deploy_commits_behind', { service: 'nba-phase4-precompute-processors' }, 598],
      [
        'deploy_contains_commit',
        { service: 'nba-phase4-precompute-processors', commit: 'vegas-line-fix' },
        0,
      ],
      ['deploy_commits_behind', { service: 'prediction-worker' }, 0],
      ['deploy_contains_commit', { service: 'prediction-worker', commit: 'vegas-line-fix' }, 1],
    ]);
    expect(result.samples[0]?.annotations).toEqual({
      deployed_commit: old,
      main_commit: main,
      serving_revision: 'nba-phase4-precompute-processors-00001',
    });
    expect(result.statuses.map((s) => [s.labels.service, s.status, s.reason])).toEqual([
      [
        'prediction-coordinator',
        'pinned',
        'prediction-coordinator: traffic pinned to prediction-coordinator-00000 by a human; not drift',
      ],
      [
        'nba-phase3-analytics-processors',
        'error',
        'nba-phase3-analytics-processors: deployed commit deadbeefdeadbeef is not in the repository',
      ],
    ]);
    expect(result.problems.map((p) => p.kind)).toEqual(['unknown-commit']);
  });
});
