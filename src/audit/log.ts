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
  private chain: Promise<unknown> = Promise.resolve();
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

  /** Writes one entry and resolves with it once it is durable; rejects if it is not. */
  append(record: AuditRecord): Promise<AuditEntry> {
    const written = this.chain.then(() => this.write(record));
    // The next append waits for this one whatever its outcome; its own failure is the caller's.
    this.chain = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle.close();
  }

  private async write(record: AuditRecord): Promise<AuditEntry> {
    if (this.broken) {
      throw new PermanentError(`audit log ${this.file} is unavailable: ${this.broken.message}`, {
        code: 'audit-unavailable',
        cause: this.broken,
      });
    }
    const entry = sealEntry(record, this.last, this.clock.now(), { type: 'vigil', replica: this.replica });
    try {
      await this.handle.write(`${JSON.stringify(entry)}\n`);
      await this.handle.datasync();
    } catch (error) {
      // A failed write may have left part of a line: nothing more goes into this chain.
      this.broken = error instanceof Error ? error : new Error(errorMessage(error));
      throw new PermanentError(`audit log ${this.file}: write failed: ${errorMessage(error)}`, {
        code: 'audit-unavailable',
        cause: error,
      });
    }
    this.last = { seq: entry.seq, hash: entry.hash };
    return entry;
  }
}

/** One file per replica; the id is reduced to characters safe in a file name. */
export function auditFileName(replica: string): string {
  return `audit-${replica.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}
