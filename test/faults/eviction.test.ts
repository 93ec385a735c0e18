import { Redis } from 'ioredis';
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

// Drill 6 of issue 10: on an evicting Redis (`allkeys-lru`) vigil reported not-ready and still
// carried out remediations. The limits live in Redis: an evicted counter or lease lets a second
// run through, so the worker checks the policy before every claim.
const POLICY = `
mode: auto
remediations:
  restart-service: { mode: auto, cooldown: 1h }
rules:
  - id: wedged
    match: { metric: service_wedged }
    action: { kind: restart-service, params: { service: '{{labels.service}}' } }
`;

const env = useDrill({
  services: 2,
  redisArgs: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
});

describe('eviction drill: Redis with maxmemory-policy allkeys-lru', () => {
  it('runs nothing (audited skip) until the policy is noeviction, then the plan runs once', async () => {
    const { redis, sandbox, dir, workers } = env();
    const drill = env().settings('vigil-evict', POLICY);
    const deciding = await decider(drill);
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    workers.push(workerOn(sandbox, { ...drill, replica: 'a' }));
    const skipped = async () =>
      (await auditEntries(dir)).filter((entry) => entry.event === 'remediation-skipped');

    await deciding.decide([wedgedFinding('svc-00')]);
    await waitFor('the run skipped', async () => ((await skipped()).length === 1 ? true : undefined), 30_000);
    const refusedWhileEvicting = mutations(sandbox.requests(start)).length;
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
    // The next tick decides again; the skipped job no longer stands for the plan.
    await waitFor(
      'the plan ran',
      async () => {
        await deciding.decide([wedgedFinding('svc-00')]);
        const entries = await auditEntries(dir);
        return entries.some((entry) => entry.event === 'remediation-executed') ? entries : undefined;
      },
      30_000,
      500,
    );
    const entries = await auditEntries(dir);
    await deciding.close();

    expect(refusedWhileEvicting).toBe(0);
    expect((await skipped())[0]?.reason).toMatch(
      /^skip: redis maxmemory-policy is "allkeys-lru"; vigil needs "noeviction"/,
    );
    expect(mutations(sandbox.requests(start))).toHaveLength(1);
    expect(entries.filter((entry) => entry.event === 'started')).toHaveLength(1);
    expectMutationsAudited(sandbox.requests(start), entries);
  }, 90_000);
});
