import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { systemClock } from '../../src/core/clock.js';
import type { Finding } from '../../src/core/types.js';
import { createDispatcher } from '../../src/pipeline/dispatch.js';
import { REMEDIATION_QUEUE, RemediationQueue } from '../../src/pipeline/remediation-queue.js';
import { CounterStore } from '../../src/policies/counters.js';
import { candidatesFor, evaluate } from '../../src/policies/evaluate.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { redisKeys } from '../../src/store/keys.js';
import { finding, policyOf } from '../policies/helpers.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import {
  auditEntries,
  expectMutationsAudited,
  manyServicesSandbox,
  mutations,
  spawnWorker,
  type WorkerProcess,
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
const NAMESPACE = 'vigil-storm';

let redis: ThrowawayRedis;
let sandbox: Sandbox;
let dir: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startThrowawayRedis();
  sandbox = await manyServicesSandbox(SERVICES);
  dir = await mkdtemp(join(tmpdir(), 'vigil-storm-'));
});
afterAll(async () => {
  for (const worker of workers) worker.kill();
  await sandbox.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

function wedged(index: number): Finding {
  const service = `svc-${String(index).padStart(2, '0')}`;
  const now = systemClock.now();
  return finding({
    id: `f-${service}`,
    metric: 'service_wedged',
    labels: { service },
    timestamp: now,
    since: now - 60_000,
  });
}

/** True once `count` remediate jobs ended and none is active or waiting (verify jobs are delayed). */
async function remediationsDone(queue: Queue, count: number): Promise<true | undefined> {
  const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed']);
  const remediations = await Promise.all(
    jobs.filter((job) => job.name === 'remediate').map((job) => job.getState()),
  );
  const ended = remediations.filter((state) => state === 'completed' || state === 'failed').length;
  return ended === count && remediations.length === count ? true : undefined;
}

describe('storm drill: 20 wedged services, two replicas', () => {
  it('restarts exactly max_per_hour.global services and audits every other decision as a skip with its reason', async () => {
    const snapshot = policyOf(POLICY);
    const { Redis } = await import('ioredis');
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(REMEDIATION_QUEUE, { connection, prefix: NAMESPACE });
    const audit = await AuditLog.open({ dir, replica: 'decider', clock: systemClock });
    const counters = new CounterStore({ redis: connection, keys: redisKeys(NAMESPACE), clock: systemClock });
    const dispatch = createDispatcher({
      queue: new RemediationQueue(
        queue,
        { attempts: 3, maxQueued: 100, addTimeoutMs: 5_000, backoffMs: 50 },
        { redis: connection, keys: redisKeys(NAMESPACE) },
      ),
      audit,
      logger: pino({ level: 'silent' }),
    });
    const start = sandbox.requests().at(-1)?.seq ?? 0;
    for (const replica of ['a', 'b']) {
      workers.push(
        spawnWorker({
          POLICY_YAML: POLICY,
          GCP_PROJECT: sandbox.project,
          GCP_REGION: sandbox.region,
          GCP_ENDPOINT: sandbox.url,
          REDIS_URL: redis.url,
          AUDIT_DIR: dir,
          REPLICA: replica,
          QUEUE_PREFIX: NAMESPACE,
          COUNTER_PREFIX: NAMESPACE,
          CONCURRENCY: '4',
        }),
      );
    }

    // One tick decides all 20 before any run is counted: every decision is `act`.
    const findings = Array.from({ length: SERVICES }, (_, i) => wedged(i));
    const read = await counters.read(findings.flatMap((f) => candidatesFor(f, snapshot)));
    for (const f of findings) await dispatch(f, evaluate(f, snapshot, systemClock.now(), read));
    await waitFor('every remediation job finished', () => remediationsDone(queue, SERVICES), 60_000);
    const entries = await auditEntries(dir);
    const requests = sandbox.requests(start);
    const skips = entries.filter((entry) => entry.event === 'remediation-skipped');
    await queue.close();
    await audit.close();
    connection.disconnect();

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
