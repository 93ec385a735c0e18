import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { AuditLog } from '../../src/audit/log.js';
import { ControlStore } from '../../src/controls/store.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import type { AuditEntry } from '../../src/core/types.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { createDispatcher } from '../../src/pipeline/dispatch.js';
import { EvidenceStore } from '../../src/pipeline/evidence.js';
import { createPolicyStage } from '../../src/pipeline/policy-stage.js';
import { RemediationWorker } from '../../src/pipeline/remediation-worker.js';
import type { TickReport } from '../../src/pipeline/tick.js';
import type { GcpClients } from '../../src/platform/index.js';
import { CounterStore } from '../../src/policies/counters.js';
import type { PolicySnapshot } from '../../src/policies/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { seedCollection } from './collection.js';
import { REDIS_URL, type TestRedis } from './redis.js';

/**
 * The whole closed loop of one replica on the seed config: tick (the seed collectors, against the
 * sandbox) → policy stage (audit, evidence) → dispatcher → BullMQ → worker → verification, which
 * re-runs the collectors through the same tick. What the daemon wires, without its HTTP and
 * schedulers, so a test drives the ticks itself.
 */
export async function closedLoop(options: {
  sandbox: Sandbox;
  gcp: GcpClients;
  env: TestRedis;
  dir: string;
  policy: () => PolicySnapshot;
  verifyAfterMs?: number;
  replica?: string;
}) {
  const { sandbox, gcp, env, dir } = options;
  const namespace = env.keys.namespace;
  const clock = new ManualClock(sandbox.clock.now());
  const counters = new CounterStore({ redis: env.redis, keys: env.keys, clock });
  const audit = await AuditLog.open({ dir, replica: options.replica ?? 'r1', clock });
  const announced: NotifyEvent[] = [];
  const announce = (event: NotifyEvent) => announced.push(event);
  const logger = pino({ level: 'silent' });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const evidence = new EvidenceStore(env.redis, env.keys);
  const controls = new ControlStore(env.redis, env.keys, clock);
  let tick: (id: string) => Promise<TickReport> = () => Promise.reject(new Error('not built'));
  const worker = new RemediationWorker(
    {
      redisUrl: REDIS_URL,
      prefix: env.keys.bullmq,
      concurrency: 2,
      attempts: 3,
      verifyAfterMs: options.verifyAfterMs ?? 300,
      verifyAttempts: 3,
      callTimeoutMs: 10_000,
      maxQueued: 10,
      backoffMs: 50,
    },
    {
      policy: options.policy,
      counters,
      audit,
      announce,
      platform: { cloudRun: () => gcp.run, bigquery: () => gcp.bigquery },
      clock,
      logger,
      metrics,
      verification: { evidence, recollect: (id) => tick(id) },
      controls,
    },
  );
  const stage = createPolicyStage({
    policy: options.policy,
    counters,
    clock,
    logger,
    metrics,
    audit,
    announce,
    evidence,
    controls,
    onDecisions: createDispatcher({ queue: worker.queue, audit, logger }),
  });
  const collection = await seedCollection({
    sandbox,
    namespace,
    dataDir: dir,
    clock,
    redis: env.redis,
    onFindings: stage,
  });
  tick = (id) => collection.tick(id);
  const entries = async (): Promise<AuditEntry[]> =>
    (await readFile(audit.file, 'utf8'))
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditEntry);
  return {
    worker,
    tick,
    stage,
    clock,
    counters,
    controls,
    announced,
    entries,
    auditFile: audit.file,
    async stop() {
      await worker.stop();
      await audit.close();
      await collection.close();
    },
  };
}
