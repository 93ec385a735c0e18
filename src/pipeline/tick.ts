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
import type { DetectionCache } from '../store/detection-cache.js';
import type { HistoryStore, SeriesWrite, StoredSeries } from '../store/history.js';
import {
  type DetectionState,
  type Evaluation,
  type EvaluationResult,
  evaluate,
  parseState,
} from './judge.js';
import type { RunningCollector } from './running.js';

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
    chunkBySeries(samples, keys, deps.store.batchSize).map((chunk) => judgeChunk(chunk, deps)),
  );
  const results = judged.flatMap((chunk) => chunk.results);

  const findings = results.flatMap((result) => result.findings);
  for (const finding of findings) {
    if (finding.state === 'raised')
      metrics.findings.inc({ metric: finding.metric, severity: finding.verdict.severity });
  }
  for (const chunk of judged) for (const key of chunk.newest.keys()) deps.seenSeries.add(key);
  metrics.tracked.set(deps.seenSeries.size);
  const series: SeriesReport[] = [
    ...results.map((r) => r.report),
    ...judged.flatMap((chunk) => unwatched(chunk.newest, chunk.evaluations)),
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

interface Chunk {
  readonly samples: Sample[];
  readonly keys: SeriesKey[];
}

/** Splits a tick's samples into chunks of at most `size` series, every sample with its series. */
function chunkBySeries(samples: readonly Sample[], keys: readonly SeriesKey[], size: number): Chunk[] {
  const chunkOf = new Map<SeriesKey, Chunk>();
  const chunks: Chunk[] = [];
  let open: Chunk | undefined;
  let seriesInOpen = 0;
  for (let s = 0; s < samples.length; s++) {
    const key = keys[s] as SeriesKey;
    let chunk = chunkOf.get(key);
    if (!chunk) {
      if (!open || seriesInOpen === size) {
        open = { samples: [], keys: [] };
        chunks.push(open);
        seriesInOpen = 0;
      }
      chunk = open;
      seriesInOpen++;
      chunkOf.set(key, chunk);
    }
    chunk.samples.push(samples[s] as Sample);
    chunk.keys.push(key);
  }
  return chunks;
}

async function judgeChunk(chunk: Chunk, deps: TickDeps) {
  const cache = deps.cache;
  const writes = await deps.store.ingest(
    chunk.samples,
    deps.clock.now(),
    cache ? (key, first) => cache.expectedVersion(key, first) : undefined,
    chunk.keys,
  );
  const newest = newestPerSeries(chunk.samples, chunk.keys);
  const evaluations = planEvaluations(newest, deps.bindings);
  const { history, states } = await loadDetectionInputs(evaluations, writes, deps);
  const results = evaluations.map((evaluation) => evaluate(evaluation, deps.bindings, history, states));
  if (deps.persist) await commit(results, deps);
  return { newest, evaluations, results };
}

/** Like Promise.all, but waits for every chunk to finish before failing: nothing left in flight. */
async function settled<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(work);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** Series collected this tick that no binding watches: reported with their value, never judged. */
function unwatched(
  newest: ReadonlyMap<SeriesKey, Sample>,
  evaluations: readonly Evaluation[],
): SeriesReport[] {
  const watched = new Set(evaluations.map((e) => e.key));
  return [...newest]
    .filter(([key]) => !watched.has(key))
    .map(([key, s]) => ({
      series: key,
      metric: s.metric,
      labels: s.labels,
      timestamp: s.timestamp,
      value: s.value,
    }));
}

/** The newest sample of each series in this tick, keyed once (keys are costly to build). */
function newestPerSeries(samples: readonly Sample[], keys: readonly SeriesKey[]): Map<SeriesKey, Sample> {
  const latest = new Map<SeriesKey, Sample>();
  for (let s = 0; s < samples.length; s++) {
    const sample = samples[s] as Sample;
    const key = keys[s] as SeriesKey;
    const current = latest.get(key);
    if (!current || sample.timestamp >= current.timestamp) latest.set(key, sample);
  }
  return latest;
}

/** The newest sample of each series, crossed with every binding that applies to it. */
function planEvaluations(
  latest: ReadonlyMap<SeriesKey, Sample>,
  bindings: readonly CompiledBinding[],
): Evaluation[] {
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

async function commit(results: readonly EvaluationResult[], deps: TickDeps): Promise<void> {
  const flags = results.flatMap((r) => r.flags);
  await deps.store.commitDetection(
    flags,
    new Map(results.flatMap((r) => (r.changed ? [[r.state[0], JSON.stringify(r.state[1])] as const] : []))),
  );
  if (!deps.cache) return;
  for (const result of results) {
    deps.cache.commit(result.report.series, result.state[0], result.state[1], result.flags);
  }
}

/**
 * History and detection state for the series to evaluate: from this replica's cache when it is
 * provably current, else from Redis (one script call per 1,000 series), then cached.
 */
async function loadDetectionInputs(
  evaluations: readonly Evaluation[],
  writes: ReadonlyMap<SeriesKey, SeriesWrite>,
  deps: TickDeps,
): Promise<{ history: Map<SeriesKey, StoredSeries>; states: Map<string, DetectionState> }> {
  const history = new Map<SeriesKey, StoredSeries>();
  const states = new Map<string, DetectionState>();
  const fieldsOf = new Map<SeriesKey, string[]>();
  for (const evaluation of evaluations) {
    const fields = fieldsOf.get(evaluation.key);
    if (fields) fields.push(evaluation.stateField);
    else fieldsOf.set(evaluation.key, [evaluation.stateField]);
  }
  const misses: SeriesKey[] = [];
  for (const [key, fields] of fieldsOf) {
    const write = writes.get(key);
    const hit = write ? deps.cache?.advance(key, write) : undefined;
    if (!hit) {
      misses.push(key);
      continue;
    }
    history.set(key, hit.history);
    for (const field of fields) {
      const state = hit.states.get(field);
      if (state !== undefined) states.set(field, state);
    }
  }
  if (misses.length === 0) return { history, states };
  const fields = misses.flatMap((key) => fieldsOf.get(key) ?? []);
  const read = await deps.store.readForDetection(misses, deps.readPoints, fields, deps.clock.now());
  for (const key of misses) {
    const series = read.history.get(key);
    if (series) history.set(key, series);
    const own = new Map(
      (fieldsOf.get(key) ?? []).flatMap((field) =>
        read.states.has(field) ? [[field, parseState(read.states.get(field))] as const] : [],
      ),
    );
    for (const [field, value] of own) states.set(field, value);
    const version = writes.get(key)?.version;
    if (deps.cache && series && version !== undefined) deps.cache.set(key, version, series, own);
  }
  return { history, states };
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

export { createDetectionCache, findingId } from './judge.js';
