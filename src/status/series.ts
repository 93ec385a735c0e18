import type { DetectorBinding } from '../detectors/binding.js';
import {
  bindingMatches,
  type CompiledBinding,
  evaluateBinding,
  parseSeriesName,
} from '../detectors/binding.js';
import { detectorRegistry } from '../detectors/index.js';
import type { HistoryStore, StoredSeries } from '../store/history.js';
import type { StatusReader } from './read-model.js';
import { decisionsByFinding, remediationsOf } from './timeline.js';
import type { DecisionView, FindingRecord } from './types.js';

/**
 * One series as the page draws it: its stored points, and for each the verdict its detector
 * binding gives — re-computed from history on read (detectors are pure and see the same anomaly
 * mask the tick wrote), so no replica has to store a verdict per point and every replica draws
 * the same band. The band is the z-family's centre ± threshold × spread; threshold detectors
 * give their warning and critical edges instead.
 */
export interface SeriesPoint {
  readonly t: number;
  readonly v: number;
  /** The tick flagged this point anomalous (it is kept out of later baselines). */
  readonly anomalous: boolean;
  readonly severity: string;
  readonly reason: string;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly warning: number | null;
  readonly critical: number | null;
}

export interface SeriesMarker {
  readonly t: number;
  readonly stage: string;
  readonly findingId: string;
  readonly kind: string;
  readonly target: string;
  readonly detail?: string;
}

export interface SeriesView {
  readonly key: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly detectors: readonly string[];
  readonly points: readonly SeriesPoint[];
  readonly findings: readonly (FindingRecord & { readonly decisions: readonly DecisionView[] })[];
  readonly markers: readonly SeriesMarker[];
}

/** Points judged per request at most (each one is a detector evaluation). */
const MAX_POINTS = 2_000;

export class SeriesViews {
  constructor(
    private readonly store: HistoryStore,
    private readonly bindings: readonly DetectorBinding[],
    private readonly compiled: readonly CompiledBinding[],
    private readonly reader: StatusReader,
  ) {}

  /** Every stored series key (bounded scan), sorted. */
  async keys(limit = 500): Promise<string[]> {
    return this.store.listSeries(limit);
  }

  async view(key: string, since: number | undefined): Promise<SeriesView | undefined> {
    const parsed = parseSeriesName(key);
    if (!parsed) return undefined;
    const { history } = await this.store.readForDetection([key], MAX_POINTS, []);
    const stored = history.get(key);
    if (!stored || stored.timestamps.length === 0) return undefined;
    const index = this.compiled.findIndex((binding) => bindingMatches(binding, parsed.metric, parsed.labels));
    const points = judgePoints(stored, this.compiled[index], this.bindings[index], since ?? -Infinity);
    const [records, events] = await Promise.all([this.reader.findingRecords(), this.reader.events()]);
    const findings = records.filter((record) => record.series === key);
    const ids = new Set(findings.map((finding) => finding.id));
    const own = events.filter((event) => event.findingId !== undefined && ids.has(event.findingId));
    const decisions = decisionsByFinding(own);
    return {
      key,
      metric: parsed.metric,
      labels: parsed.labels,
      detectors: this.bindings[index]?.use.map((use) => use.kind) ?? [],
      points,
      findings: findings.map((finding) => ({ ...finding, decisions: decisions.get(finding.id) ?? [] })),
      markers: markers(own),
    };
  }
}

function judgePoints(
  stored: StoredSeries,
  compiled: CompiledBinding | undefined,
  binding: DetectorBinding | undefined,
  since: number,
): SeriesPoint[] {
  const history = { timestamps: stored.timestamps, values: stored.values, anomalous: stored.anomalous };
  const options = binding?.use.map((use) => detectorRegistry.get(use.kind).options.parse(use.options)) ?? [];
  const points: SeriesPoint[] = [];
  for (let i = 0; i < stored.timestamps.length; i++) {
    const t = stored.timestamps[i] as number;
    if (t < since) continue;
    const v = stored.values[i] as number;
    const base = { t, v, anomalous: stored.anomalous[i] === 1 };
    if (!compiled) {
      points.push({
        ...base,
        severity: 'unwatched',
        reason: 'no detector binding',
        lower: null,
        upper: null,
        warning: null,
        critical: null,
      });
      continue;
    }
    const verdict = evaluateBinding(compiled, history, { timestamp: t, value: v });
    const band = {
      lower: null as number | null,
      upper: null as number | null,
      warning: null as number | null,
      critical: null as number | null,
    };
    compiled.detectors.forEach((detector, j) => {
      const opts = options[j] as { threshold?: number; warning?: number; critical?: number };
      if (detector.kind === 'threshold') {
        band.warning = opts.warning ?? null;
        band.critical = opts.critical ?? null;
        return;
      }
      if (band.lower !== null || typeof opts.threshold !== 'number') return;
      const own = detector.evaluate(history, { timestamp: t, value: v }).baseline;
      if (!own) return;
      band.lower = own.center - opts.threshold * own.spread;
      band.upper = own.center + opts.threshold * own.spread;
    });
    points.push({ ...base, severity: verdict.severity, reason: verdict.reason, ...band });
  }
  return points;
}

function markers(events: Parameters<typeof remediationsOf>[0]): SeriesMarker[] {
  const out: SeriesMarker[] = [];
  for (const view of remediationsOf(events)) {
    const base = { findingId: view.findingId, kind: view.kind, target: view.target };
    if (view.startedAt !== null) out.push({ ...base, t: view.startedAt, stage: 'started' });
    if (view.outcome !== null && view.outcomeAt !== null)
      out.push({
        ...base,
        t: view.outcomeAt,
        stage: view.outcome,
        ...(view.detail ? { detail: view.detail } : {}),
      });
    if (view.verification !== null && view.verifiedAt !== null)
      out.push({
        ...base,
        t: view.verifiedAt,
        stage: view.verification,
        ...(view.detail ? { detail: view.detail } : {}),
      });
  }
  return out.sort((a, b) => a.t - b.t);
}
