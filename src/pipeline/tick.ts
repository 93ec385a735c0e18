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
import { bindingMatches, type CompiledBinding } from '../detectors/binding.js';
import type { CacheEntry, DetectionCache } from '../store/detection-cache.js';
import {
  type HistoryStore,
  inTimeOrder,
  type PointFlag,
  type SeriesWrite,
  type StoredSeries,
  storable,
  type TimedValue,
} from '../store/history.js';
import {
  type DetectionState,
  type Evaluation,
  type EvaluationResult,
  evaluate,
  parseState,
  stateField,
} from './judge.js';
import type { RunningCollector } from './running.js';
import type { SeriesExport } from './series-export.js';

/**
 * One tick of one collector: collect (timeout, abort, no overlap) → store → judge every new
 * point of each series under its detector bindings (judge.ts) → findings → the policy stage.
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
  /** This replica's copy of recent history and state; omit to always read from Redis. */
  readonly cache?: DetectionCache<DetectionState>;
  /** Series this process has collected, for `vigil_series_tracked`; owned by the caller. */
  readonly seenSeries: Set<SeriesKey>;
  /** The collected values on /metrics, when the config asks for them. */
  readonly seriesExport?: SeriesExport | undefined;
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

  const keys = samples.map((sample) => seriesKey(sample.metric, sample.labels));
  // Chunks of series go through store → judge → commit concurrently, so Redis executes one
  // chunk's scripts while this process judges another (two cores, two busy processes).
  const judged = await settled(
    groupSeries(samples, keys, deps.store.batchSize).map((chunk) => judgeChunk(chunk, deps)),
  );
  const results = judged.flatMap((chunk) => chunk.results);

  const findings = results.flatMap((result) => result.findings);
  for (const finding of findings) {
    if (finding.state === 'raised')
      metrics.findings.inc({ metric: finding.metric, severity: finding.verdict.severity });
  }
  for (const chunk of judged)
    for (const work of chunk.series) if (!work.wasCached) deps.seenSeries.add(work.key);
  metrics.tracked.set(deps.seenSeries.size);
  const series: SeriesReport[] = [
    ...results.map((r) => r.report),
    ...judged.flatMap((chunk) => chunk.unwatched),
    ...statuses.map((status) => ({
      series: seriesKey(status.metric, status.labels),
      metric: status.metric,
      labels: status.labels,
      status,
    })),
  ];
  deps.seriesExport?.record(series);
  logFindings(findings, deps.logger, running.id);
  await deps.onFindings(findings);
  return { ...base, outcome: 'success', samples: samples.length, problems, series, findings };
}

/**
 * One series in a tick, from grouping to judging. Each step hands the next this object rather
 * than a key to look up again: at 10,000 series, every hash lookup per series is measurable.
 */
interface SeriesWork {
  readonly key: SeriesKey;
  /** Storable points, in collector order until the chunk sorts them. */
  points: TimedValue[];
  /** The newest sample (the finding's metric, labels and annotations come from it). */
  newest: Sample;
  cached: CacheEntry<DetectionState> | undefined;
  /** The cache knew the series, so this process has collected it before (it is in `seenSeries`). */
  wasCached: boolean;
  history: StoredSeries | undefined;
  /** Detection state per binding index. */
  states: (DetectionState | undefined)[];
}

/** Groups samples by series into chunks of at most `size` series. */
function groupSeries(samples: readonly Sample[], keys: readonly SeriesKey[], size: number): SeriesWork[][] {
  const byKey = new Map<SeriesKey, SeriesWork>();
  const chunks: SeriesWork[][] = [];
  let open: SeriesWork[] = [];
  for (let s = 0; s < samples.length; s++) {
    const sample = samples[s] as Sample;
    const key = keys[s] as SeriesKey;
    let work = byKey.get(key);
    if (!work) {
      work = {
        key,
        points: [],
        newest: sample,
        cached: undefined,
        wasCached: false,
        history: undefined,
        states: [],
      };
      byKey.set(key, work);
      if (open.length === 0) chunks.push(open);
      open.push(work);
      if (open.length === size) open = [];
    } else if (sample.timestamp >= work.newest.timestamp) {
      work.newest = sample;
    }
    const point = storable(sample);
    if (point) work.points.push(point);
  }
  return chunks;
}

interface JudgedChunk {
  readonly series: readonly SeriesWork[];
  readonly results: readonly EvaluationResult[];
  readonly unwatched: readonly SeriesReport[];
}

async function judgeChunk(series: SeriesWork[], deps: TickDeps): Promise<JudgedChunk> {
  const { cache, bindings } = deps;
  const toWrite = series.map((work) => {
    const points = inTimeOrder(work.points);
    work.cached = cache?.lookup(work.key);
    work.wasCached = work.cached !== undefined;
    const first = points[0];
    const expected = work.cached && first ? (cache?.expectedVersion(work.cached, first.timestamp) ?? -1) : -1;
    return { key: work.key, points, expectedVersion: expected };
  });
  const writes = await deps.store.writeSeries(toWrite, deps.clock.now());

  const evaluations: { work: SeriesWork; evaluation: Evaluation }[] = [];
  const unwatched: SeriesReport[] = [];
  const misses: { work: SeriesWork; write: SeriesWrite; bindings: number[] }[] = [];
  for (let i = 0; i < series.length; i++) {
    const work = series[i] as SeriesWork;
    const { metric, labels } = work.newest;
    let watched: number[] | undefined;
    for (let b = 0; b < bindings.length; b++) {
      if (!bindingMatches(bindings[b] as CompiledBinding, metric, labels)) continue;
      watched ??= [];
      watched.push(b);
      evaluations.push({
        work,
        evaluation: {
          key: work.key,
          binding: b,
          bindingId: (bindings[b] as CompiledBinding).id,
          latest: work.newest,
        },
      });
    }
    if (!watched) {
      // Collected, but no binding watches it: reported with its value, never judged.
      const { timestamp, value } = work.newest;
      unwatched.push({ series: work.key, metric, labels, timestamp, value });
      continue;
    }
    const write = writes[i] as SeriesWrite;
    if (work.cached && cache?.advance(work.cached, write)) {
      work.history = work.cached.history;
      work.states = work.cached.states;
    } else {
      work.cached = undefined;
      misses.push({ work, write, bindings: watched });
    }
  }
  const judge = ({ work, evaluation }: { work: SeriesWork; evaluation: Evaluation }) =>
    evaluate(
      evaluation,
      bindings[evaluation.binding] as CompiledBinding,
      work.history,
      work.states[evaluation.binding],
    );
  // Cache hits are judged before any further await: their history is the cache's own arrays,
  // which a concurrent tick writing the same series could shift in place.
  const results = evaluations.map((entry) => (entry.work.cached ? judge(entry) : undefined));
  if (misses.length > 0) {
    await readMisses(misses, deps);
    evaluations.forEach((entry, index) => {
      results[index] ??= judge(entry);
    });
  }
  if (deps.persist) await commit(evaluations, results as EvaluationResult[], deps);
  return { series, results: results as EvaluationResult[], unwatched };
}

/** History and detection state of the series the cache could not prove current, from Redis. */
async function readMisses(
  misses: readonly { work: SeriesWork; write: SeriesWrite; bindings: number[] }[],
  deps: TickDeps,
): Promise<void> {
  const fields = misses.flatMap(({ work, bindings }) =>
    bindings.map((b) => stateField(work.key, (deps.bindings[b] as CompiledBinding).id)),
  );
  const read = await deps.store.readForDetection(
    misses.map(({ work }) => work.key),
    deps.readPoints,
    fields,
    deps.clock.now(),
  );
  for (const { work, write, bindings } of misses) {
    const history = read.history.get(work.key);
    const states: (DetectionState | undefined)[] = [];
    for (const b of bindings) {
      const raw = read.states.get(stateField(work.key, (deps.bindings[b] as CompiledBinding).id));
      if (raw !== undefined) states[b] = parseState(raw);
    }
    work.history = history;
    work.states = states;
    if (deps.cache && history) work.cached = deps.cache.set(work.key, write.version, history, states);
  }
}

async function commit(
  evaluations: readonly { work: SeriesWork; evaluation: Evaluation }[],
  results: readonly EvaluationResult[],
  deps: TickDeps,
): Promise<void> {
  const flags: PointFlag[] = [];
  const states = new Map<string, string>();
  results.forEach((result, index) => {
    const { work, evaluation } = evaluations[index] as { work: SeriesWork; evaluation: Evaluation };
    for (const timestamp of result.flagged) flags.push({ series: work.key, timestamp, anomalous: true });
    if (result.changed) states.set(stateField(work.key, evaluation.bindingId), JSON.stringify(result.state));
  });
  if (flags.length > 0 || states.size > 0) await deps.store.commitDetection(flags, states);
  if (!deps.cache) return;
  results.forEach((result, index) => {
    const { work, evaluation } = evaluations[index] as { work: SeriesWork; evaluation: Evaluation };
    if (work.cached) deps.cache?.commit(work.cached, evaluation.binding, result.state, result.flagged);
  });
}

/** Like Promise.all, but waits for every chunk to finish before failing: nothing left in flight. */
async function settled<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(work);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

export function logFindings(findings: readonly Finding[], logger: Logger, collector: string): void {
  for (const finding of findings) {
    // A finding is what vigil is for, not a failure of vigil: `error` is kept for vigil's own
    // failures, so an alert on error-level logs means vigil itself needs attention.
    const level = finding.state === 'cleared' ? 'info' : 'warn';
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

export { createDetectionCache, findingId } from './judge.js';
