import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { systemClock } from '../../src/core/clock.js';
import type { AuditEntry } from '../../src/core/types.js';
import { createDispatcher } from '../../src/pipeline/dispatch.js';
import { REMEDIATION_QUEUE, RemediationQueue } from '../../src/pipeline/remediation-queue.js';
import { evaluate } from '../../src/policies/evaluate.js';
import { countersFor, finding, policyOf } from '../policies/helpers.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// act decision → plan → queue, as two replicas would do it at once, on real Redis and BullMQ.
const snapshot = policyOf(`
mode: auto
remediations:
  restart-service: { mode: auto }
rules:
  - id: wedged
    match: { metric: service_wedged }
    action: { kind: restart-service, params: { service: '{{labels.service}}' } }
`);
const wedged = finding({ id: 'f-wedged', metric: 'service_wedged', labels: { service: 'svc' } });
const decisions = evaluate(wedged, snapshot, wedged.timestamp, countersFor(wedged, snapshot));

let env: TestRedis;
let dir: string;
const closing: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-dispatch-'));
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function replica(name: string) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(REMEDIATION_QUEUE, { connection, prefix: env.keys.bullmq });
  const audit = await AuditLog.open({ dir, replica: name, clock: systemClock });
  closing.push(async () => {
    await queue.close();
    await audit.close();
    connection.disconnect();
  });
  const remediations = new RemediationQueue(
    queue,
    { attempts: 1, maxQueued: 10, addTimeoutMs: 5_000, backoffMs: 10 },
    { redis: connection, keys: env.keys },
  );
  const dispatch = createDispatcher({ queue: remediations, audit, logger: pino({ level: 'silent' }) });
  return { dispatch, queue, audit };
}

async function entries(...logs: AuditLog[]): Promise<AuditEntry[]> {
  const { readFile } = await import('node:fs/promises');
  const all: AuditEntry[] = [];
  for (const log of logs) {
    const text = await readFile(log.file, 'utf8');
    for (const line of text.split('\n')) if (line) all.push(JSON.parse(line) as AuditEntry);
  }
  return all;
}

describe('dispatching act decisions', () => {
  it('two replicas deciding at once: one enqueued entry, the other joined the job', async () => {
    const [a, b] = [await replica('a'), await replica('b')];

    await Promise.all([a.dispatch(wedged, decisions), b.dispatch(wedged, decisions)]);
    const audited = await entries(a.audit, b.audit);

    expect(audited.map((entry) => entry.event).sort()).toEqual(['deduplicated', 'enqueued']);
    const joined = audited.find((entry) => entry.event === 'deduplicated');
    expect(joined?.findingId).toBe('f-wedged');
    expect(joined?.reason).toMatch(
      /^deduplicated: joined job restart-service\|svc\|[0-9a-f]{16} \(waiting\)$/,
    );
    expect(await a.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('queues a plan again after its job failed terminally, and says so', async () => {
    const a = await replica('a');
    await a.dispatch(wedged, decisions);
    const failing = new Worker(
      REMEDIATION_QUEUE,
      async () => {
        throw new UnrecoverableError('audit log full');
      },
      { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: env.keys.bullmq },
    );
    closing.push(() => failing.close());
    await waitFor('the job failed', async () =>
      (await a.queue.getJobCounts('failed')).failed === 1 ? true : undefined,
    );
    await failing.close();

    await a.dispatch(wedged, decisions);
    const audited = await entries(a.audit);

    expect(audited.map((entry) => entry.event)).toEqual(['enqueued', 'enqueued']);
    expect(audited[1]?.reason).toMatch(/ again \(its previous job failed: audit log full\)$/);
    expect(await a.queue.getJobCounts('waiting', 'failed')).toEqual({ waiting: 1, failed: 0 });
  });
});
