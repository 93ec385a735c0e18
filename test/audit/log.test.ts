import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sealEntry } from '../../src/audit/chain.js';
import { AuditLog } from '../../src/audit/log.js';
import { verifyAuditFile } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/core/clock.js';
import type { AuditEntry } from '../../src/core/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-audit-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const clock = () => new ManualClock(Date.UTC(2026, 1, 2, 12));

async function logWith(events: string[], replica = 'r1'): Promise<AuditLog> {
  const log = await AuditLog.open({ dir, replica, clock: clock() });
  for (const event of events) await log.append({ event, findingId: 'f-1', outcome: 'act', reason: event });
  return log;
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('AuditLog', () => {
  it('writes a chain that verifies: sequence 1..n, each entry linked to the previous hash', async () => {
    const log = await logWith(['a', 'b', 'c']);
    await log.close();

    const entries = (await lines(log.file)).map((line) => JSON.parse(line) as AuditEntry);
    const report = await verifyAuditFile(log.file);

    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(entries[0]?.actor).toEqual({ type: 'vigil', replica: 'r1' });
    expect(report).toEqual({ file: log.file, entries: 3, last: entries[2] });
  });

  it('continues the same chain after a restart', async () => {
    await (await logWith(['a', 'b'])).close();

    const reopened = await logWith(['c']);
    await reopened.close();

    expect(reopened.length).toBe(3);
    expect((await verifyAuditFile(reopened.file)).problem).toBeUndefined();
  });

  it('numbers concurrent appends in call order', async () => {
    const log = await AuditLog.open({ dir, replica: 'r1', clock: clock() });

    const written = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append({ event: `e${i}` })));
    await log.close();

    expect(written.map((e) => [e.seq, e.event])).toEqual(
      Array.from({ length: 50 }, (_, i) => [i + 1, `e${i}`]),
    );
    expect((await verifyAuditFile(log.file)).entries).toBe(50);
  });

  it('hashes exactly what a reader parses back (undefined fields, NaN, dates)', async () => {
    const log = await AuditLog.open({ dir, replica: 'r1', clock: clock() });

    await log.append({
      event: 'decision',
      plan: { a: undefined, b: Number.NaN, at: new Date(0), list: [1, 'x'] },
    });
    await log.close();

    expect((await verifyAuditFile(log.file)).problem).toBeUndefined();
  });

  it('keeps one file per replica, each its own chain', async () => {
    const one = await logWith(['a'], 'host-1');
    const two = await logWith(['b', 'c'], 'host/2');
    await Promise.all([one.close(), two.close()]);

    expect(one.file).not.toBe(two.file);
    expect(two.file.endsWith('audit-host_2.jsonl')).toBe(true);
    expect([(await verifyAuditFile(one.file)).entries, (await verifyAuditFile(two.file)).entries]).toEqual([
      1, 2,
    ]);
  });

  it('writes appends that arrive during a write as one group: one fdatasync, each resolved after it', async () => {
    const log = await AuditLog.open({ dir, replica: 'r1', clock: clock() });
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const events: string[] = [];
    const datasync = fileHandle.datasync;
    vi.spyOn(fileHandle, 'datasync').mockImplementation(async function (this: unknown) {
      await datasync.call(this);
      events.push('synced');
    });

    const written = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        log.append({ event: `e${i}` }).then(async (entry) => {
          // Resolved means on disk: the line is in the file already.
          const onDisk = (await lines(log.file)).some((line) => line.includes(`"seq":${entry.seq},`));
          events.push(onDisk ? `e${i}` : `e${i} not on disk`);
          return entry;
        }),
      ),
    );
    await log.close();

    // The first append goes out alone; the 19 that arrived meanwhile share the next write.
    expect(events.filter((event) => event === 'synced')).toHaveLength(2);
    expect(events.slice(0, 2)).toEqual(['synced', 'e0']);
    expect(events[2]).toBe('synced');
    expect(new Set(events.slice(3))).toEqual(new Set(Array.from({ length: 19 }, (_, i) => `e${i + 1}`)));
    expect(written.map((entry) => entry.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await verifyAuditFile(log.file)).entries).toBe(20);
  });

  it('rejects every append of a group whose write fails', async () => {
    const log = await logWith(['a']);
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const datasync = fileHandle.datasync;
    vi.spyOn(fileHandle, 'datasync')
      .mockImplementationOnce(function (this: unknown) {
        return datasync.call(this);
      })
      .mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));

    // `b` goes out alone; `c` and `d`, queued behind it, share the next write and its failure.
    const outcomes = await Promise.allSettled(['b', 'c', 'd'].map((event) => log.append({ event })));
    await log.close();

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const outcome of outcomes.slice(1))
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'audit-unavailable' });
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/write failed: EIO/);
  });

  it('rejects this and every later append once a write fails, and never resumes the chain', async () => {
    const log = await logWith(['a']);
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    vi.spyOn(fileHandle, 'datasync').mockRejectedValueOnce(
      Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }),
    );

    const failed = log.append({ event: 'b' });
    await expect(failed).rejects.toMatchObject({ code: 'audit-unavailable' });
    await expect(log.append({ event: 'c' })).rejects.toThrow(/unavailable: EIO/);
    await log.close();
  });

  it('refuses to open a chain that does not verify, saying where', async () => {
    const log = await logWith(['a', 'b', 'c']);
    await log.close();
    const text = await readFile(log.file, 'utf8');
    await writeFile(log.file, text.replace('"reason":"b"', '"reason":"B"'));

    await expect(AuditLog.open({ dir, replica: 'r1', clock: clock() })).rejects.toMatchObject({
      code: 'audit-corrupt',
      message: expect.stringContaining('line 2: hash does not match the entry'),
    });
  });
});

describe('verifyAuditFile', () => {
  type Tamper = (lines: string[]) => string;
  const reseal = (line: string, change: (entry: AuditEntry) => AuditEntry): string => {
    const entry = change(JSON.parse(line) as AuditEntry);
    // A forger who recomputes the altered entry's own hash still breaks the next link.
    const previous = entry.seq > 1 ? { seq: entry.seq - 1, hash: entry.prevHash } : undefined;
    const { seq: _s, time, actor, prevHash: _p, hash: _h, ...rest } = entry;
    return JSON.stringify(sealEntry(rest, previous, time, actor));
  };
  const file = (lines: (string | undefined)[]) => `${lines.join('\n')}\n`;
  const cases: [string, Tamper, string][] = [
    [
      'a changed field',
      (l) => file([l[0], l[1]?.replace('"outcome":"act"', '"outcome":"skip"'), l[2], l[3]]),
      'line 2: hash does not match the entry (the entry was altered)',
    ],
    ['a removed entry', (l) => file([l[0], l[2], l[3]]), 'line 2: sequence 3, expected 2'],
    ['two entries swapped', (l) => file([l[0], l[2], l[1], l[3]]), 'line 2: sequence 3, expected 2'],
    [
      'an altered entry re-hashed',
      (l) => file([l[0], reseal(l[1] as string, (e) => ({ ...e, reason: 'nothing happened' })), l[2], l[3]]),
      'line 3: prevHash does not match',
    ],
    [
      'a truncated last record',
      (l) => `${file([l[0], l[1], l[2]])}${l[3]?.slice(0, 40)}`,
      'line 4: incomplete last record',
    ],
    ['garbage', (l) => file([l[0], 'not json', l[2], l[3]]), 'line 2: not a JSON record'],
  ];

  it.each(cases)('finds %s at its line', async (_name, tamper, expected) => {
    const log = await logWith(['a', 'b', 'c', 'd']);
    await log.close();
    await writeFile(log.file, tamper(await lines(log.file)));

    const report = await verifyAuditFile(log.file);

    expect(report.problem).toContain(expected);
  });
});
