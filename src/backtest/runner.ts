import type { FindingState, Severity, Verdict } from '../core/types.js';
import { type CompiledBinding, evaluateBinding } from '../detectors/binding.js';
import { type HysteresisState, hysteresisStep } from '../detectors/lib/hysteresis.js';
import type { SeriesHistory } from '../detectors/types.js';
import type { BadRow } from './csv.js';

/**
 * While a finding is open (raised, not yet cleared) or reopened inside its expiry, the row's
 * score is multiplied by this: the daemon would not page again, so the backtest does not
 * report the same episode row after row. It stays continuous and ordered within the episode.
 */
export const HELD_SCORE_FACTOR = 0.1;

export interface BacktestStep {
  readonly verdict: Verdict;
  /** Verdict score, damped while the episode is already open (see HELD_SCORE_FACTOR). */
  readonly score: number;
  readonly transition: FindingState | null;
}

/**
 * Replays a series through a binding exactly as the daemon would, one row at a time: each row
 * is judged against the rows before it only (streaming), flagged rows are masked out of later
 * baselines, and hysteresis decides raised / ongoing / cleared.
 */
export class BacktestRunner {
  private timestamps = new Float64Array(1024).fill(Number.POSITIVE_INFINITY);
  private values = new Float64Array(1024);
  private flagged = new Uint8Array(1024);
  private length = 0;
  private hysteresis: HysteresisState | undefined;
  /**
   * The whole buffers, not a view of the first `length` rows: entries not yet written have a
   * timestamp of +Infinity, which every detector ignores (history at or after the evaluated point
   * never judges it), so one history object serves every step instead of three new views a row.
   */
  private history: SeriesHistory = this.view();

  private readonly binding: CompiledBinding;
  /** Rows whose timestamp equals the newest one before them. */
  repeated = 0;
  /** Rows whose timestamp is earlier than the newest one before them. */
  backward = 0;

  constructor(binding: CompiledBinding) {
    // One runner replays one append-only series: detectors that can keep state between
    // consecutive points (identical verdicts, less work per row) do so.
    this.binding = {
      ...binding,
      detectors: binding.detectors.map((detector) => detector.stream?.() ?? detector),
    };
  }

  /**
   * Judges the next row. A timestamp that repeats or goes back (a replayed hour in an export) is
   * counted and judged in input order, as if it came 1 ms after the newest row: history stays in
   * time order, which every window and the hysteresis rely on.
   */
  step(given: number, value: number): BacktestStep {
    const newest = this.length > 0 ? (this.timestamps[this.length - 1] as number) : Number.NEGATIVE_INFINITY;
    let timestamp = given;
    if (given <= newest) {
      if (given === newest) this.repeated++;
      else this.backward++;
      timestamp = newest + 1;
    }
    const verdict = evaluateBinding(this.binding, this.history, { timestamp, value });
    const { state, transition } = hysteresisStep(
      this.hysteresis,
      verdict,
      timestamp,
      this.binding.hysteresis,
    );
    const held = transition === 'ongoing' || (transition === 'cleared' && verdict.anomalous);
    this.hysteresis = state;
    this.append(timestamp, value, verdict.anomalous);
    return { verdict, score: held ? verdict.score * HELD_SCORE_FACTOR : verdict.score, transition };
  }

  private view(): SeriesHistory {
    return { timestamps: this.timestamps, values: this.values, anomalous: this.flagged };
  }

  private append(timestamp: number, value: number, anomalous: boolean): void {
    if (this.length === this.values.length) this.grow();
    this.timestamps[this.length] = timestamp;
    this.values[this.length] = value;
    this.flagged[this.length] = anomalous ? 1 : 0;
    this.length++;
  }

  private grow(): void {
    const size = this.values.length * 2;
    const timestamps = new Float64Array(size).fill(Number.POSITIVE_INFINITY);
    const values = new Float64Array(size);
    const flagged = new Uint8Array(size);
    timestamps.set(this.timestamps);
    values.set(this.values);
    flagged.set(this.flagged);
    this.timestamps = timestamps;
    this.values = values;
    this.flagged = flagged;
    this.history = this.view();
  }
}

/** One raised finding, for `--summary`. */
export interface TopFinding {
  readonly timestamp: string;
  readonly score: number;
  readonly severity: Severity;
  readonly reason: string;
}

/** Counts per severity, raised findings, and the strongest few. */
export class BacktestSummary {
  readonly counts: Record<Severity, number> = { ok: 0, warning: 0, critical: 0, 'insufficient-history': 0 };
  raised = 0;
  rows = 0;
  repeated = 0;
  backward = 0;
  badRows: readonly BadRow[] = [];
  readonly top: TopFinding[] = [];

  constructor(private readonly keep = 10) {}

  add(timestampText: string, step: BacktestStep): void {
    this.rows++;
    this.counts[step.verdict.severity]++;
    if (step.transition !== 'raised') return;
    this.raised++;
    const { score, severity, reason } = step.verdict;
    if (this.top.length === this.keep && score <= (this.top[this.top.length - 1] as TopFinding).score) return;
    this.top.push({ timestamp: timestampText, score, severity, reason });
    this.top.sort((a, b) => b.score - a.score);
    if (this.top.length > this.keep) this.top.pop();
  }

  /** Input-order glitches and skipped rows, from the runner and the reader. */
  input(runner: Pick<BacktestRunner, 'repeated' | 'backward'>, badRows: readonly BadRow[]): void {
    this.repeated = runner.repeated;
    this.backward = runner.backward;
    this.badRows = badRows;
  }

  toJSON() {
    return {
      rows: this.rows,
      severities: { ...this.counts },
      raised: this.raised,
      repeatedTimestamps: this.repeated,
      backwardTimestamps: this.backward,
      badRows: this.badRows,
      top: this.top,
    };
  }

  render(): string {
    const lines = [
      `rows ${this.rows}: ok ${this.counts.ok}, warning ${this.counts.warning}, critical ${this.counts.critical}, insufficient-history ${this.counts['insufficient-history']}`,
      `findings raised: ${this.raised}`,
    ];
    if (this.repeated + this.backward > 0)
      lines.push(
        `timestamps out of order, judged in input order: ${this.repeated} repeated, ${this.backward} earlier than the row before (--strict rejects them)`,
      );
    if (this.badRows.length > 0)
      lines.push(
        `bad rows skipped: ${this.badRows.length} (${this.badRows
          .slice(0, 10)
          .map((row) => `line ${row.line}`)
          .join(', ')}${this.badRows.length > 10 ? ', …' : ''})`,
      );
    for (const finding of this.top) {
      lines.push(
        `  ${finding.timestamp}  ${finding.severity}  score ${finding.score.toFixed(4)}  ${finding.reason}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}
