import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { runAuditTail, runAuditVerify } from '../../src/commands/audit.js';
import { ManualClock } from '../../src/core/clock.js';
import { capture } from '../support/capture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-audit-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two replicas that each wrote a few decisions, interleaved in time. */
async function twoReplicas(): Promise<{ first: string; second: string }> {
  const clock = new ManualClock(Date.UTC(2026, 1, 2, 12));
  const first = await AuditLog.open({ dir, replica: 'host-1', clock });
  const second = await AuditLog.open({ dir, replica: 'host-2', clock });
  for (let i = 0; i < 3; i++) {
    await first.append({ event: 'decision', findingId: `f-${i}`, outcome: 'act', reason: `one ${i}` });
    clock.advance(1_000);
    await second.append({ event: 'decision', findingId: `f-${i}`, outcome: 'skip', reason: `two ${i}` });
    clock.advance(1_000);
  }
  await Promise.all([first.close(), second.close()]);
  return { first: first.file, second: second.file };
}

function io() {
  const stdout = capture();
  const stderr = capture();
  return { io: { stdout: stdout.stream, stderr: stderr.stream }, stdout: stdout.text, stderr: stderr.text };
}

describe('vigil audit verify', () => {
  it('reports every replica chain intact (exit 0)', async () => {
    const { first, second } = await twoReplicas();
    const out = io();

    const code = await runAuditVerify({ dir }, out.io);

    expect(code).toBe(0);
    expect(out.stdout()).toContain(`${first}: ok, 3 entries, last 2026-02-02T12:00:04.000Z`);
    expect(out.stdout()).toContain(`${second}: ok, 3 entries, last 2026-02-02T12:00:05.000Z`);
  });

  it('names the file and line of a tampered entry (exit 1)', async () => {
    const { second } = await twoReplicas();
    await writeFile(second, (await readFile(second, 'utf8')).replace('"outcome":"skip"', '"outcome":"act"'));
    const out = io();

    const code = await runAuditVerify({ dir }, out.io);

    expect(code).toBe(1);
    expect(out.stdout()).toContain(
      `${second}: BROKEN at line 1: hash does not match the entry (the entry was altered) (0 entries verify before it)`,
    );
  });

  it('says so when there is nothing to verify (exit 2)', async () => {
    const out = io();

    const code = await runAuditVerify({ dir: join(dir, 'none') }, out.io);

    expect(code).toBe(2);
    expect(out.stderr()).toBe(
      `error: no audit directory at ${join(dir, 'none')}: check --dir, or data_dir in the config (-c)\n`,
    );
  });

  it('says so when the directory holds no audit file (exit 2)', async () => {
    const out = io();
    await mkdir(join(dir, 'empty'));

    const code = await runAuditVerify({ dir: join(dir, 'empty') }, out.io);

    expect(code).toBe(2);
    expect(out.stderr()).toBe(`error: no audit files found in ${join(dir, 'empty')}\n`);
  });
});

describe('vigil audit tail', () => {
  it('merges the replicas into one timeline, newest last', async () => {
    await twoReplicas();
    const out = io();

    const code = await runAuditTail({ dir, count: 3 }, out.io);

    expect(code).toBe(0);
    expect(out.stdout().split('\n').filter(Boolean)).toEqual([
      '2026-02-02T12:00:03.000Z  vigil@host-2#2  decision  f-1  skip: two 1',
      '2026-02-02T12:00:04.000Z  vigil@host-1#3  decision  f-2  act: one 2',
      '2026-02-02T12:00:05.000Z  vigil@host-2#3  decision  f-2  skip: two 2',
    ]);
  });
});
