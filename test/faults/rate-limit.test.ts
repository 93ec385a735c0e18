import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import {
  auditEntries,
  decider,
  expectMutationsAudited,
  mutations,
  useDrill,
  wedgedFinding,
  workerOn,
} from './support.js';

// Drill 5 of issue 10: three 429s used up the job's 3 attempts, failed it and pushed the target's
// streak to max_consecutive_failures (locked out until a human acted). A 429 is the platform
// asking us to slow down: honour Retry-After, keep the attempts, blame nobody.
const POLICY = `
mode: auto
remediations:
  restart-service: { mode: auto, cooldown: 1h, max_consecutive_failures: 3 }
rules:
  - id: wedged
    match: { metric: service_wedged }
    action: { kind: restart-service, params: { service: '{{labels.service}}' } }
`;

const env = useDrill({ services: 2 });

describe('rate-limit drill: Cloud Run answers 429 with Retry-After', () => {
  it('waits the Retry-After, keeps its attempts and the target clean, then restarts once', async () => {
    const { sandbox, dir, workers } = env();
    const drill = env().settings('vigil-429', POLICY);
    const deciding = await decider(drill);
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    sandbox.faults.add({
      endpoint: 'run.services.patch',
      status: 429,
      retry_after_s: 1,
      latency_ms: 0,
      probability: 1,
      count: 3,
    });
    workers.push(workerOn(sandbox, { ...drill, replica: 'a' }));

    await deciding.decide([wedgedFinding('svc-00')]);
    const entries = await waitFor(
      'the restart',
      async () => {
        const all = await auditEntries(dir);
        return all.some((entry) => entry.event === 'remediation-executed') ? all : undefined;
      },
      40_000,
    );
    const counters = await deciding.counters.read([{ kind: 'restart-service', target: 'svc-00' }]);
    const job = (await deciding.queue.getJobs(['completed'])).find((j) => j.name === 'remediate');
    await deciding.close();

    const deferred = entries.filter((entry) => entry.event === 'remediation-deferred');
    expect(deferred).toHaveLength(3);
    expect(deferred[0]?.reason).toMatch(/retrying job .* in 1 s, not counted as a failure$/);
    expect(entries.filter((entry) => entry.event === 'remediation-failed')).toHaveLength(0);
    expect(counters.targets['restart-service|svc-00']?.consecutiveFailures).toBe(0);
    expect(job?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
    const patches = sandbox.requests(start).filter((request) => request.route === 'run.services.patch');
    expect(patches.map((request) => request.status)).toEqual([429, 429, 429, 200]);
    // Retry-After honoured: no retry came sooner than a second after the 429 before it.
    for (let i = 1; i < patches.length; i++) {
      expect((patches[i]?.receivedAt ?? 0) - (patches[i - 1]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
    }
    expect(mutations(sandbox.requests(start))).toHaveLength(1);
    expectMutationsAudited(sandbox.requests(start), entries);
  }, 90_000);
});
