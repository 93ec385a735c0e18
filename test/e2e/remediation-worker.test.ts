import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { verifyAuditFile } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMetricsRegistry } from '../../src/core/metrics.js';
import { type AuditEntry, type Finding, seriesKey } from '../../src/core/types.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { createDispatcher } from '../../src/pipeline/dispatch.js';
import { RemediationWorker } from '../../src/pipeline/remediation-worker.js';
import type { GcpClients } from '../../src/platform/index.js';
import { ApprovalStore } from '../../src/policies/approvals.js';
import { CounterStore } from '../../src/policies/counters.js';
import { candidatesFor, evaluate } from '../../src/policies/evaluate.js';
import type { PolicySnapshot } from '../../src/policies/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { finding, policyOf } from '../policies/helpers.js';
import { seedCollection } from '../support/collection.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { sandboxWithClients } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

// act decision → queue → worker (re-check, claim, audit, breaker, execute) → verification, on real
// Redis and BullMQ, against the sandbox through the real Cloud Run client.
const PHASE4 = 'nba-phase4-precompute-processors';
const WORKER_FIXTURE = fileURLToPath(new URL('../fixtures/remediation-worker.ts', import.meta.url));
let sandbox: Sandbox;
let gcp: GcpClients;
let env: TestRedis;
let dir: string;
const running: { stop(): Promise<void> }[] = [];

let close: () => Promise<void>;

beforeAll(async () => {
  ({ sandbox, gcp, close } = await sandboxWithClients());
});
afterAll(() => close());
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-worker-'));
});
afterEach(async () => {
  for (const item of running.splice(0)) await item.stop();
  sandbox.faults.clear();
  await sandbox.reset();
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const policyYaml = (mode = 'auto') => `
mode: ${mode}
remediations:
  redeploy-service:
    mode: auto
    cooldown: 1h
    max_consecutive_failures: 2
    breaker: { volume_threshold: 5, reset_timeout: 10m, timeout: 20s }
rules:
  - id: drift
    match: { metric: deploy_commits_behind }
    action: { kind: redeploy-service, params: { service: '{{labels.service}}' } }
`;
const policy = (mode = 'auto') => policyOf(policyYaml(mode));

function driftFinding(): Finding {
  const now = sandbox.clock.now();
  return finding({
    id: 'f-drift',
    metric: 'deploy_commits_behind',
    // The series the drift collector reports (the main commit is an annotation, not a label).
    series: seriesKey('deploy_commits_behind', { service: PHASE4 }),
    labels: { service: PHASE4, main_commit: sandbox.state().git.main },
    timestamp: now,
    since: now,
  });
}

/** One replica's remediation path: dispatcher + worker sharing Redis, audit log and announcements. */
async function replica(options: {
  policy: () => PolicySnapshot;
  verifyAfterMs?: number;
  attempts?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  approvals?: ApprovalStore;
}) {
  const clock = new ManualClock(sandbox.clock.now());
  const counters = new CounterStore({ redis: env.redis, keys: env.keys, clock });
  // The drift collector of the seed config: verification re-runs it to judge the triggering series.
  const collection = await seedCollection({
    sandbox,
    namespace: env.prefix.slice(0, -1),
    dataDir: dir,
    clock,
    redis: env.redis,
  });
  const audit = await AuditLog.open({ dir, replica: 'r1', clock });
  const announced: NotifyEvent[] = [];
  const logger = pino({ level: 'silent' });
  const worker = new RemediationWorker(
    {
      redisUrl: REDIS_URL,
      prefix: env.prefix.slice(0, -1),
      concurrency: 2,
      attempts: options.attempts ?? 3,
      verifyAfterMs: options.verifyAfterMs ?? 100,
      verifyAttempts: 3,
      callTimeoutMs: 10_000,
      maxQueued: 10,
      backoffMs: 50,
      ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
    },
    {
      policy: options.policy,
      counters,
      ...(options.approvals ? { approvals: options.approvals } : {}),
      audit,
      announce: (event) => announced.push(event),
      platform: { cloudRun: () => gcp.run, bigquery: () => gcp.bigquery },
      clock,
      logger,
      metrics: createMetricsRegistry({ processMetrics: false }),
      verification: { recollect: (id) => collection.tick(id) },
    },
  );
  running.push({
    stop: async () => {
      await worker.stop();
      await audit.close();
      await collection.close();
    },
  });
  const dispatch = createDispatcher({ queue: worker.queue, audit, logger });
  const decide = async (found: Finding) => {
    const snapshot = options.policy();
    const approved = (await options.approvals?.granted(found.id)) !== undefined;
    const counted = await counters.read(candidatesFor(found, snapshot));
    await dispatch(found, evaluate(found, snapshot, clock.now(), counted, { approved }), 'deployment-drift');
  };
  const events = async () =>
    (await readFile(audit.file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditEntry).event);
  const stages = () => announced.flatMap((event) => (event.type === 'remediation' ? [event.stage] : []));
  return { worker, decide, events, stages, counters, auditFile: audit.file };
}

/** The next `count` reads of a service (all, when omitted) answer HTTP `status`. */
function failServiceReads(status: number, count?: number): void {
  sandbox.faults.add({
    endpoint: 'run.services.get',
    status,
    latency_ms: 0,
    probability: 1,
    ...(count === undefined ? {} : { count }),
  });
}

/** Exactly one new revision of phase 4 and one successful update request since `requestsBefore`. */
function expectOneChange(revisionsBefore: number, requestsBefore: number): void {
  expect(phase4()?.revisions).toBe(revisionsBefore + 1);
  // Successful updates only: an aborted request of an earlier test may be logged late.
  const updates = sandbox
    .requests(requestsBefore)
    .filter((request) => request.route === 'run.services.patch' && request.status === 200);
  expect(updates).toHaveLength(1);
}

/** A remediation worker in its own process (test/fixtures/remediation-worker.ts), sharing this test's Redis keys. */
function spawnWorker(
  replicaName: string,
  extra: Record<string, string> = {},
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_FIXTURE], {
    env: {
      ...process.env,
      POLICY_YAML: policyYaml(),
      GCP_PROJECT: sandbox.project,
      GCP_REGION: sandbox.region,
      GCP_ENDPOINT: sandbox.url,
      REDIS_URL,
      AUDIT_DIR: dir,
      REPLICA: replicaName,
      QUEUE_PREFIX: env.prefix.slice(0, -1),
      COUNTER_PREFIX: env.prefix,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  running.push({ stop: async () => void child.kill('SIGKILL') });
  return Object.assign(child, { output: () => output });
}

const phase4 = () => sandbox.state().services.find((service) => service.name === PHASE4);

describe('remediation worker', () => {
  it('queues one job however often the decision repeats, redeploys once, audits and verifies it', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot });
    const drift = driftFinding();

    await r.decide(drift);
    await r.decide(drift);
    await r.decide({ ...drift, state: 'ongoing' });
    r.worker.start();
    await waitFor('verified', async () => (r.stages().includes('verified') ? true : undefined), 20_000);

    expect(await r.events()).toEqual([
      'enqueued',
      'deduplicated',
      'deduplicated',
      'started',
      'remediation-executed',
      'remediation-verified',
    ]);
    expect(r.stages()).toEqual(['executed', 'verified']);
    expect(phase4()).toMatchObject({ commits_behind_main: 0, contains_vegas_fix: true });
    expect((await verifyAuditFile(r.auditFile)).problem).toBeUndefined();
  });

  it('checks the kill switch when the job runs, not only when it was queued', async () => {
    let current = policy();
    const r = await replica({ policy: () => current });

    await r.decide(driftFinding());
    current = policy('off');
    r.worker.start();
    await waitFor('skipped', async () => (r.stages().includes('skipped') ? true : undefined), 20_000);

    expect(await r.events()).toEqual(['enqueued', 'remediation-skipped']);
    expect(phase4()?.commits_behind_main).toBe(598);
  });

  it('retries a Cloud Run outage with backoff and acts once it answers', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, attempts: 3 });
    failServiceReads(503, 1);

    await r.decide(driftFinding());
    r.worker.start();
    await waitFor('executed', async () => (r.stages().includes('executed') ? true : undefined), 20_000);

    expect((await r.events()).slice(0, 5)).toEqual([
      'enqueued',
      'started',
      'remediation-failed',
      'started',
      'remediation-executed',
    ]);
    expect(phase4()?.commits_behind_main).toBe(0);
    expect(phase4()?.revisions).toBeGreaterThan(0);
  });

  it('gives up at once on a permanent failure and counts it against the target', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, attempts: 3 });
    failServiceReads(403);

    await r.decide(driftFinding());
    r.worker.start();
    await waitFor('failed', async () => (r.stages().includes('failed') ? true : undefined), 20_000);
    const counters = await r.counters.read([{ kind: 'redeploy-service', target: PHASE4 }]);

    expect(await r.events()).toEqual(['enqueued', 'started', 'remediation-failed']);
    expect(counters.targets[`redeploy-service|${PHASE4}`]?.consecutiveFailures).toBe(1);
  });

  it('calls a change that did not stick on the platform failed and stops acting on the target', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, verifyAfterMs: 1_500 });
    const before = await gcp.run.getService(PHASE4);

    await r.decide(driftFinding());
    r.worker.start();
    await waitFor('executed', async () => (r.stages().includes('executed') ? true : undefined), 20_000);
    // A human rolls the service back before the verification looks.
    await gcp.run.updateServiceImage(PHASE4, before.image, { 'commit-sha': before.commitSha ?? '' });
    await waitFor('failed', async () => (r.stages().includes('failed') ? true : undefined), 20_000);
    const counters = await r.counters.read([{ kind: 'redeploy-service', target: PHASE4 }]);

    expect(await r.events()).toEqual(['enqueued', 'started', 'remediation-executed', 'remediation-failed']);
    expect(counters.targets[`redeploy-service|${PHASE4}`]?.consecutiveFailures).toBe(2);
  });

  it('does not count a run cut short by its own shutdown against the target', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot });
    sandbox.faults.add({ endpoint: 'run.services.patch', latency_ms: 2_000, probability: 1 });
    const requestsBefore = sandbox.requests().at(-1)?.seq ?? 0;

    await r.decide(driftFinding());
    r.worker.start();
    // Cut short while the update is on its way (held 2 s by the fault), not before it was sent.
    await waitFor(
      'the update in flight',
      () => (sandbox.inFlight().some((request) => request.route === 'run.services.patch') ? true : undefined),
      20_000,
    );
    await r.worker.stop();
    // The abandoned update may still land (shutdown cannot recall a request): let it, before the reset.
    await waitFor('the abandoned update settled', async () =>
      sandbox.requests(requestsBefore).some((request) => request.route === 'run.services.patch')
        ? true
        : undefined,
    );
    const counters = await r.counters.read([{ kind: 'redeploy-service', target: PHASE4 }]);

    expect(await r.events()).toEqual(['enqueued', 'started', 'remediation-interrupted']);
    expect(counters.targets[`redeploy-service|${PHASE4}`]?.consecutiveFailures).toBe(0);
  });

  it('after a worker is killed (SIGKILL) with its redeploy sent, the job runs again and the platform changes once', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
    // The update lands at once; the child then hangs polling the rollout, where it is killed.
    sandbox.faults.add({ endpoint: 'run.operations.get', latency_ms: 60_000, probability: 1, count: 1 });
    const revisionsBefore = phase4()?.revisions ?? 0;
    const requestsBefore = sandbox.requests().at(-1)?.seq ?? 0;
    await r.decide(driftFinding());
    const child = spawnWorker('killed');

    await waitFor(
      'the update sent by the doomed worker',
      async () =>
        sandbox.requests(requestsBefore).some((request) => request.route === 'run.services.patch')
          ? true
          : undefined,
      20_000,
    );
    child.kill('SIGKILL');
    await once(child, 'exit');
    r.worker.start();
    await waitFor(
      'the job finished elsewhere',
      async () =>
        r.stages().includes('already-satisfied') || r.stages().includes('executed') ? true : undefined,
      30_000,
    );
    const killed = (await readFile(join(dir, 'audit-killed.jsonl'), 'utf8')).trim().split('\n');

    expect(killed.map((line) => (JSON.parse(line) as AuditEntry).event)).toEqual(['started']);
    expect(await r.events()).toEqual(['enqueued', 'started', 'remediation-already-satisfied']);
    expectOneChange(revisionsBefore, requestsBefore);
  });

  it('runs a remediation that needed approval once a human granted it, re-checking the grant at run time', async () => {
    const gated = policyOf(
      policyYaml().replace('    cooldown: 1h', '    requires_approval: true\n    cooldown: 1h'),
    );
    const approvals = new ApprovalStore(env.redis, env.keys, new ManualClock(sandbox.clock.now()));
    const r = await replica({ policy: () => gated, approvals });
    const drift = driftFinding();
    await approvals.request(drift, { action: 'needs-approval', ruleId: 'drift', reason: 'test' });
    await approvals.grant(drift.id, 'alice');

    await r.decide(drift);
    r.worker.start();
    await waitFor('executed', async () => (r.stages().includes('executed') ? true : undefined), 20_000);

    expect(gated.remediations['redeploy-service']?.requires_approval).toBe(true);
    expect((await r.events()).slice(0, 3)).toEqual(['enqueued', 'started', 'remediation-executed']);
  });

  it('a worker whose event loop blocks past its lock: the job runs on another worker, the platform changes once', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
    const revisionsBefore = phase4()?.revisions ?? 0;
    const requestsBefore = sandbox.requests().at(-1)?.seq ?? 0;
    await r.decide(driftFinding());

    const frozen = spawnWorker('frozen', { BLOCK_AFTER_READ_MS: '5000' });
    await waitFor(
      'the worker froze after reading the service',
      async () => (frozen.output().includes('blocking') ? true : undefined),
      60_000,
    );
    r.worker.start();
    await waitFor(
      'the job finished on the other worker',
      async () => (r.stages().includes('executed') ? true : undefined),
      30_000,
    );
    const frozenLog = join(dir, 'audit-frozen.jsonl');
    const frozenEvents = async () =>
      (await readFile(frozenLog, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as AuditEntry).event);
    // The frozen worker wakes up and carries on with its stale read.
    await waitFor(
      'the frozen worker finished its attempt',
      async () => ((await frozenEvents()).length >= 2 ? true : undefined),
      30_000,
    );
    const frozenEntries = (await readFile(frozenLog, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);

    expect(frozenEntries.map((e) => `${e.event}:${e.outcome ?? ''}`)).toEqual([
      'started:',
      'remediation-already-satisfied:already-satisfied',
    ]);
    expect(frozenEntries[1]?.reason).toMatch(/was meanwhile deployed/);
    expect((await r.events()).slice(0, 3)).toEqual(['enqueued', 'started', 'remediation-executed']);
    expectOneChange(revisionsBefore, requestsBefore);
  }, 120_000);

  it('opens the breaker on failures, for every replica: the next decision on the target is a skip', async () => {
    const fragile = policyOf(policyYaml().replace('volume_threshold: 5', 'volume_threshold: 1'));
    const r = await replica({ policy: () => fragile, attempts: 3 });
    failServiceReads(503, 1);

    await r.decide(driftFinding());
    r.worker.start();
    await waitFor('failed', async () => (r.stages().includes('failed') ? true : undefined), 20_000);
    const counters = await r.counters.read([{ kind: 'redeploy-service', target: PHASE4 }]);
    await r.decide({ ...driftFinding(), id: 'f-drift-2' });

    expect(counters.targets[`redeploy-service|${PHASE4}`]?.breakerOpenUntil).toBeGreaterThan(0);
    // One failure and no retry (an open breaker ends the job), and no new job for the target.
    expect(await r.events()).toEqual(['enqueued', 'started', 'remediation-failed']);
    expect(phase4()?.commits_behind_main).toBe(598);
  });

  it('runs at most max_concurrent remediations of a kind at once; the others wait their turn', async () => {
    const restarts = policyOf(`
      mode: auto
      remediations:
        restart-service: { mode: auto, max_concurrent: 1, cooldown: 1h }
      rules:
        - id: restart
          match: { metric: probe_up }
          action: { kind: restart-service, params: { service: '{{labels.service}}' } }
    `);
    const r = await replica({ policy: () => restarts });
    // The first restart is slow, so a second one would overlap it if nothing stopped it.
    sandbox.faults.add({
      endpoint: 'run.services.patch',
      target: 'prediction-worker',
      latency_ms: 1_500,
      probability: 1,
    });
    const probe = (service: string) =>
      finding({
        id: `f-${service}`,
        metric: 'probe_up',
        labels: { service },
        timestamp: sandbox.clock.now(),
        since: sandbox.clock.now(),
      });

    await r.decide(probe('prediction-worker'));
    await r.decide(probe('nba-phase3-analytics-processors'));
    r.worker.start();
    await waitFor(
      'both restarted',
      async () => (r.stages().filter((stage) => stage === 'executed').length === 2 ? true : undefined),
      30_000,
    );

    const steps = (await r.events()).filter(
      (event) => event === 'started' || event === 'remediation-executed',
    );
    expect(steps).toEqual(['started', 'remediation-executed', 'started', 'remediation-executed']);
  });

  it('says a change is unverified when the platform cannot be read to check it, without blaming the target', async () => {
    const snapshot = policy();
    const r = await replica({ policy: () => snapshot, verifyAfterMs: 300 });

    await r.decide(driftFinding());
    r.worker.start();
    await waitFor('executed', async () => (r.stages().includes('executed') ? true : undefined), 20_000);
    failServiceReads(503);
    await waitFor('unverified', async () => (r.stages().includes('unverified') ? true : undefined), 20_000);
    const counters = await r.counters.read([{ kind: 'redeploy-service', target: PHASE4 }]);

    expect(await r.events()).toEqual([
      'enqueued',
      'started',
      'remediation-executed',
      'remediation-unverified',
    ]);
    expect(counters.targets[`redeploy-service|${PHASE4}`]?.consecutiveFailures).toBe(0);
  });
});
