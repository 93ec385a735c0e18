import type { Verdict } from '../src/core/types.js';
import { createDetector } from '../src/detectors/index.js';
import type { EvaluatedPoint, SeriesHistory } from '../src/detectors/types.js';
import { referenceZscore } from './reference-zscore.js';
import { report, say } from './report.js';

/**
 * One tick = evaluate 10,000 series once. Prints ms per tick (median of several ticks after a
 * warm-up), series-evaluations per second for every kind, and the ratio against the
 * straightforward simple-statistics z-score at the same window, measured in the same run.
 */
const SERIES = 10_000;
const TICKS = 7;
const STEP_MS = 300_000;

type Evaluate = (history: SeriesHistory, point: EvaluatedPoint) => Verdict;

function makeSeries(
  length: number,
  stepMs: number,
): { histories: SeriesHistory[]; points: EvaluatedPoint[] } {
  const histories: SeriesHistory[] = [];
  const points: EvaluatedPoint[] = [];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let s = 0; s < SERIES; s++) {
    const level = 1000 * random();
    const timestamps = new Float64Array(length);
    const values = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      timestamps[i] = i * stepMs;
      values[i] = level + 10 * (random() - 0.5);
    }
    histories.push({ timestamps, values, anomalous: new Uint8Array(length) });
    // A realistic tick: ordinary points, and one series in a hundred far off its baseline.
    points.push({
      timestamp: length * stepMs,
      value: level + 10 * (random() - 0.5) + (s % 100 === 0 ? 50 : 0),
    });
  }
  return { histories, points };
}

/** Median ms per tick; reads every verdict so the work cannot be optimised away. */
function timeTick(evaluators: Evaluate[], data: ReturnType<typeof makeSeries>): number {
  const samples: number[] = [];
  let sink = 0;
  for (let tick = 0; tick < TICKS + 2; tick++) {
    const started = performance.now();
    for (let s = 0; s < SERIES; s++) {
      const verdict = (evaluators[s] as Evaluate)(
        data.histories[s] as SeriesHistory,
        data.points[s] as EvaluatedPoint,
      );
      // Like the tick: every verdict's score, but the reason only of findings (it renders lazily).
      sink += verdict.score + (verdict.anomalous ? verdict.reason.length : 0);
    }
    if (tick >= 2) samples.push(performance.now() - started);
  }
  if (sink < 0) process.stdout.write('');
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] as number;
}

function perKind(kind: string, options: Record<string, unknown>): Evaluate[] {
  // One instance for all series, as the tick compiles a binding once and evaluates it for every
  // series it matches (one metric, many label sets).
  const detector = createDetector(kind, options, { metric: 'bench_metric' });
  const evaluate = (history: SeriesHistory, point: EvaluatedPoint) => detector.evaluate(history, point);
  return Array.from({ length: SERIES }, () => evaluate);
}

function line(label: string, ms: number, target?: number): void {
  const rate = (SERIES / ms) * 1000;
  report({
    bench: 'detectors',
    figure: label,
    value: ms,
    unit: 'ms/tick',
    note: `${(rate / 1e6).toFixed(2)} M evals/s`,
    ...(target === undefined ? {} : { target: { op: '<=', value: target } }),
  });
}

/** Builds the series for one measurement only, so at most one data set is alive at a time. */
function measure(length: number, evaluators: () => Evaluate[], stepMs = STEP_MS): number {
  return timeTick(evaluators(), makeSeries(length, stepMs));
}

export async function run(): Promise<void> {
  say(`detectors: one tick = ${SERIES} series, median of ${TICKS} ticks`);
  const reference = (window: number) => () =>
    Array.from({ length: SERIES }, () => referenceZscore('bench_metric', window));
  const z28 = measure(40, () => perKind('zscore', { window: 28 }));
  const ref28 = measure(40, reference(28));
  const z288 = measure(300, () => perKind('zscore', { window: 288 }));
  const ref288 = measure(300, reference(288));
  line('zscore window 28', z28, 5);
  line('zscore window 288', z288, 10);
  line(
    'robust-zscore window 288',
    measure(300, () => perKind('robust-zscore', { window: 288 })),
    50,
  );
  line(
    'ewma window 288',
    measure(300, () => perKind('ewma', { window: 288 })),
  );
  line(
    'seasonal-zscore 7 × 1d, hourly',
    measure(8 * 24, () => perKind('seasonal-zscore', { tolerance: '0s' }), 3_600_000),
  );
  line(
    'threshold',
    measure(40, () => perKind('threshold', {})),
  );
  line('reference (simple-statistics) 28', ref28);
  line('reference (simple-statistics) 288', ref288);
  report({
    bench: 'detectors',
    figure: 'ratio reference / zscore, window 28',
    value: ref28 / z28,
    unit: '×',
  });
  report({
    bench: 'detectors',
    figure: 'ratio reference / zscore, window 288',
    value: ref288 / z288,
    unit: '×',
    target: { op: '>=', value: 5 },
  });
  await Promise.resolve();
}
