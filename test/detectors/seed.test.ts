import { describe, expect, it } from 'vitest';
import {
  coverageDrop,
  DAY_MS,
  flatThenMove,
  gradingDecay,
  noGamesDays,
  START_MS,
  seedShapes,
} from '../fixtures/seed-shapes.js';
import { detector, stream } from './support.js';

describe('the seed incident', () => {
  it('28 days of ~92% ± 1.5 then 44.7% is critical on the first day, with a reason naming the baseline', () => {
    const shape = coverageDrop();
    const det = detector('zscore', { window: '28d', direction: 'down', min_history: 7 }, shape.metric);
    const history = { timestamps: shape.timestamps.subarray(0, 28), values: shape.values.subarray(0, 28) };

    const verdict = det.evaluate(history, { timestamp: START_MS + 28 * DAY_MS, value: 44.7 });

    expect(verdict.severity).toBe('critical');
    expect(verdict.baseline?.n).toBe(28);
    expect(verdict.reason).toMatch(
      /^vegas_line_coverage 44\.7% is \d+\.\dσ below its 28-day mean 9\d\.\d% \(σ \d\.\d+\)$/,
    );
  });

  it('names the points a not-yet-full window really holds (28 days of history, default 200-point window)', () => {
    const shape = coverageDrop();
    const det = detector('robust-zscore', { direction: 'down' }, shape.metric);
    const history = { timestamps: shape.timestamps.subarray(0, 28), values: shape.values.subarray(0, 28) };

    const verdict = det.evaluate(history, { timestamp: START_MS + 28 * DAY_MS, value: 44.7 });

    expect(verdict.reason).toMatch(/ below its 28-point median 9\d\.\d% /);
    expect(verdict.baseline?.window).toBe('28-point');
  });

  it('grading coverage climbing 61% → 76% raises no down alert', () => {
    const climb = Float64Array.from({ length: 30 }, (_, day) => 61 + (15 * day) / 29);
    const timestamps = Float64Array.from(climb, (_, day) => START_MS + day * DAY_MS);
    for (const kind of ['zscore', 'robust-zscore', 'ewma']) {
      const det = detector(kind, { window: '14d', direction: 'down', min_history: 5 }, 'grading_coverage');

      const verdicts = stream(det, timestamps, climb);

      expect(verdicts.filter((verdict) => verdict.anomalous)).toEqual([]);
    }
  });
});

/** Kinds, options and the shapes each is meant to catch; the labelled set is scored exactly. */
const CASES = [
  { shape: coverageDrop, kind: 'zscore', options: { window: '28d', direction: 'down', min_history: 7 } },
  { shape: coverageDrop, kind: 'threshold', options: {} },
  { shape: gradingDecay, kind: 'ewma', options: { window: '21d', direction: 'down', min_history: 7 } },
  { shape: flatThenMove, kind: 'robust-zscore', options: { window: '28d', min_history: 7 } },
  {
    shape: noGamesDays,
    kind: 'seasonal-zscore',
    options: { period: '7d', seasons: 4, tolerance: '0s' },
  },
] as const;

describe('the labelled seed shapes', () => {
  it('covers every shape of the fixture set', () => {
    expect(new Set(CASES.map((entry) => entry.shape))).toEqual(new Set(seedShapes));
  });

  it.each(CASES.map((entry) => [entry.shape.name, entry.kind, entry] as const))(
    '%s is caught by %s without false alarms',
    (_name, kind, entry) => {
      const shape = entry.shape();
      const verdicts = stream(detector(kind, entry.options, shape.metric), shape.timestamps, shape.values);
      const flagged = verdicts.flatMap((verdict, index) =>
        verdict.anomalous && index >= shape.warmup ? [index] : [],
      );

      expect(flagged.filter((index) => !shape.anomalies.includes(index))).toEqual([]);
      // Caught on the first anomalous point, or within 8 points of the start of a slow drift.
      expect(flagged[0]).toBeGreaterThanOrEqual(shape.anomalies[0] as number);
      expect(flagged[0]).toBeLessThanOrEqual((shape.anomalies[0] as number) + 8);
    },
  );

  it('a plain z-score sees the slow decay days later than EWMA', () => {
    const shape = gradingDecay();
    const options = { window: '21d', direction: 'down', min_history: 7 };
    const first = (kind: string) =>
      stream(detector(kind, options, shape.metric), shape.timestamps, shape.values).findIndex(
        (v) => v.anomalous,
      );

    expect(first('zscore') - first('ewma')).toBeGreaterThanOrEqual(3);
  });

  it('a trailing z-score cries wolf on every no-games Monday that the seasonal baseline expects', () => {
    const shape = noGamesDays();
    const plain = stream(
      detector('robust-zscore', { window: '28d', min_history: 7 }, shape.metric),
      shape.timestamps,
      shape.values,
    );

    expect(plain.filter((verdict, index) => verdict.anomalous && index % 7 === 0).length).toBeGreaterThan(3);
  });
});
