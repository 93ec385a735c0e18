import { describe, expect, it } from 'vitest';
import { finding } from '../policies/helpers.js';
import { waitFor } from '../support/wait.js';
import { auditEntries, decider, expectMutationsAudited, mutations, useDrill, workerOn } from './support.js';

// Drill 3 of issue 10: a RunJob call passed its timeout, the retry started an execution, then the
// hung request landed too: 2 executions, 1 `executed` in the audit. Now a timed-out RunJob is
// fenced: before a retry may run the job again, the worker watches for the execution the hung
// call would start, for one more call timeout.
const POLICY = `
mode: auto
remediations:
  run-job:
    mode: auto
    cooldown: 1h
    breaker: { timeout: 3s, volume_threshold: 10 }
rules:
  - id: backfill
    match: { metric: grading_gap }
    action:
      kind: run-job
      params: { job: '{{labels.job}}', start_date: '2026-03-01', end_date: '2026-03-02' }
`;
const env = useDrill({ services: 2 });

describe('hung RunJob drill: the call times out and lands late', () => {
  it('starts one execution, found by the fence, never a second by the retry', async () => {
    const { sandbox, dir, workers } = env();
    const drill = env().settings('vigil-hung', POLICY);
    const deciding = await decider(drill);
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    // Held 2 s (past the 1.5 s call timeout: half the breaker's 3 s), then carried out although the client left.
    sandbox.faults.add({
      endpoint: 'run.jobs.run',
      latency_ms: 1_500,
      land_late: true,
      count: 1,
      probability: 1,
    });
    workers.push(workerOn(sandbox, { ...drill, replica: 'a' }));
    // Executions carry the sandbox's clock: the episode starts on it.
    const now = sandbox.clock.now();

    await deciding.decide([
      finding({
        id: 'f-gap',
        metric: 'grading_gap',
        labels: { job: 'backfill' },
        timestamp: now,
        since: now - 60_000,
      }),
    ]);
    const entries = await waitFor(
      'the outcome',
      async () => {
        const all = await auditEntries(dir);
        return all.some((e) => e.event === 'remediation-executed' || e.event === 'remediation-failed')
          ? all
          : undefined;
      },
      40_000,
    );
    // Let anything still held by the fault land before counting.
    await waitFor('nothing in flight', () => (sandbox.inFlight().length === 0 ? true : undefined), 10_000);
    const runs = sandbox.requests(start).filter((request) => request.route === 'run.jobs.run');
    await deciding.close();

    expect(mutations(sandbox.requests(start))).toHaveLength(1);
    expect(runs.filter((request) => request.status === 200)).toHaveLength(1);
    expect(entries.filter((e) => e.event === 'remediation-executed')).toHaveLength(1);
    expect(entries.find((e) => e.event === 'remediation-executed')?.reason).toMatch(
      /by the call that timed out/,
    );
    expectMutationsAudited(sandbox.requests(start), entries);
  }, 90_000);
});
