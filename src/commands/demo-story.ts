import { readFile } from 'node:fs/promises';
import type { AuditEntry } from '../core/types.js';
import type { NotifyEvent } from '../notify/types.js';
import type { Sandbox } from '../sandbox/index.js';

/**
 * What `vigil demo` waits for, per scenario: each follows vigil's notifications and says what it
 * has not seen yet. `run` resolves true once the whole story happened, false at the deadline.
 */
export interface Story {
  observe(event: NotifyEvent): void;
  run(timeoutMs: number): Promise<boolean>;
  missing(): string[];
}

const EXPECTED_VERIFICATIONS = ['redeploy-service', 'run-job', 'restart-service'] as const;
/** The model whose grades no backfill can fix (its rows cannot be joined to results). */
const UNFIXABLE = 'grading_completeness{model="ensemble_v1"}';
const PHASE4 = 'nba-phase4-precompute-processors';
const FROZEN = /^deploy freeze: .*\(do-not-deploy by vigil: /;

/** Waits for `done()` or the deadline, waking on every notification. */
abstract class Waiting {
  private wake: (() => void) | undefined;

  protected poke(): void {
    this.wake?.();
  }

  protected async until(done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await done()) return true;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, Math.min(1_000, Math.max(0, deadline - Date.now())));
      });
    }
    return false;
  }
}

/**
 * Follows the notifications: once the three remediations are verified it lets the sandbox live
 * two more days (now with the fix deployed) and waits for the coverage finding to clear.
 */
export class SeedStory extends Waiting implements Story {
  private readonly verified = new Set<string>();
  private unfixableIneffective = false;
  private held = false;
  private coverageCleared = false;
  private advanced = false;
  constructor(
    private readonly sandbox: Sandbox,
    private readonly say: (line: string) => void,
  ) {
    super();
  }

  observe(event: NotifyEvent): void {
    if (event.type === 'remediation' && event.stage === 'verified') this.verified.add(event.plan.kind);
    if (event.type === 'remediation' && event.stage === 'ineffective' && event.detail.startsWith(UNFIXABLE))
      this.unfixableIneffective = true;
    if (event.type === 'control' && event.action === 'hold-placed' && event.text.includes(UNFIXABLE))
      this.held = true;
    if (
      event.type === 'finding' &&
      event.finding.state === 'cleared' &&
      event.finding.metric === 'vegas_line_coverage'
    ) {
      this.coverageCleared = true;
    }
    this.poke();
  }

  run(timeoutMs: number): Promise<boolean> {
    return this.until(async () => {
      if (!this.advanced && this.judged()) {
        this.advanced = true;
        const state = await this.sandbox.advanceDays(2);
        this.say(
          `every remediation judged by its metric (ensemble_v1 ineffective and held); the sandbox lives two more days, to ${state.date}`,
        );
      }
      return this.advanced && this.coverageCleared;
    }, timeoutMs);
  }

  private judged(): boolean {
    const verified = EXPECTED_VERIFICATIONS.every((kind) => this.verified.has(kind));
    return verified && this.unfixableIneffective && this.held;
  }

  missing(): string[] {
    const lines = EXPECTED_VERIFICATIONS.filter((kind) => !this.verified.has(kind)).map(
      (kind) => `${kind} verified`,
    );
    if (!this.unfixableIneffective) lines.push(`${UNFIXABLE} ineffective after the backfill`);
    if (!this.held) lines.push('run-job/grading-backfill held');
    if (!this.coverageCleared) lines.push('vegas_line_coverage cleared');
    return lines;
  }
}

/**
 * `--scenario bad-commit`: main's HEAD is itself broken. vigil redeploys phase 4 at main, the new
 * revision fails its health probes within the verification window, vigil rolls traffic back to
 * the revision that served before, remembers the commit (do-not-deploy by vigil), and the drift
 * that is still there is decided `skip: deploy freeze … (do-not-deploy by vigil: …)`.
 */
export class BadCommitStory extends Waiting implements Story {
  private rolledBack = false;
  private remembered = false;
  private frozen = false;

  /** `auditFile`: the replica's log, where every decision (ongoing findings too) is recorded. */
  constructor(private readonly auditFile: string) {
    super();
  }

  observe(event: NotifyEvent): void {
    if (event.type === 'remediation' && event.plan.kind === 'rollback-service' && event.stage === 'executed')
      this.rolledBack = true;
    if (event.type === 'control' && event.action === 'do-not-deploy-added' && event.text.startsWith(PHASE4))
      this.remembered = true;
    if (
      event.type === 'finding' &&
      event.decisions.some(
        (d) => d.target === PHASE4 && /^deploy freeze: .*\(do-not-deploy by vigil: /.test(d.reason),
      )
    )
      this.frozen = true;
    this.poke();
  }

  run(timeoutMs: number): Promise<boolean> {
    return this.until(async () => {
      if (this.rolledBack && this.remembered && !this.frozen) this.frozen = await this.freezeAudited();
      return this.rolledBack && this.remembered && this.frozen;
    }, timeoutMs);
  }

  /** The drift decided again after the rollback, as a deploy freeze by vigil's memory. */
  private async freezeAudited(): Promise<boolean> {
    const text = await readFile(this.auditFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.includes('"event":"decision"'))
      .some((line) => {
        const entry = JSON.parse(line) as AuditEntry;
        return FROZEN.test(entry.reason ?? '') && (entry.plan as { target?: string }).target === PHASE4;
      });
  }

  missing(): string[] {
    return [
      ...(this.rolledBack ? [] : [`${PHASE4} rolled back to its previous revision`]),
      ...(this.remembered ? [] : ['the bad commit in the do-not-deploy memory']),
      ...(this.frozen ? [] : ['the next redeploy decision: skip: deploy freeze (do-not-deploy by vigil)']),
    ];
  }
}
