import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { ManualClock } from '../../src/core/clock.js';
import { CounterStore } from '../../src/policies/counters.js';
import { rebuildCounters } from '../../src/policies/rebuild.js';
import { DEFAULT_REMEDIATION_SETTINGS } from '../../src/policies/schema.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-02-03T13:05:00Z');
const PLAN = { kind: 'restart-service', target: 'svc', description: 'restart svc' };

let env: TestRedis;
let dir: string;
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-rebuild-'));
});
afterEach(async () => {
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('rebuilding the counters from the audit log', () => {
  it('after Redis lost them, a cooldown from the audit log refuses the next claim; a second rebuild changes nothing', async () => {
    const clock = new ManualClock(T0 - 20 * 60_000);
    const log = await AuditLog.open({ dir, replica: 'r1', clock });
    await log.append({ event: 'started', findingId: 'f-1', plan: PLAN, reason: 'job j1' });
    clock.set(T0 - 10 * 60_000);
    await log.append({ event: 'remediation-executed', findingId: 'f-1', plan: PLAN, reason: 'restarted' });
    await log.close();
    clock.set(T0);
    const counters = new CounterStore({ redis: env.redis, keys: env.keys, clock });
    const deps = { redis: env.redis, keys: env.keys, counters, replica: 'r1', auditFile: log.file, now: T0 };

    const replayed = await rebuildCounters(deps);
    const again = await rebuildCounters(deps);
    const read = await counters.read([{ kind: 'restart-service', target: 'svc' }]);
    const claim = await counters.claim(
      'restart-service',
      'svc',
      'job-2',
      { ...DEFAULT_REMEDIATION_SETTINGS, cooldown: HOUR },
      60_000,
    );

    expect([replayed, again]).toEqual([1, null]);
    expect(read.targets['restart-service|svc']).toMatchObject({
      lastRunAt: T0 - 20 * 60_000,
      runsLastHour: 1,
    });
    expect(read.kinds['restart-service']).toEqual({ runsLastHour: 1, runsLastDay: 1 });
    expect(claim.status).toBe('refused');
  });
});
