import type { Verdict } from '../src/core/types.js';
import { createDetector } from '../src/detectors/index.js';
import type { EvaluatedPoint, SeriesHistory } from '../src/detectors/types.js';
import { referenceZscore } from './reference-zscore.js';
import { json, median, report, say } from './report.js';

/**
 * One tick = evaluate 10,000 series once; between ticks every series moves on by one point, as in
 * the daemon. Prints ms per tick (median of several ticks after a warm-up; wall and CPU time),
 * series-evaluations per second for every kind, and the ratio against the straightforward
 * simple-statistics z-score at the same window, measured in the same run.
 */
const SERIES = 10_000;
const TICKS = 7;
const STEP_MS = 300_000;

type Evaluate = (history: SeriesHistory, point: EvaluatedPoint) => Verdict;

interface SeriesSet {
  readonly histories: SeriesHistory[];
  readonly points: EvaluatedPoint[];
  readonly levels: number[];
  readonly random: () => number;
}

function makeSeries(length: number, stepMs: number): SeriesSet {
  const histories: SeriesHistory[] = [];
  const points: EvaluatedPoint[] = [];
  const levels: number[] = [];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let s = 0; s < SERIES; s++) {
    const level = 1000 * random();
    levels.push(level);
    const timestamps = new Float64Array(length);
    const values = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      timestamps[i] = i * stepMs;
      values[i] = level + 10 * (random() - 0.5);
    }
    histories.push({ timestamps, values, anomalous: new Uint8Array(length) });
    points.push(nextPoint(s, length * stepMs, level, random));
  }
  return { histories, points, levels, random };
}

/** A realistic tick: ordinary points, and one series in a hundred far off its baseline. */
function nextPoint(s: number, timestamp: number, level: number, random: () => number): EvaluatedPoint {
  return { timestamp, value: level + 10 * (random() - 0.5) + (s % 100 === 0 ? 50 : 0) };
}

/**
 * Between ticks (not timed), every series moves on by one point the way the detection cache moves
 * a full window: the arrays shift in place and the judged point becomes the newest.
 */
function advance(data: SeriesSet, stepMs: number): void {
  for (let s = 0; s < SERIES; s++) {
    const { timestamps, values, anomalous } = data.histories[s] as SeriesHistory;
    const point = data.points[s] as EvaluatedPoint;
    const last = timestamps.length - 1;
    timestamps.copyWithin(0, 1);
    values.copyWithin(0, 1);
    anomalous?.copyWithin(0, 1);
    timestamps[last] = point.timestamp;
    values[last] = point.value;
    if (anomalous) anomalous[last] = 0;
    data.points[s] = nextPoint(s, point.timestamp + stepMs, data.levels[s] as number, data.random);
  }
}

/** Median ms per tick; reads every verdict so the work cannot be optimised away. */
function timeTick(evaluators: Evaluate[], data: SeriesSet, stepMs: number): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  let sink = 0;
  for (let tick = 0; tick < TICKS + 2; tick++) {
    advance(data, stepMs);
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    for (let s = 0; s < SERIES; s++) {
      const verdict = (evaluators[s] as Evaluate)(
        data.histories[s] as SeriesHistory,
        data.points[s] as EvaluatedPoint,
      );
      // Like the tick: every verdict's score, but the reason only of findings (it renders lazily).
      sink += verdict.score + (verdict.anomalous ? verdict.reason.length : 0);
    }
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpuStarted);
    if (tick >= 2) {
      wall.push(elapsed);
      cpu.push((used.user + used.system) / 1000);
    }
  }
  if (sink < 0) process.stdout.write('');
  return { wall: median(wall), cpu: median(cpu) };
}

/** Median wall ms per tick, and median CPU ms (what the tick costs when the machine is shared). */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

function perKind(kind: string, options: Record<string, unknown>): Evaluate[] {
  // One instance for all series, as the tick compiles a binding once and evaluates it for every
  // series it matches (one metric, many label sets).
  const detector = createDetector(kind, options, { metric: 'bench_metric' });
  const evaluate = (history: SeriesHistory, point: EvaluatedPoint) => detector.evaluate(history, point);
  return Array.from({ length: SERIES }, () => evaluate);
}

function line(label: string, timing: Timing, target?: number): void {
  const rate = (SERIES / timing.wall) * 1000;
  report({
    bench: 'detectors',
    figure: label,
    value: timing.wall,
    unit: 'ms/tick',
    note: `${(rate / 1e6).toFixed(2)} M evals/s, CPU ${timing.cpu.toFixed(2)} ms`,
    ...(target === undefined ? {} : { target: { op: '<=', value: target } }),
  });
  if (json) report({ bench: 'detectors', figure: `${label}, CPU time`, value: timing.cpu, unit: 'ms/tick' });
}

/** Builds the series for one measurement only, so at most one data set is alive at a time. */
function measure(length: number, evaluators: () => Evaluate[], stepMs = STEP_MS): Timing {
  return timeTick(evaluators(), makeSeries(length, stepMs), stepMs);
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
    value: ref28.wall / z28.wall,
    unit: '×',
  });
  report({
    bench: 'detectors',
    figure: 'ratio reference / zscore, window 288',
    value: ref288.wall / z288.wall,
    unit: '×',
    target: { op: '>=', value: 5 },
  });
  await Promise.resolve();
}
