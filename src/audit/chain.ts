import { createHash } from 'node:crypto';
import type { Actor, AuditEntry } from '../core/types.js';

/**
 * The hash chain of an audit log: each entry's hash is SHA-256 over the canonical JSON of the
 * entry without its hash, and that body holds the previous entry's hash. Changing, removing,
 * inserting or reordering any entry breaks every hash after it (CloudTrail's digest idea, per
 * record). Each replica writes its own chain, so no two processes ever race for one sequence.
 */

/** `prevHash` of the first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller records; the log adds sequence, time, chain links and (by default) the actor. */
export interface AuditRecord {
  readonly event: string;
  readonly actor?: Actor;
  readonly findingId?: string;
  /** Exactly what was (or would have been) done: serialisable data. */
  readonly plan?: unknown;
  readonly outcome?: string;
  readonly reason?: string;
}

export type AuditBody = Omit<AuditEntry, 'hash'>;

/**
 * JSON with object keys sorted at every level, so the same entry always hashes the same however
 * its object was built. Values must already be plain JSON (see `sealEntry`).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(body: AuditBody): string {
  const { hash: _ignored, ...rest } = body as AuditBody & { hash?: unknown };
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * The entry to write after `previous` (or first in a chain). The body goes through a JSON round
 * trip first, so what is hashed is exactly what a reader parses back (no undefined fields, no
 * NaN turned into null after the fact, dates as strings).
 */
export function sealEntry(
  record: AuditRecord,
  previous: { readonly seq: number; readonly hash: string } | undefined,
  time: number,
  actor: Actor,
): AuditEntry {
  const body: AuditBody = JSON.parse(
    JSON.stringify({
      seq: (previous?.seq ?? 0) + 1,
      time,
      actor: record.actor ?? actor,
      event: record.event,
      findingId: record.findingId,
      plan: record.plan,
      outcome: record.outcome,
      reason: record.reason,
      prevHash: previous?.hash ?? GENESIS_HASH,
    }),
  );
  return { ...body, hash: hashOf(body) };
}
