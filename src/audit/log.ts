import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { errorMessage, PermanentError } from '../core/errors.js';
import type { AuditEntry } from '../core/types.js';
import { type AuditRecord, sealEntry } from './chain.js';
import { verifyAuditFile } from './verify.js';

/**
 * This replica's append-only audit log: one JSON entry per line in `<dir>/audit-<replica>.jsonl`,
 * hash-chained (chain.ts). `append` resolves only once the entry is on disk (write + fdatasync),
 * so a caller that awaits it before acting never acts unaudited; when the log cannot write, every
 * later `append` rejects too (fail closed) until the process reopens it after a human looked.
 * Appends are serialised in call order: sequence numbers follow the order of the calls.
 */
export class AuditLog {
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private last: { seq: number; hash: string } | undefined,
    private readonly clock: Clock,
    private readonly replica: string,
  ) {}

  /**
   * Opens (or creates) this replica's log and continues its chain. A file whose chain does not
   * verify is refused with the located problem: appending to it would hide the damage.
   */
  static async open(options: { dir: string; replica: string; clock: Clock }): Promise<AuditLog> {
    await mkdir(options.dir, { recursive: true });
    const file = join(options.dir, auditFileName(options.replica));
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    let last: AuditEntry | undefined;
    if (exists) {
      const report = await verifyAuditFile(file);
      if (report.problem) {
        throw new PermanentError(
          `audit log ${file} does not verify, ${report.problem}; move it aside to start a new chain`,
          { code: 'audit-corrupt' },
        );
      }
      last = report.last;
    }
    const handle = await open(file, 'a');
    return new AuditLog(file, handle, last, options.clock, options.replica);
  }

  /** Why the log stopped accepting entries (a failed write), if it did. */
  get problem(): string | undefined {
    return this.broken ? `audit log ${this.file} is unavailable: ${this.broken.message}` : undefined;
  }

  /** Entries written so far in this chain (the last sequence number). */
  get length(): number {
    return this.last?.seq ?? 0;
  }

  /**
   * Writes one entry and resolves with it once it is durable; rejects if it is not. Appends that
   * arrive while a write is on its way to disk go out together in the next one: one write and one
   * fdatasync for the whole group (group commit), each still resolved only after that fdatasync.
   * The worker's `started`, the policy stage's decisions and the dispatcher's `enqueued` overlap
   * whenever remediations run concurrently, and one fdatasync costs 1–10 ms on a busy disk.
   */
  append(record: AuditRecord): Promise<AuditEntry> {
    return new Promise<AuditEntry>((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.handle.close();
  }

  /** Writes groups until nothing is pending; the only writer, so groups follow call order. */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) await this.write(this.pending.splice(0));
    this.flushing = undefined;
  }

  /** One write + fdatasync for the group; never throws (each caller hears through its promise). */
  private async write(group: readonly PendingAppend[]): Promise<void> {
    if (this.broken) {
      const error = new PermanentError(`audit log ${this.file} is unavailable: ${this.broken.message}`, {
        code: 'audit-unavailable',
        cause: this.broken,
      });
      for (const append of group) append.reject(error);
      return;
    }
    const sealed: { append: PendingAppend; entry: AuditEntry }[] = [];
    let last = this.last;
    for (const append of group) {
      try {
        const entry = sealEntry(append.record, last, this.clock.now(), {
          type: 'vigil',
          replica: this.replica,
        });
        sealed.push({ append, entry });
        last = { seq: entry.seq, hash: entry.hash };
      } catch (error) {
        // A record that cannot be sealed is that caller's problem, not the group's.
        append.reject(error instanceof Error ? error : new Error(errorMessage(error)));
      }
    }
    if (sealed.length === 0) return;
    try {
      await this.handle.write(sealed.map(({ entry }) => `${JSON.stringify(entry)}\n`).join(''));
      await this.handle.datasync();
    } catch (error) {
      // A failed write may have left part of a line: nothing more goes into this chain.
      this.broken = error instanceof Error ? error : new Error(errorMessage(error));
      const failure = new PermanentError(`audit log ${this.file}: write failed: ${errorMessage(error)}`, {
        code: 'audit-unavailable',
        cause: error,
      });
      for (const { append } of sealed) append.reject(failure);
      return;
    }
    this.last = last;
    for (const { append, entry } of sealed) append.resolve(entry);
  }
}

interface PendingAppend {
  readonly record: AuditRecord;
  resolve(entry: AuditEntry): void;
  reject(error: Error): void;
}

/** One file per replica; the id is reduced to characters safe in a file name. */
export function auditFileName(replica: string): string {
  return `audit-${replica.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}
