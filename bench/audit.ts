import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/log.js';
import { verifyAuditFile } from '../src/audit/verify.js';
import { systemClock } from '../src/core/clock.js';
import { report } from './report.js';

/** Audit log: durable appends (write + fdatasync each) and full-chain verification. */
const APPENDS = 2_000;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-audit-'));
  try {
    const log = await AuditLog.open({ dir, replica: 'bench', clock: systemClock });
    const plan = {
      rule: 'drift',
      remediation: 'redeploy-service',
      target: 'nba-phase4',
      params: { service: 'x' },
    };
    const started = performance.now();
    for (let i = 0; i < APPENDS; i++) {
      await log.append({ event: 'decision', findingId: `f-${i}`, outcome: 'act', reason: 'bench', plan });
    }
    const appendMs = (performance.now() - started) / APPENDS;
    await log.close();
    const verifyStarted = performance.now();
    const verified = await verifyAuditFile(log.file);
    const verifyUs = ((performance.now() - verifyStarted) * 1000) / verified.entries;
    report({
      bench: 'audit',
      figure: 'append (write + fdatasync)',
      value: appendMs,
      unit: 'ms/entry',
      note: `over ${APPENDS}`,
    });
    report({
      bench: 'audit',
      figure: 'verify',
      value: verifyUs,
      unit: 'µs/entry',
      note: verified.problem ? `PROBLEM: ${verified.problem}` : '',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
