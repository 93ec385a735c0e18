import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { systemClock } from '../../src/core/clock.js';
import type { AuditEntry, Finding } from '../../src/core/types.js';
import { createDispatcher } from '../../src/pipeline/dispatch.js';
import { REMEDIATION_QUEUE, RemediationQueue } from '../../src/pipeline/remediation-queue.js';
import { CounterStore } from '../../src/policies/counters.js';
import { candidatesFor, evaluate } from '../../src/policies/evaluate.js';
import { parseScenario, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import type { LoggedRequest } from '../../src/sandbox/request-log.js';
import { redisKeys } from '../../src/store/keys.js';
import { finding, policyOf } from '../policies/helpers.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';

/** Helpers shared by the fault drills: a sandbox with many services, worker processes, audit reads. */

const WORKER_FIXTURE = fileURLToPath(new URL('../fixtures/remediation-worker.ts', import.meta.url));

/** The Cloud Run calls that change the platform. */
export const MUTATING_ROUTES: ReadonlySet<string> = new Set(['run.services.patch', 'run.jobs.run']);

/** A tiny platform with `count` services named `svc-00`…, on a sandbox with instant operations. */
export async function manyServicesSandbox(count: number): Promise<Sandbox> {
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
  const scenario = parseScenario(
    `
name: many-services
seed: 5
project: faults-project
region: europe-west1
start_date: '2026-03-01'
default_at: 5
calendar:
  games_by_weekday: { mon: 1, tue: 1, wed: 1, thu: 1, fri: 1, sat: 1, sun: 1 }
roster: { teams: 2, players_per_team: 5 }
repo:
  history_commits: 5
  commits_by_weekday: { mon: 1, tue: 1, wed: 1, thu: 1, fri: 1, sat: 1, sun: 1 }
  vegas_fix_day: 1
vegas_line: { service: ${names[0]}, coverage_with_fix_pct: 95, coverage_without_fix_pct: 30, noise_pts: 0 }
predictions: { worker_service: ${names[1]}, wedged_volume_pct: 0 }
models:
  m1: { props: [points] }
grading: { backfill_job: backfill }
services:
${names.map((name) => `  ${name}: {}`).join('\n')}
events: []
`,
    'many-services.yaml',
  );
  return startSandbox({ scenario, operationDelayMs: 0 });
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  kill(): void;
}

/** One replica's remediation worker in its own process (test/fixtures/remediation-worker.ts). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    child,
    output: () => output,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Every entry of every replica's audit log in `dir`. */
export async function auditEntries(dir: string): Promise<AuditEntry[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
  const entries: AuditEntry[] = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    for (const line of text.split('\n')) if (line.trim()) entries.push(JSON.parse(line) as AuditEntry);
  }
  return entries;
}

/** The target (service or job) a mutating request is for, from its path. */
function targetOf(request: LoggedRequest): string | undefined {
  return /\/(?:services|jobs)\/([^/:]+)/.exec(request.path)?.[1];
}

/**
 * The invariant every drill checks from the sandbox's request log: at most one successful
 * mutating call per planned target, and every mutation preceded by a `started` audit entry (the
 * durable intent) for that target.
 */
export function expectMutationsAudited(
  requests: readonly LoggedRequest[],
  entries: readonly AuditEntry[],
): void {
  const mutations = requests.filter(
    (request) => MUTATING_ROUTES.has(request.route) && request.status === 200,
  );
  const perTarget = new Map<string, number>();
  for (const mutation of mutations) {
    const target = targetOf(mutation) ?? mutation.path;
    perTarget.set(target, (perTarget.get(target) ?? 0) + 1);
    const intent = entries.find(
      (entry) =>
        entry.event === 'started' &&
        (entry.plan as { target?: string } | undefined)?.target === target &&
        entry.time <= mutation.receivedAt,
    );
    expect(intent, `audit intent before the mutation of ${target}`).toBeDefined();
  }
  for (const [target, count] of perTarget) expect(count, `mutations of ${target}`).toBe(1);
}

export function mutations(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((request) => MUTATING_ROUTES.has(request.route) && request.status === 200);
}

/**
 * The deciding half of a replica, in the test process: act decisions on `findings` made with the
 * live counters and dispatched to the remediation queue, audited in `dir` as replica `decider`.
 */
export async function decider(options: { redisUrl: string; namespace: string; dir: string; policy: string }) {
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const keys = redisKeys(options.namespace);
  const queue = new Queue(REMEDIATION_QUEUE, { connection, prefix: keys.bullmq });
  const audit = await AuditLog.open({ dir: options.dir, replica: 'decider', clock: systemClock });
  const counters = new CounterStore({ redis: connection, keys, clock: systemClock });
  const snapshot = policyOf(options.policy);
  const dispatch = createDispatcher({
    queue: new RemediationQueue(
      queue,
      { attempts: 3, maxQueued: 1_000, addTimeoutMs: 5_000, backoffMs: 50 },
      { redis: connection, keys },
    ),
    audit,
    logger: pino({ level: 'silent' }),
  });
  return {
    queue,
    counters,
    /** Decides every finding against one read of the counters (one tick), then dispatches. */
    async decide(findings: readonly Finding[]): Promise<void> {
      const read = await counters.read(findings.flatMap((f) => candidatesFor(f, snapshot)));
      for (const f of findings) await dispatch(f, evaluate(f, snapshot, systemClock.now(), read));
    },
    async close(): Promise<void> {
      await queue.close();
      await audit.close();
      connection.disconnect();
    },
  };
}

/** True once `count` remediate jobs ended and none is active or waiting (verify jobs are delayed). */
export async function remediationsDone(queue: Queue, count: number): Promise<true | undefined> {
  const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed']);
  const remediations = await Promise.all(
    jobs.filter((job) => job.name === 'remediate').map((job) => job.getState()),
  );
  const ended = remediations.filter((state) => state === 'completed' || state === 'failed').length;
  return ended === count && remediations.length === count ? true : undefined;
}

/** A worker process of replica `replica` on the sandbox and Redis of a drill. */
export function workerOn(
  sandbox: Sandbox,
  options: { redisUrl: string; namespace: string; dir: string; policy: string; replica: string },
  extra: Record<string, string> = {},
): WorkerProcess {
  return spawnWorker({
    POLICY_YAML: options.policy,
    GCP_PROJECT: sandbox.project,
    GCP_REGION: sandbox.region,
    GCP_ENDPOINT: sandbox.url,
    REDIS_URL: options.redisUrl,
    AUDIT_DIR: options.dir,
    REPLICA: options.replica,
    QUEUE_PREFIX: options.namespace,
    COUNTER_PREFIX: options.namespace,
    ...extra,
  });
}

/** A finding that asks for a restart of `service` (rule `wedged` of the drills' policies). */
export function wedgedFinding(service: string): Finding {
  const now = systemClock.now();
  return finding({
    id: `f-${service}`,
    metric: 'service_wedged',
    labels: { service },
    timestamp: now,
    since: now - 60_000,
  });
}

/** What every drill runs on: a throwaway redis-server, a many-services sandbox, an audit dir. */
export interface Drill {
  readonly redis: ThrowawayRedis;
  readonly sandbox: Sandbox;
  readonly dir: string;
  /** Worker processes started by the test, killed after the suite. */
  readonly workers: WorkerProcess[];
  /** The decider/worker settings for `policy` under `namespace`. */
  settings(
    namespace: string,
    policy: string,
  ): { redisUrl: string; namespace: string; dir: string; policy: string };
}

/** Registers the suite's drill environment (started before, torn down after); read it in tests. */
export function useDrill(options: { services: number; redisArgs?: readonly string[] }): () => Drill {
  let drill: Drill | undefined;
  beforeAll(async () => {
    const redis = await startThrowawayRedis(options.redisArgs ?? []);
    const sandbox = await manyServicesSandbox(options.services);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-drill-'));
    drill = {
      redis,
      sandbox,
      dir,
      workers: [],
      settings: (namespace, policy) => ({ redisUrl: redis.url, namespace, dir, policy }),
    };
  });
  afterAll(async () => {
    if (!drill) return;
    for (const worker of drill.workers) worker.kill();
    await drill.sandbox.close();
    await drill.redis.stop();
    await rm(drill.dir, { recursive: true, force: true });
  });
  return () => {
    if (!drill) throw new Error('drill not started');
    return drill;
  };
}
