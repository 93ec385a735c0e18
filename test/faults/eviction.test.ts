import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import {
  auditEntries,
  decider,
  expectMutationsAudited,
  manyServicesSandbox,
  mutations,
  type WorkerProcess,
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

let redis: ThrowawayRedis;
let sandbox: Sandbox;
let dir: string;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  redis = await startThrowawayRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  sandbox = await manyServicesSandbox(2);
  dir = await mkdtemp(join(tmpdir(), 'vigil-eviction-'));
});
afterAll(async () => {
  worker?.kill();
  await sandbox.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('eviction drill: Redis with maxmemory-policy allkeys-lru', () => {
  it('runs nothing (audited skip) until the policy is noeviction, then the plan runs once', async () => {
    const drill = { redisUrl: redis.url, namespace: 'vigil-evict', dir, policy: POLICY };
    const deciding = await decider(drill);
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    worker = workerOn(sandbox, { ...drill, replica: 'a' });
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
