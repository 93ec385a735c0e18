import { access, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { verifyAuditFile } from '../audit/verify.js';
import { loadConfig } from '../config.js';
import type { AuditEntry } from '../core/types.js';
import { contractAction, integerFlag, UsageError, withConfig, withExamples, withJson } from './contract.js';
import { type CommandIo, exitCodeFor, processIo } from './io.js';

/**
 * `vigil audit verify|tail`: check every replica's hash chain, and read the newest entries of
 * all of them as one timeline. Exit codes of verify: 0 every chain intact, 1 a chain is broken
 * (the line is printed), 2 nothing to verify or bad input.
 */
export interface AuditLocation {
  /** Audit files to read; when empty, every `audit-*.jsonl` in `dir`. */
  readonly files?: readonly string[];
  readonly dir?: string | undefined;
  readonly config?: string | undefined;
}

export async function runAuditVerify(
  location: AuditLocation & { json?: boolean | undefined },
  io: CommandIo = processIo,
): Promise<number> {
  try {
    const files = await auditFiles(location);
    if (files.length === 0) {
      io.stderr.write(`error: no audit files found in ${await auditDir(location)}\n`);
      return 2;
    }
    let broken = 0;
    for (const file of files) {
      const report = await verifyAuditFile(file);
      if (location.json) {
        if (report.problem) broken++;
        io.stdout.write(`${JSON.stringify({ ok: !report.problem, ...report, file })}\n`);
      } else if (report.problem) {
        broken++;
        io.stdout.write(
          `${file}: BROKEN at ${report.problem} (${report.entries} entries verify before it)\n`,
        );
      } else {
        const last = report.last
          ? `, last ${new Date(report.last.time).toISOString()} ${report.last.hash.slice(0, 12)}`
          : '';
        io.stdout.write(`${file}: ok, ${report.entries} entries${last}\n`);
      }
    }
    return broken > 0 ? 1 : 0;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** The newest `count` entries over every replica's file, oldest first. */
export async function runAuditTail(
  location: AuditLocation & { count: number; json?: boolean | undefined },
  io: CommandIo = processIo,
): Promise<number> {
  try {
    const files = await auditFiles(location);
    const entries: AuditEntry[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const line of text.split('\n').slice(-(location.count + 1))) {
        if (line.trim() === '') continue;
        try {
          entries.push(JSON.parse(line) as AuditEntry);
        } catch {
          // A damaged line is verify's business; tail shows what it can read.
        }
      }
    }
    entries.sort((a, b) => a.time - b.time);
    for (const entry of entries.slice(-location.count)) {
      io.stdout.write(location.json ? `${JSON.stringify(entry)}\n` : `${formatEntry(entry)}\n`);
    }
    return 0;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** One line a human scans: when, who, what, about which finding, and why. */
export function formatEntry(entry: AuditEntry): string {
  const who = entry.actor.type === 'vigil' ? `vigil@${entry.actor.replica}` : entry.actor.name;
  const parts = [new Date(entry.time).toISOString(), `${who}#${entry.seq}`, entry.event];
  if (entry.findingId) parts.push(entry.findingId);
  if (entry.outcome) parts.push(entry.outcome);
  return entry.reason ? `${parts.join('  ')}: ${entry.reason}` : parts.join('  ');
}

async function auditDir(location: AuditLocation): Promise<string> {
  if (location.dir) return resolve(location.dir);
  const dataDir = location.config
    ? (await loadConfig(location.config)).data_dir
    : (process.env.VIGIL_DATA_DIR ?? '.vigil');
  return join(resolve(dataDir), 'audit');
}

async function auditFiles(location: AuditLocation): Promise<string[]> {
  if (location.files && location.files.length > 0) {
    // A missing file is bad input (exit 2), not a broken chain (exit 1).
    for (const file of location.files) await access(file);
    return [...location.files];
  }
  const dir = await auditDir(location);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new UsageError(`no audit directory at ${dir}: check --dir, or data_dir in the config (-c)`);
    throw error;
  });
  return names
    .filter((name) => name.startsWith('audit-') && name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(dir, name));
}

export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .description('Verify and read the hash-chained audit log (one file per replica under <data_dir>/audit)');
  const where = (command: Command) =>
    withConfig(command, false, 'config file whose data_dir holds the audit log').option(
      '--dir <dir>',
      'audit directory (default: <data_dir>/audit, data_dir from -c or VIGIL_DATA_DIR or .vigil)',
    );
  const verify = audit
    .command('verify')
    .description(
      'Check every chain: sequence, links and hashes (exit 0 intact, 1 broken, 2 nothing to verify)',
    )
    .argument('[files...]', 'audit files (default: every replica file in the audit directory)');
  withExamples(
    withJson(where(verify), 'one JSON report per file'),
    'vigil audit verify -c examples/nba-props.yaml',
    'vigil audit verify .vigil/audit/audit-replica-a.jsonl --json',
  ).action(
    contractAction((files: string[], options: { config?: string; dir?: string; json?: boolean }) =>
      runAuditVerify({ files, ...options }),
    ),
  );
  const tail = audit
    .command('tail')
    .description('Print the newest entries of every replica, oldest first')
    .option('-n, --lines <count>', 'how many entries', '20');
  withExamples(
    withJson(where(tail), 'one JSON entry per line'),
    'vigil audit tail -c examples/nba-props.yaml -n 50',
    'vigil audit tail --dir .vigil/demo/audit --json',
  ).action(
    contractAction((options: { config?: string; dir?: string; lines: string; json?: boolean }) =>
      runAuditTail({ ...options, count: integerFlag('--lines', options.lines, 1, 1_000_000) }),
    ),
  );
}
