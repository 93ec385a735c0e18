import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkLine } from '../audit/verify.js';
import type { AuditEntry } from '../core/types.js';

/** One audit entry as the incident view shows it, with whether its chain verifies up to it. */
export interface TrailEntry extends AuditEntry {
  readonly file: string;
  /** `ok`: this entry and every one before it in its file verify; `broken`: the chain breaks here or before. */
  readonly chain: 'ok' | 'broken';
}

export interface AuditTrail {
  readonly entries: readonly TrailEntry[];
  /** Per audit file: intact, or the first problem (`line N: …`). */
  readonly files: readonly { readonly file: string; readonly entries: number; readonly problem?: string }[];
}

/**
 * The audit entries of one finding across every replica file in `dir`, each file's chain checked
 * from its first line (the files are the source of truth; Redis only mirrors them). Reads whole
 * files: an audit log is rotated by the operator long before this costs a page load.
 */
export async function auditTrail(dir: string, findingId: string | undefined): Promise<AuditTrail> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.startsWith('audit-') && name.endsWith('.jsonl'))
    .sort();
  const entries: TrailEntry[] = [];
  const files: AuditTrail['files'][number][] = [];
  for (const name of names) {
    const file = join(dir, name);
    const lines = (await readFile(file, 'utf8')).split('\n');
    let previous: AuditEntry | undefined;
    let problem: string | undefined;
    let count = 0;
    lines.forEach((text, index) => {
      if (text === '' && index === lines.length - 1) return;
      const checked = problem ? undefined : checkLine(text, previous);
      if (typeof checked === 'string') problem = `line ${index + 1}: ${checked}`;
      const entry = typeof checked === 'object' ? checked : safeParse(text);
      if (typeof checked === 'object') {
        previous = checked;
        count++;
      }
      if (entry && (findingId === undefined || entry.findingId === findingId))
        entries.push({ ...entry, file: name, chain: problem ? 'broken' : 'ok' });
    });
    files.push({ file: name, entries: count, ...(problem ? { problem } : {}) });
  }
  return { entries: entries.sort((a, b) => a.time - b.time || a.seq - b.seq), files };
}

function safeParse(text: string): AuditEntry | undefined {
  try {
    const parsed = JSON.parse(text) as AuditEntry;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
