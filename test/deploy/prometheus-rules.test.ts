import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROMTOOL_BIN, RULES_FILE } from '../support/prometheus.js';

const run = promisify(execFile);
const RULES = fileURLToPath(RULES_FILE);
const UNIT_TESTS = fileURLToPath(new URL('../../deploy/prometheus-rules.test.yml', import.meta.url));

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL_BIN, args, { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

describe('deploy/prometheus-rules.yml', () => {
  it('passes promtool check rules and its unit tests (deploy/prometheus-rules.test.yml)', async () => {
    const check = await promtool('check', 'rules', RULES);
    const unit = await promtool('test', 'rules', UNIT_TESTS);

    expect(check).toMatchObject({ code: 0 });
    expect(check.out).toContain('SUCCESS: 9 rules found');
    expect(unit.out).toContain('SUCCESS');
    expect(unit.code).toBe(0);
  });

  it('the unit tests catch a rule that no longer waits 30 minutes for an open breaker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-rules-'));
    try {
      const rules = (await readFile(RULES, 'utf8')).replace('for: 30m', 'for: 5m');
      await writeFile(join(dir, 'prometheus-rules.yml'), rules);
      await writeFile(join(dir, 'prometheus-rules.test.yml'), await readFile(UNIT_TESTS, 'utf8'));

      const unit = await promtool('test', 'rules', join(dir, 'prometheus-rules.test.yml'));

      expect(unit.code).toBe(1);
      expect(unit.out).toMatch(/FAILED[\s\S]*VigilBreakerOpen/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
