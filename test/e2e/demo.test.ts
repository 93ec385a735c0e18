import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/commands/demo.js';
import { capture } from '../support/capture.js';
import { REDIS_URL } from '../support/redis.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-demo-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vigil demo', () => {
  it('tells the seed incident end to end: detect, redeploy, backfill, restart, verify, recover, audit', async () => {
    const stdout = capture();
    const stderr = capture();

    const code = await runDemo(
      { redis: REDIS_URL, timeoutMs: 90_000, dataDir: join(dir, 'demo') },
      { stdout: stdout.stream, stderr: stderr.stream },
    );

    const out = stdout.text();
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(
      'demo: the platform on 2026-02-02: phase 4 598 commits behind main, prediction-worker health error',
    );
    for (const line of [
      /\[vigil\] raised critical vegas_line_coverage = 44\.6/,
      /\[vigil\] raised critical deploy_commits_behind\{service="nba-phase4-precompute-processors"\} = 598/,
      /\[vigil\] raised critical grading_completeness\{model="ensemble_v1"\} = 4\.2/,
      /\[vigil\] raised critical probe_up\{service="prediction-worker",target="prediction-worker"\} = 0/,
      /\[vigil\] remediation verified: redeploy nba-phase4-precompute-processors at main [0-9a-f]{8}/,
      /\[vigil\] remediation verified: run grading-backfill --start-date 2026-01-26 --end-date 2026-02-01: grading_completeness\{model="catboost_v8"\} 18\.9 → 100/,
      /\[vigil\] remediation ineffective: run grading-backfill --start-date 2026-01-26 --end-date 2026-02-01: grading_completeness\{model="ensemble_v1"\} 4\.2 → 4\.2/,
      /\[vigil\] remediation verified: restart prediction-worker/,
      /\[vigil\] cleared vegas_line_coverage = 9\d/,
      /demo: the platform now: phase 4 \d+ commits behind main, prediction-worker health ok, 1 grading backfill run\(s\)/,
      /demo: the whole story happened/,
    ]) {
      expect(out).toMatch(line);
    }
    // The summary table, read back from the audit log.
    const row = (series: string) =>
      out.split('\n').find((line) => line.startsWith(`demo:   ${series} `)) ?? `(no row for ${series})`;
    expect(row('deploy_commits_behind{service="nba-phase4-precompute-processors"}')).toMatch(
      /\| redeploy-service\/nba-phase4-precompute-processors +\| executed +\| verified 598 → 0 +\| —$/,
    );
    expect(row('grading_completeness{model="catboost_v8"}')).toMatch(
      /\| run-job\/grading-backfill +\| executed +\| verified 18\.9 → 100 +\| —$/,
    );
    expect(row('grading_completeness{model="ensemble_v1"}')).toMatch(
      /\| ineffective 4\.2 → 4\.2 +\| held until 2026-02-03 \d\d:\d\d$/,
    );
    expect(row('probe_up{service="prediction-worker",target="prediction-worker"}')).toMatch(
      /\| restart-service\/prediction-worker +\| executed +\| verified 0 → 1 +\| —$/,
    );
    expect(row('vegas_line_coverage')).toMatch(/\| skip: deploy freeze: nba-phase4-precompute-processors/);
    expect(out).toContain('demo: false alarms on clean days (actions on episodes before 2026-01-26): 0');
    expect(out).toContain(
      'demo: prediction-coordinator (traffic pinned by a human): untouched, reported as pinned, not drift',
    );
    expect(out).toMatch(/demo: audit chain intact: \d+ entries in .*audit-demo\.jsonl/);
    // Each remediation ran exactly once.
    expect(out.match(/remediation executed/g)).toHaveLength(3);
    expect(await readFile(join(dir, 'demo', 'vigil.log'), 'utf8')).toContain('"msg":"vigil started"');
    // The demo's own deadline (90 s) decides on a loaded machine, not vitest's default 30 s.
  }, 120_000);
});

describe('vigil demo --scenario bad-commit', () => {
  it("main's HEAD is broken: rollback to the previous revision, do-not-deploy memory, the next decision a deploy freeze", async () => {
    const stdout = capture();
    const stderr = capture();

    const code = await runDemo(
      { redis: REDIS_URL, timeoutMs: 90_000, dataDir: join(dir, 'demo'), scenario: 'bad-commit' },
      { stdout: stdout.stream, stderr: stderr.stream },
    );

    const out = stdout.text();
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(
      /demo: bad-commit scenario: main's HEAD [0-9a-f]{8} fails its health checks once deployed/,
    );
    expect(out).toMatch(
      /\[vigil\] remediation executed: roll nba-phase4-precompute-processors back to nba-phase4-precompute-processors-\d{5}-\w+ \([0-9a-f]{8} failed its health checks\)/,
    );
    const row =
      out
        .split('\n')
        .find((line) =>
          line.startsWith('demo:   deploy_commits_behind{service="nba-phase4-precompute-processors"} '),
        ) ?? '(no drift row)';
    expect(row).toMatch(
      /\| redeploy-service\/nba-phase4-precompute-processors +\| executed +\| ineffective +\| rolled back; do-not-deploy [0-9a-f]{8} by vigil$/,
    );
    expect(out).toMatch(
      /demo: after the rollback, deploy_commits_behind\{service="nba-phase4-precompute-processors"\}: latest decision skip: deploy freeze: nba-phase4-precompute-processors must not roll to [0-9a-f]{40} \(do-not-deploy by vigil: nba-phase4-precompute-processors fails its health checks after the change/,
    );
    expect(out).toContain('demo: false alarms on clean days (actions on episodes before 2026-01-26): 0');
    expect(out).toMatch(/demo: audit chain intact: \d+ entries/);
    expect(out).toContain('demo: the whole story happened');
    // The drift is still reported as drift, pinned by vigil's rollback (not by a human).
    expect(out).toMatch(/demo: the platform now: phase 4 598 commits behind main/);
  }, 120_000);
});
