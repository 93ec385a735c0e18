import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import {
  auditEntries,
  decider,
  expectMutationsAudited,
  mutations,
  remediationsDone,
  useDrill,
  wedgedFinding,
  workerOn,
} from './support.js';

// Drill 1 of issue 10: 20 wedged services decided in one tick, `max_per_hour {target: 1, global: 3}`,
// two replicas' workers in their own processes racing for the runs. Before the claim-time limits,
// every one of the 20 ran (the worker re-checked with zeroed kind counters; the claim only knew
// the cooldown).
const POLICY = `
mode: auto
remediations:
  restart-service:
    mode: auto
    cooldown: 1h
    max_per_hour: { target: 1, global: 3 }
    max_per_day: { target: 3, global: 12 }
    max_concurrent: 1
rules:
  - id: wedged
    match: { metric: service_wedged }
    action: { kind: restart-service, params: { service: '{{labels.service}}' } }
`;
const SERVICES = 20;

const env = useDrill({ services: SERVICES });

describe('storm drill: 20 wedged services, two replicas', () => {
  it('restarts exactly max_per_hour.global services and audits every other decision as a skip with its reason', async () => {
    const { sandbox, dir, workers } = env();
    const drill = env().settings('vigil-storm', POLICY);
    const deciding = await decider(drill);
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    for (const replica of ['a', 'b'])
      workers.push(workerOn(sandbox, { ...drill, replica }, { CONCURRENCY: '4' }));

    // One tick decides all 20 before any run is counted: every decision is `act`.
    await deciding.decide(
      Array.from({ length: SERVICES }, (_, i) => wedgedFinding(`svc-${String(i).padStart(2, '0')}`)),
    );
    await waitFor('every remediation job finished', () => remediationsDone(deciding.queue, SERVICES), 60_000);
    const entries = await auditEntries(dir);
    const requests = sandbox.requests(start);
    const skips = entries.filter((entry) => entry.event === 'remediation-skipped');
    await deciding.close();

    expect(entries.filter((entry) => entry.event === 'enqueued')).toHaveLength(SERVICES);
    expect(mutations(requests)).toHaveLength(3);
    expect(entries.filter((entry) => entry.event === 'started')).toHaveLength(3);
    expect(entries.filter((entry) => entry.event === 'remediation-executed')).toHaveLength(3);
    expect(skips).toHaveLength(SERVICES - 3);
    for (const skip of skips) {
      expect(skip.reason).toMatch(
        /^skip: rate limit: restart-service ran 3 time\(s\) in the last hour \(remediations\.restart-service\.max_per_hour\.global: 3\)$/,
      );
    }
    expectMutationsAudited(requests, entries);
  }, 120_000);
});
