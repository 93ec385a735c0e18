import { createReadStream } from 'node:fs';
import type { AuditEntry } from '../core/types.js';
import { GENESIS_HASH, hashOf } from './chain.js';

/** The result of checking one audit file from its first line to its last. */
export interface AuditFileReport {
  readonly file: string;
  /** Entries that passed every check, in order (up to the first problem). */
  readonly entries: number;
  /** The last good entry, when there is one. */
  readonly last?: AuditEntry;
  /** The first problem, located: `line N: what is wrong`. Absent when the chain is intact. */
  readonly problem?: string;
}

/**
 * Reads an audit file line by line and checks that every line is a complete entry, that sequence
 * numbers run 1, 2, 3…, that each entry links to the hash of the one before, and that each hash
 * matches its entry. Stops at the first problem and says where it is: after a change, every later
 * hash is wrong too, so the first broken line is the one that was touched.
 */
export async function verifyAuditFile(file: string): Promise<AuditFileReport> {
  let line = 0;
  let last: AuditEntry | undefined;
  let pending = '';
  const fail = (problem: string): AuditFileReport => ({
    file,
    entries: last?.seq ?? 0,
    ...(last ? { last } : {}),
    problem: `line ${line}: ${problem}`,
  });
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    pending += chunk as string;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      line++;
      const problem = checkLine(pending.slice(0, newline), last);
      if (typeof problem === 'string') return fail(problem);
      last = problem;
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  if (pending !== '') {
    line++;
    return fail('incomplete last record (no newline): the writer stopped mid-record');
  }
  return { file, entries: last?.seq ?? 0, ...(last ? { last } : {}) };
}

/** The entry on this line, or what is wrong with it. */
export function checkLine(text: string, previous: AuditEntry | undefined): AuditEntry | string {
  let entry: AuditEntry;
  try {
    entry = JSON.parse(text) as AuditEntry;
  } catch {
    return 'not a JSON record';
  }
  if (entry === null || typeof entry !== 'object' || typeof entry.hash !== 'string') {
    return 'not an audit entry (no hash)';
  }
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (entry.seq !== expectedSeq) return `sequence ${String(entry.seq)}, expected ${expectedSeq}`;
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (entry.prevHash !== expectedPrev) {
    return `prevHash does not match the previous entry's hash (an entry was removed, inserted or reordered)`;
  }
  if (hashOf(entry) !== entry.hash) return 'hash does not match the entry (the entry was altered)';
  return entry;
}
