import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApprove } from '../../src/commands/approve.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Decision } from '../../src/core/types.js';
import { ApprovalStore } from '../../src/policies/approvals.js';
import { capture } from '../support/capture.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { at, finding } from './helpers.js';

let env: TestRedis;
let dir: string;
beforeEach(async () => {
  env = await testRedis();
  dir = await mkdtemp(join(tmpdir(), 'vigil-approve-'));
});
afterEach(async () => {
  await env.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const needsApproval: Decision = {
  action: 'needs-approval',
  ruleId: 'drift',
  reason: 'redeploy-service/nba-phase4 requires approval (override phase4-schema-migration)',
  remediation: 'redeploy-service',
  target: 'nba-phase4',
};
const store = () => new ApprovalStore(env.redis, env.keys, new ManualClock(at('2026-02-03T14:00:00Z')));

describe('ApprovalStore', () => {
  it('keeps one request per finding, grants only what was requested, and expires both', async () => {
    const approvals = store();

    const first = await approvals.request(finding({ id: 'f-1' }), needsApproval);
    const again = await approvals.request(finding({ id: 'f-1' }), needsApproval);
    const unknown = await approvals.grant('f-2', 'alice');
    const grant = await approvals.grant('f-1', 'alice');

    expect([first, again, unknown]).toEqual([true, false, undefined]);
    expect(grant).toMatchObject({ findingId: 'f-1', approver: 'alice', request: { target: 'nba-phase4' } });
    expect(await approvals.granted('f-1')).toEqual(grant);
    expect(await approvals.pending()).toEqual([]);
    const ttl = await env.redis.pttl(`${env.prefix}approval:granted:f-1`);
    expect(ttl).toBeGreaterThan(23 * 3_600_000);
  });
});

describe('vigil approve', () => {
  async function config(): Promise<string> {
    const file = join(dir, 'vigil.yaml');
    await writeFile(
      file,
      `redis:\n  url: ${REDIS_URL}\n  key_prefix: "${env.prefix.slice(0, -1)}"\ndata_dir: ${dir}\n`,
    );
    return file;
  }
  const io = () => {
    const stdout = capture();
    const stderr = capture();
    return { io: { stdout: stdout.stream, stderr: stderr.stream }, stdout: stdout.text, stderr: stderr.text };
  };

  it('lists what waits, approves it by finding id, and refuses an id with nothing waiting', async () => {
    await store().request(finding({ id: 'f-1' }), needsApproval);
    const file = await config();
    const [list, approve, missing] = [io(), io(), io()];

    const codes = [
      await runApprove(undefined, { config: file, list: true }, list.io),
      await runApprove('f-1', { config: file, as: 'alice' }, approve.io),
      await runApprove('f-9', { config: file, as: 'alice' }, missing.io),
    ];

    expect(codes).toEqual([0, 0, 1]);
    expect(list.stdout()).toMatch(/^f-1 {2}2026-02-03T14:00:00\.000Z {2}redeploy-service\/nba-phase4 for /);
    expect(approve.stdout()).toContain('approved f-1 as alice: redeploy-service/nba-phase4');
    expect(missing.stderr()).toBe('nothing waits for approval under f-9\n');
    expect(await store().granted('f-1')).toMatchObject({ approver: 'alice' });
    // The grant is audited as the human who gave it (and announced with their name).
    const audit = (await readFile(join(dir, 'audit', 'audit-cli-alice.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(audit.at(-1) as string)).toMatchObject({
      event: 'approval-granted',
      actor: { type: 'human', name: 'alice' },
      reason: expect.stringMatching(/^approved f-1: redeploy-service\/nba-phase4 for /),
    });
  });
});
