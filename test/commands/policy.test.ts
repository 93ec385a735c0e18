import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CommandIo,
  registerPolicyCommand,
  runPolicyCheck,
  runPolicyExplain,
  runPolicySchema,
} from '../../src/commands/policy.js';
import { ManualClock } from '../../src/core/clock.js';

function capture(): CommandIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

const EXAMPLE = 'examples/policy.nba-props.yaml';
const CLOCK = new ManualClock(Date.parse('2026-02-04T12:00:00Z'));

describe('vigil policy check', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-check-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the example and summarises it (exit 0)', async () => {
    const io = capture();

    const code = await runPolicyCheck(EXAMPLE, {}, io, CLOCK);

    expect(code).toBe(0);
    expect(io.out()).toMatch(
      /^examples\/policy\.nba-props\.yaml: ok \(mode auto, 6 rules, 1 override, 1 maintenance window, sha256 [0-9a-f]{12}\)\n$/,
    );
    expect(io.err()).toBe('');
  });

  it('prints every problem with its location and exits 2', async () => {
    const file = join(dir, 'policy.yaml');
    await writeFile(
      file,
      'mode: auto\nrules:\n  - id: r\n    match: { metric: drift }\n    action: { kind: redeploy-service, params: { service: a } }\n',
    );
    await writeFile(
      join(dir, 'config.yaml'),
      'detectors:\n  - metric: drift_commits\n    use: [{ kind: zscore }]\n',
    );
    const io = capture();

    const code = await runPolicyCheck(file, { config: join(dir, 'config.yaml') }, io, CLOCK);

    expect(code).toBe(2);
    expect(io.err()).toBe(
      `${file}:4 rules[0].match.metric: unknown metric "drift": no detector in the config produces it (known: drift_commits)\n`,
    );
  });

  it('warns about expired overrides without failing', async () => {
    const file = join(dir, 'policy.yaml');
    await writeFile(
      file,
      'mode: auto\noverrides:\n  - { id: old, effect: dry-run, ends_at: 2026-02-01T00:00:00Z, created_by: a, reason: r }\n',
    );
    const io = capture();

    const code = await runPolicyCheck(file, {}, io, CLOCK);

    expect(code).toBe(0);
    expect(io.err()).toBe(`${file}:3 warning: override "old" expired at 2026-02-01 00:00; delete it\n`);
  });
});

describe('vigil policy explain', () => {
  it('--json prints the finding and each decision with its gate trail as one document', async () => {
    const io = capture();
    const finding = JSON.stringify({ metric: 'grading_completeness', labels: { model: 'catboost_v9' } });

    const code = await runPolicyExplain(
      { policy: EXAMPLE, finding, at: '2026-02-03T13:00:00Z', json: true },
      io,
    );
    const report = JSON.parse(io.out()) as { at: number; decisions: { action: string; gates: unknown[] }[] };

    expect(code).toBe(0);
    expect(report.at).toBe(Date.parse('2026-02-03T13:00:00Z'));
    expect(report.decisions[0]?.action).toBe('act');
    expect(report.decisions[0]?.gates.length).toBeGreaterThan(3);
  });

  it('prints the decision and the gate trail', async () => {
    const io = capture();
    const finding = JSON.stringify({
      metric: 'grading_completeness',
      labels: { model: 'catboost_v9' },
      since: '2026-01-26T18:00:00Z',
      timestamp: '2026-02-03T13:00:00Z',
    });

    const code = await runPolicyExplain({ policy: EXAMPLE, finding, at: '2026-02-03T13:00:00Z' }, io);

    expect(code).toBe(0);
    expect(io.out().split('\n').slice(1)).toEqual([
      'finding grading_completeness{model="catboost_v9"} raised, value 0, critical',
      'act: run run-job/grading-backfill: every gate passed [rule backfill-grading]',
      '  params: job=grading-backfill start_date=2026-01-26 end_date=2026-02-03',
      '   1. kill-switch  pass           not paused',
      '   2. override     pass           no override selects this remediation',
      '   3. maintenance  pass           outside every maintenance window',
      '   4. freeze       pass           not a redeploy',
      '   5. hold         pass           no hold on run-job/grading-backfill',
      '   6. approval     pass           run-job does not require approval',
      '   7. cooldown     pass           no remembered run of run-job/grading-backfill',
      '   8. rate-limit   pass           0/1 this hour, 0/2 today',
      '   9. breaker      pass           breaker closed for run-job/grading-backfill',
      '  10. failures     pass           0 consecutive failure(s) of run-job/grading-backfill, max 2',
      '  11. mode         pass           mode auto',
      '',
    ]);
  });

  it('uses given counters', async () => {
    const io = capture();
    const finding = JSON.stringify({
      metric: 'grading_completeness',
      labels: {},
      since: '2026-02-03T00:00:00Z',
    });
    const counters = JSON.stringify({
      targets: { 'run-job|grading-backfill': { lastRunAt: '2026-02-03T12:00:00Z' } },
    });

    await runPolicyExplain({ policy: EXAMPLE, finding, counters, at: '2026-02-03T13:00:00Z' }, io);

    expect(io.out()).toContain(
      'skip: cooldown for run-job/grading-backfill until 18:00 (last run 12:00) [rule backfill-grading]',
    );
  });

  it('rejects a malformed finding with exit 2', async () => {
    const io = capture();

    const code = await runPolicyExplain({ policy: EXAMPLE, finding: '{"labels": {}}' }, io);

    expect(code).toBe(2);
    expect(io.err()).toBe('--finding metric: Invalid input: expected string, received undefined\n');
  });
});

describe('vigil policy schema', () => {
  it('matches the committed policy.schema.json (regenerate with `vigil policy schema > policy.schema.json`)', async () => {
    const io = capture();

    runPolicySchema(io);

    expect(io.out()).toBe(await readFile('policy.schema.json', 'utf8'));
  });
});

describe('registerPolicyCommand', () => {
  it('adds check, explain and schema under policy', () => {
    const program = new Command();

    registerPolicyCommand(program);

    const policy = program.commands.find((command) => command.name() === 'policy');
    expect(policy?.commands.map((command) => command.name())).toEqual(['check', 'explain', 'schema']);
  });
});
