import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/types.js';
import type { SeriesHistory } from '../../src/detectors/types.js';
import { createRandom } from '../../src/sandbox/world/rng.js';
import { detector, HOUR_MS } from './support.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A regular series at `stepMs` with deterministic noise (no period of its own), optionally a daily rhythm. */
function regular(length: number, stepMs: number, daily = 0): SeriesHistory {
  const random = createRandom(7);
  const timestamps = Float64Array.from({ length }, (_, i) => i * stepMs);
  const values = Float64Array.from(timestamps, (t) => {
    const rhythm = daily * Math.sin((2 * Math.PI * t) / DAY_MS);
    return 100 + rhythm + 2 * (random() - 0.5);
  });
  return { timestamps, values };
}

function judgeNext(history: SeriesHistory, value: number, options: Record<string, unknown> = {}): Verdict {
  const last = history.timestamps[history.timestamps.length - 1] as number;
  const step = last - (history.timestamps[history.timestamps.length - 2] as number);
  return detector('auto', options).evaluate(history, { timestamp: last + step, value });
}

// Series shapes a daemon meets: noise, a constant, quantised counts, tiny and huge magnitudes,
// missing points, irregular spacing (gaps, repeated instants).
const shape = fc.constantFrom('noise', 'constant', 'quantised', 'tiny', 'huge', 'nan-laden');
const series = fc
  .tuple(
    shape,
    fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 0, maxLength: 80 }),
    fc.array(fc.constantFrom(0, 1, 1, 1, 3, 60), { minLength: 80, maxLength: 80 }),
  )
  .map(([kind, noise, steps]) => {
    const values = noise.map((x, i) => {
      if (kind === 'constant') return 7;
      if (kind === 'quantised') return Math.round(x * 2);
      if (kind === 'tiny') return 1e-12 * (1 + x);
      if (kind === 'huge') return 1e300 * (1 + x);
      if (kind === 'nan-laden') return i % 3 === 0 ? Number.NaN : 50 + x;
      return 50 + x;
    });
    let t = 0;
    const timestamps = values.map((_, i) => (t += (steps[i] as number) * 5 * MINUTE_MS));
    return { timestamps: Float64Array.from(timestamps), values: Float64Array.from(values), kind };
  });

describe('auto: properties', () => {
  it('never crashes; score finite in [0, 1]; statistic finite or null', () => {
    const det = detector('auto', { min_history: 2 });
    fc.assert(
      fc.property(series, fc.double({ noDefaultInfinity: false }), (s, next) => {
        const last = s.timestamps.length > 0 ? (s.timestamps[s.timestamps.length - 1] as number) : 0;
        const verdict = det.evaluate(s, { timestamp: last + 5 * MINUTE_MS, value: next });
        expect(Number.isFinite(verdict.score)).toBe(true);
        expect(verdict.score).toBeGreaterThanOrEqual(0);
        expect(verdict.score).toBeLessThanOrEqual(1);
        expect(verdict.statistic === null || Number.isFinite(verdict.statistic)).toBe(true);
        expect(verdict.reason).not.toBe('');
      }),
      { numRuns: 400 },
    );
  });

  it('the score is monotone in the deviation and does not saturate', () => {
    fc.assert(
      fc.property(
        series,
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        (s, a, b) => {
          const det = detector('auto', { min_history: 2 });
          const last = s.timestamps.length > 0 ? (s.timestamps[s.timestamps.length - 1] as number) : 0;
          const at = (deviation: number) => {
            const base = det.evaluate(s, { timestamp: last + 5 * MINUTE_MS, value: 0 }).baseline?.center ?? 0;
            const spread =
              det.evaluate(s, { timestamp: last + 5 * MINUTE_MS, value: 0 }).baseline?.spread ?? 1;
            return det.evaluate(s, { timestamp: last + 5 * MINUTE_MS, value: base + deviation * spread })
              .score;
          };
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(at(high)).toBeGreaterThanOrEqual(at(low));
        },
      ),
      { numRuns: 300 },
    );
    const history = regular(400, HOUR_MS);
    const scores = [10, 100, 1000].map((k) => judgeNext(history, 100 + k).score);
    expect(scores[0]).toBeLessThan(scores[1] as number);
    expect(scores[1]).toBeLessThan(scores[2] as number);
    expect(scores[2]).toBeLessThan(1);
  });
});

describe('auto: adapts to the series', () => {
  it('measures the cadence: its window is 7 days of points, hourly or 5-minute', () => {
    const hourly = judgeNext(regular(400, HOUR_MS), 100);
    const fiveMinute = judgeNext(regular(3000, 5 * MINUTE_MS), 100);
    expect(hourly.baseline?.window).toBe('7d (168-point)');
    expect(fiveMinute.baseline?.window).toBe('7d (2016-point)');
  });

  it('scales the threshold with points per day: a 4σ move alerts on hourly data, not on 1-minute data', () => {
    const hourly = regular(400, HOUR_MS);
    const minutely = regular(3000, MINUTE_MS);
    const at = (h: SeriesHistory, sigmas: number) => {
      const probe = judgeNext(h, 100);
      return judgeNext(h, (probe.baseline?.center as number) + sigmas * (probe.baseline?.spread as number));
    };
    expect(at(hourly, 4).anomalous).toBe(true);
    expect(at(minutely, 4).anomalous).toBe(false);
    expect(at(minutely, 8).anomalous).toBe(true);
    expect(at(minutely, 8).reason).toMatch(/alerts at 6\.53σ for 1m cadence/);
  });

  it('uses the same time of day when the series has a daily rhythm, the trailing mean otherwise', () => {
    const rhythmic = regular(24 * 10, HOUR_MS, 30);
    const flat = regular(24 * 10, HOUR_MS, 0);
    const seasonal = judgeNext(rhythmic, 100);
    expect(seasonal.baseline?.seasonalReference).toMatch(/^1d rhythm \(autocorrelation [01]\.\d\d\)$/);
    expect(seasonal.baseline?.window).toBe('7 × 1d same-phase');
    // The rhythm's trough is normal at its hour: not an alert against the same hour of earlier days.
    const trough = judgeNext(rhythmic, rhythmic.values[rhythmic.values.length - 24] as number);
    expect(trough.anomalous).toBe(false);
    expect(judgeNext(flat, 100).baseline?.seasonalReference).toBeUndefined();
  });

  it('quantised series (most values equal) keep a real spread: one step is not 100σ', () => {
    const timestamps = Float64Array.from({ length: 300 }, (_, i) => i * HOUR_MS);
    const values = Float64Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const verdict = judgeNext({ timestamps, values }, 1);
    expect(verdict.anomalous).toBe(false);
    expect(verdict.baseline?.spread).toBeGreaterThan(0.2);
  });

  it('names the statistic that fired, in words', () => {
    const verdict = judgeNext(regular(400, HOUR_MS), 60, { direction: 'down' });
    expect(verdict.severity).toBe('critical');
    expect(verdict.reason).toMatch(
      /^test_metric 60 is \d+\.\dσ below its 7d \(168-point\) mean 10\d(\.\d)? \(σ [\d.]+\); alerts at 3\.3σ for 1h cadence$/,
    );
  });
});
