import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/core/types.js';
import type { GcpClients } from '../../src/platform/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { policyOf } from '../policies/helpers.js';
import { closedLoop } from '../support/loop.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { sandboxWithClients } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// Verification by the metric: the seed's grading backfill succeeds on the platform for every
// model, but ensemble_v1's rows cannot be graded (the sandbox makes it unfixable on purpose).
let sandbox: Sandbox;
let gcp: GcpClients;
let close: () => Promise<void>;
let env: TestRedis;
let dir: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  ({ sandbox, gcp, close } = await sandboxWithClients());
});
afterAll(() => close());
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-verify-'));
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await sandbox.reset();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const backfillPolicy = (recovery = '') =>
  policyOf(`
mode: auto
remediations:
  run-job: { mode: auto, cooldown: 6h, max_consecutive_failures: 2${recovery} }
rules:
  - id: backfill-grading
    match: { metric: grading_completeness, severity: [warning, critical], state: [raised] }
    action:
      kind: run-job
      params: { job: grading-backfill, start_date: '{{range.start_date}}', end_date: '{{range.end_date}}' }
`);

const outcomes = (entries: readonly AuditEntry[]) =>
  entries
    .filter((entry) => entry.event === 'remediation-verified' || entry.event === 'remediation-ineffective')
    .map((entry) => {
      const verification = (entry.plan as { verification: Record<string, unknown> }).verification;
      return { outcome: entry.outcome, ...verification } as Record<string, unknown>;
    })
    .sort((a, b) => (String(a.series) < String(b.series) ? -1 : 1));

/** The audit once every model's series has its verdict. */
async function fourVerdicts(loop: { entries(): Promise<AuditEntry[]> }): Promise<AuditEntry[]> {
  await waitFor(
    'four verdicts',
    async () => (outcomes(await loop.entries()).length >= 4 ? true : undefined),
    30_000,
  );
  return loop.entries();
}

describe('verification by the metric', () => {
  it('one backfill for every model: verified where grading recovered, ineffective for ensemble_v1', async () => {
    const snapshot = backfillPolicy();
    const loop = await closedLoop({ sandbox, gcp, env, dir, policy: () => snapshot });
    stops.push(() => loop.stop());

    const report = await loop.tick('grading-completeness');
    loop.worker.start();
    const entries = await fourVerdicts(loop);

    expect(report.findings.map((f) => f.labels.model).sort()).toEqual([
      'catboost_v8',
      'catboost_v9',
      'ensemble_v1',
      'ensemble_v1_1',
    ]);
    expect(entries.filter((entry) => entry.event === 'started')).toHaveLength(1);
    expect(outcomes(entries)).toEqual([
      {
        outcome: 'verified',
        series: 'grading_completeness{model="catboost_v8"}',
        before: 18.9,
        after: 100,
        baseline: 80,
      },
      {
        outcome: 'verified',
        series: 'grading_completeness{model="catboost_v9"}',
        before: 61.3,
        after: 100,
        baseline: 80,
      },
      {
        outcome: 'ineffective',
        series: 'grading_completeness{model="ensemble_v1"}',
        before: 4.2,
        after: 4.2,
        baseline: 80,
      },
      {
        outcome: 'verified',
        series: 'grading_completeness{model="ensemble_v1_1"}',
        before: 22.5,
        after: 100,
        baseline: 80,
      },
    ]);
    // The escalation follows the audited verdict: wait for it rather than race it.
    const streak = await waitFor('the escalation', async () => {
      const counters = await loop.counters.read([{ kind: 'run-job', target: 'grading-backfill' }]);
      const failures = counters.targets['run-job|grading-backfill']?.consecutiveFailures;
      return failures === 2 ? failures : undefined;
    });
    expect(streak).toBe(2);
  });

  it('an ineffective run holds the target (audited, announced); the next finding on it is skip: held', async () => {
    const snapshot = backfillPolicy();
    const loop = await closedLoop({ sandbox, gcp, env, dir, policy: () => snapshot });
    stops.push(() => loop.stop());
    const report = await loop.tick('grading-completeness');
    loop.worker.start();
    await waitFor(
      'the hold',
      async () => ((await loop.controls.holds()).length > 0 ? true : undefined),
      30_000,
    );
    const ensemble = report.findings.find((f) => f.labels.model === 'ensemble_v1');
    if (!ensemble) throw new Error('precondition: an ensemble_v1 finding');

    // A new episode on the same series, a day later: the policy decides again, and the hold says no.
    loop.clock.set(loop.clock.now() + 86_400_000 - 60_000);
    await loop.stage([{ ...ensemble, id: 'f-second', since: ensemble.since + 86_400_000, state: 'raised' }]);
    const entries = await loop.entries();

    const [hold] = await loop.controls.holds();
    expect(hold).toMatchObject({ kind: 'run-job', target: 'grading-backfill', by: 'vigil' });
    expect(hold?.reason).toContain('did not fix grading_completeness{model="ensemble_v1"}');
    expect(hold?.until).toBe((hold?.since ?? 0) + 86_400_000);
    expect(entries.filter((entry) => entry.event === 'hold-placed')).toHaveLength(1);
    expect(loop.announced).toContainEqual(
      expect.objectContaining({ type: 'control', severity: 'escalation', action: 'hold-placed' }),
    );
    const second = entries.find((entry) => entry.event === 'decision' && entry.findingId === 'f-second');
    expect(second?.outcome).toBe('skip');
    expect(second?.reason).toMatch(
      /^held since .* because run grading-backfill .* did not fix grading_completeness\{model="ensemble_v1"\} \(by vigil, until /,
    );
  });

  it('improved_by: a series that won back enough of its distance to the baseline counts as recovered', async () => {
    // ensemble_v1 stays at 4.2: it wins back nothing, so even a 1% bar is not met.
    const snapshot = backfillPolicy(', recovery: { within: 600ms, improved_by: 1% }');
    const loop = await closedLoop({ sandbox, gcp, env, dir, policy: () => snapshot });
    stops.push(() => loop.stop());

    await loop.tick('grading-completeness');
    loop.worker.start();
    const entries = await fourVerdicts(loop);

    const ineffective = entries.find((entry) => entry.event === 'remediation-ineffective');
    expect(ineffective?.reason).toMatch(/won back 0% of its distance to the baseline \(1% needed\)/);
    const verified = entries.filter((entry) => entry.event === 'remediation-verified');
    expect(verified.map((entry) => entry.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/back inside its band/)]),
    );
  });
});
