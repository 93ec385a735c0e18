import { createHash } from 'node:crypto';
import type { CollectProblem, SeriesStatus } from '../collectors/types.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { counter, gauge, type MetricsRegistry } from '../core/metrics.js';
import {
  type Finding,
  type FindingState,
  type Labels,
  type Sample,
  type SeriesKey,
  seriesKey,
  type Verdict,
} from '../core/types.js';
import { bindingMatches, type CompiledBinding, evaluateBinding } from '../detectors/binding.js';
import { type HysteresisState, hysteresisStep } from '../detectors/lib/hysteresis.js';
import type { HistoryStore, PointFlag, StoredSeries } from '../store/history.js';
import type { RunningCollector } from './running.js';

/**
 * One tick of one collector: collect (timeout, abort, no overlap) → store → evaluate each
 * series' detector bindings on its newest point → hysteresis → findings → the policy stage.
 */
export interface TickDeps {
  readonly store: HistoryStore;
  readonly bindings: readonly CompiledBinding[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Points read per series for its detectors (the longest window plus slack). */
  readonly readPoints: number;
  /** False for `vigil once`: evaluate and report, but leave hysteresis state and flags untouched. */
  readonly persist: boolean;
  /** Series this process has collected, for `vigil_series_tracked`; owned by the caller. */
  readonly seenSeries: Set<SeriesKey>;
  /** The policy stage. Receives the findings of this tick (raised, ongoing, cleared). */
  readonly onFindings: (findings: readonly Finding[]) => Promise<void>;
}

/** One evaluated (or not evaluable) series in a tick's report. */
export interface SeriesReport {
  readonly series: SeriesKey;
  readonly metric: string;
  readonly labels: Labels;
  readonly timestamp?: number;
  readonly value?: number;
  readonly verdict?: Verdict;
  readonly transition?: FindingState | null;
  readonly status?: SeriesStatus;
}

export interface TickReport {
  readonly collector: string;
  readonly outcome: 'success' | 'failure' | 'skipped';
  readonly error?: string;
  readonly samples: number;
  readonly problems: readonly CollectProblem[];
  readonly series: readonly SeriesReport[];
  readonly findings: readonly Finding[];
}

interface Evaluation {
  readonly key: SeriesKey;
  readonly binding: number;
  readonly latest: Sample;
  readonly stateField: string;
}

export async function runTick(
  running: RunningCollector,
  deps: TickDeps,
  shutdown?: AbortSignal,
): Promise<TickReport> {
  const base = { collector: running.id, samples: 0, problems: [], series: [], findings: [] };
  const outcome = await running.run(shutdown);
  if (outcome.outcome === 'skipped') return { ...base, outcome: 'skipped', error: outcome.reason };
  if (outcome.outcome === 'failure') return { ...base, outcome: 'failure', error: outcome.error.message };
  const { samples, problems, statuses } = outcome.result;
  const metrics = tickMetrics(deps.metrics);
  metrics.samples.inc({ collector: running.id }, samples.length);
  for (const problem of problems) metrics.problems.inc({ collector: running.id, kind: problem.kind });

  await deps.store.write(samples, deps.clock.now());
  const evaluations = planEvaluations(samples, deps.bindings);
  const { history, states } = await deps.store.readForDetection(
    [...new Set(evaluations.map((e) => e.key))],
    deps.readPoints,
    evaluations.map((e) => e.stateField),
  );
  const results = evaluations.map((evaluation) => evaluate(evaluation, deps.bindings, history, states));
  if (deps.persist) await commit(results, deps.store);

  const findings = results.flatMap((result) => (result.finding ? [result.finding] : []));
  for (const finding of findings) {
    if (finding.state === 'raised')
      metrics.findings.inc({ metric: finding.metric, severity: finding.verdict.severity });
  }
  for (const sample of samples) deps.seenSeries.add(seriesKey(sample.metric, sample.labels));
  metrics.tracked.set(deps.seenSeries.size);
  const series: SeriesReport[] = [
    ...results.map((r) => r.report),
    ...statuses.map((status) => ({
      series: seriesKey(status.metric, status.labels),
      metric: status.metric,
      labels: status.labels,
      status,
    })),
  ];
  logFindings(findings, deps.logger, running.id);
  await deps.onFindings(findings);
  return { ...base, outcome: 'success', samples: samples.length, problems, series, findings };
}

/** Newest sample per series, crossed with every binding that applies to it. */
function planEvaluations(samples: readonly Sample[], bindings: readonly CompiledBinding[]): Evaluation[] {
  const latest = new Map<SeriesKey, Sample>();
  for (const sample of samples) {
    const key = seriesKey(sample.metric, sample.labels);
    const current = latest.get(key);
    if (!current || sample.timestamp >= current.timestamp) latest.set(key, sample);
  }
  const evaluations: Evaluation[] = [];
  for (const [key, sample] of latest) {
    bindings.forEach((binding, index) => {
      if (bindingMatches(binding, sample.metric, sample.labels)) {
        evaluations.push({ key, binding: index, latest: sample, stateField: `${key}#${index}` });
      }
    });
  }
  return evaluations;
}

interface EvaluationResult {
  readonly report: SeriesReport;
  readonly finding?: Finding;
  readonly flag?: PointFlag;
  readonly state: [string, string];
}

function evaluate(
  evaluation: Evaluation,
  bindings: readonly CompiledBinding[],
  history: ReadonlyMap<SeriesKey, StoredSeries>,
  states: ReadonlyMap<string, string>,
): EvaluationResult {
  const binding = bindings[evaluation.binding] as CompiledBinding;
  const { latest, key } = evaluation;
  const stored = history.get(key) ?? {
    key,
    timestamps: new Float64Array(),
    values: new Float64Array(),
    anomalous: new Uint8Array(),
  };
  const verdict = evaluateBinding(binding, stored, { timestamp: latest.timestamp, value: latest.value });
  const previous = parseState(states.get(evaluation.stateField));
  const step = hysteresisStep(previous, verdict, latest.timestamp, binding.hysteresis);
  const labels = { ...latest.labels, ...(latest.annotations ?? {}) };
  const report: SeriesReport = {
    series: key,
    metric: latest.metric,
    labels: latest.labels,
    timestamp: latest.timestamp,
    value: latest.value,
    verdict,
    transition: step.transition,
  };
  const finding: Finding | undefined =
    step.transition === null
      ? undefined
      : {
          id: findingId(key, evaluation.binding, step.state.since ?? latest.timestamp),
          series: key,
          metric: latest.metric,
          labels,
          timestamp: latest.timestamp,
          value: latest.value,
          state: step.transition,
          since: step.state.since ?? latest.timestamp,
          verdict,
        };
  const flag = verdict.anomalous ? { series: key, timestamp: latest.timestamp, anomalous: true } : undefined;
  return { report, finding, flag, state: [evaluation.stateField, JSON.stringify(step.state)] };
}

/** One id for a whole episode (raised → ongoing → cleared), to follow one story in logs and audit. */
export function findingId(series: SeriesKey, binding: number, since: number): string {
  return `f-${createHash('sha256').update(`${series}|${binding}|${since}`).digest('hex').slice(0, 16)}`;
}

function parseState(raw: string | undefined): HysteresisState | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as HysteresisState;
  } catch {
    // A corrupt state must not wedge the series: start its hysteresis afresh.
    return undefined;
  }
}

async function commit(results: readonly EvaluationResult[], store: HistoryStore): Promise<void> {
  const flags = results.flatMap((r) => (r.flag ? [r.flag] : []));
  await store.commitDetection(flags, new Map(results.map((r) => r.state)));
}

function logFindings(findings: readonly Finding[], logger: Logger, collector: string): void {
  for (const finding of findings) {
    const level =
      finding.state === 'cleared' ? 'info' : finding.verdict.severity === 'critical' ? 'error' : 'warn';
    logger[level](
      {
        findingId: finding.id,
        collector,
        series: finding.series,
        state: finding.state,
        severity: finding.verdict.severity,
        reason: finding.verdict.reason,
      },
      'finding',
    );
  }
}

function tickMetrics(registry: MetricsRegistry) {
  return {
    samples: counter(registry, {
      name: 'vigil_samples_total',
      help: 'Samples collected',
      labelNames: ['collector'] as const,
    }),
    problems: counter(registry, {
      name: 'vigil_data_quality_problems_total',
      help: 'Rows or targets that yielded no sample (NULL, non-numeric, no data, failed target)',
      labelNames: ['collector', 'kind'] as const,
    }),
    findings: counter(registry, {
      name: 'vigil_findings_total',
      help: 'Findings raised',
      labelNames: ['metric', 'severity'] as const,
    }),
    tracked: gauge(registry, {
      name: 'vigil_series_tracked',
      help: 'Distinct series this replica has collected',
    }),
  };
}
