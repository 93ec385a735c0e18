import { describe, expect, it } from 'vitest';
import { detector, HOUR_MS, historyOf, judge, wiggle } from './support.js';

// The z-family kinds, with options that make their windows comparable on short test series.
const Z_KINDS: [string, Record<string, unknown>][] = [
  ['zscore', { window: 48 }],
  ['robust-zscore', { window: 48 }],
  ['seasonal-zscore', { window: 48, period: '6h', seasons: 4, tolerance: '0s' }],
  ['ewma', { window: 48 }],
];

describe.each(Z_KINDS)('%s follows every rule', (kind, options) => {
  it('never yields Infinity or NaN on a flat series, and a flat series that moves is anomalous', () => {
    const det = detector(kind, options);
    const flat = Array.from({ length: 60 }, () => 42);

    const still = judge(det, flat, 42);
    const moved = judge(det, flat, 41);

    expect(still.severity).toBe('ok');
    expect(still.score).toBe(0);
    expect(Number.isFinite(still.statistic)).toBe(true);
    expect(moved.anomalous).toBe(true);
    expect(moved.severity).toBe('critical');
    expect(Number.isFinite(moved.statistic)).toBe(true);
    expect(moved.score).toBeGreaterThan(0.5);
    expect(moved.score).toBeLessThanOrEqual(1);
    expect(moved.baseline?.spread).toBeGreaterThan(0);
  });

  it('returns insufficient-history, never an anomaly, below min_history', () => {
    const det = detector(kind, { ...options, min_history: 10 });

    const verdict = judge(det, [1, 2, 3], 1e6);

    expect(verdict).toMatchObject({
      severity: 'insufficient-history',
      anomalous: false,
      score: 0,
      statistic: null,
    });
    expect(verdict.reason).toMatch(/needed/);
  });

  it('skips and counts NaN, Infinity and missing points instead of averaging them in', () => {
    const det = detector(kind, options);
    const clean = wiggle(60);
    // Indices 48 and 54 are also the seasonal kind's same-phase points for the next point (60).
    const dirty = clean.map((value, index) =>
      index % 10 === 3 || index === 48 ? Number.NaN : index % 10 === 7 || index === 54 ? Infinity : value,
    );

    const verdict = judge(det, dirty, 100);

    expect(Number.isFinite(verdict.score)).toBe(true);
    expect(verdict.baseline?.skipped).toBeGreaterThan(0);
    expect(Number.isFinite(verdict.baseline?.center)).toBe(true);
    expect(verdict.reason).toMatch(/missing points? skipped/);
  });

  it('judges a missing evaluated point as insufficient-history', () => {
    const verdict = judge(detector(kind, options), wiggle(60), Number.NaN);

    expect(verdict.severity).toBe('insufficient-history');
  });

  it('does not invent data across a gap in time', () => {
    const det = detector(kind, { ...options, window: '12h', min_history: 6 });
    const values = wiggle(20);
    const history = historyOf(values);
    // The next point arrives two days later: the 12-hour window before it is empty.
    const verdict = det.evaluate(history, { timestamp: 20 * HOUR_MS + 48 * HOUR_MS, value: 100 });

    expect(verdict.severity).toBe('insufficient-history');
  });

  it('reports score in [0, 1], the statistic, the baseline and a one-line reason', () => {
    const verdict = judge(detector(kind, options), wiggle(60), 130);

    expect(verdict.score).toBeGreaterThanOrEqual(0);
    expect(verdict.score).toBeLessThanOrEqual(1);
    expect(typeof verdict.statistic).toBe('number');
    expect(verdict.baseline).toMatchObject({ n: expect.any(Number), window: expect.any(String) });
    expect(verdict.reason).not.toContain('\n');
    expect(verdict.reason).toMatch(/^test_metric .*σ above its/);
  });
});

describe('direction', () => {
  it.each([
    ['down', 80, true],
    ['down', 120, false],
    ['up', 120, true],
    ['up', 80, false],
    ['both', 80, true],
    ['both', 120, true],
  ] as const)('direction %s with value %d alerts: %s', (direction, value, alerts) => {
    const verdict = judge(detector('zscore', { window: 48, direction }), wiggle(60), value);

    expect(verdict.anomalous).toBe(alerts);
  });

  it('says which way alerts when the harmless side moves', () => {
    const verdict = judge(detector('zscore', { window: 48, direction: 'down' }), wiggle(60), 130);

    expect(verdict.reason).toMatch(/only drops alert/);
    expect(verdict.score).toBe(0);
  });
});

describe('baseline hygiene', () => {
  const normal = wiggle(40, 92, 1.5);
  const incident = Array.from({ length: 12 }, () => 45);
  const flagged = Array.from({ length: 12 }, (_, index) => 40 + index);

  it.each(['zscore', 'robust-zscore', 'ewma'])(
    '%s: a long, flagged incident does not become the new normal',
    (kind) => {
      const det = detector(kind, { window: 40 });
      const history = historyOf([...normal, ...incident], HOUR_MS, flagged);

      const verdict = det.evaluate(history, { timestamp: 52 * HOUR_MS, value: 45 });

      expect(verdict.severity).toBe('critical');
      // EWMA's baseline ends where its 10-point span begins, so only the incident's first 2 points are in it.
      expect(verdict.baseline?.excluded).toBe(kind === 'ewma' ? 2 : 12);
      expect(verdict.reason).toMatch(/flagged points excluded from the baseline/);
    },
  );

  it('without the mask (exclude_anomalies_from_baseline: false) the incident drags the mean baseline', () => {
    const det = detector('zscore', { window: 40 });
    const { timestamps, values } = historyOf([...normal, ...incident]);

    const verdict = det.evaluate({ timestamps, values }, { timestamp: 52 * HOUR_MS, value: 45 });

    expect(verdict.severity).toBe('ok');
  });

  it('readmits flagged points when leaving them out would starve the window', () => {
    const det = detector('zscore', { window: 20, min_history: 10 });
    const history = historyOf(
      [...normal.slice(0, 5), ...Array.from({ length: 15 }, () => 45)],
      HOUR_MS,
      Array.from({ length: 15 }, (_, index) => 5 + index),
    );

    const verdict = det.evaluate(history, { timestamp: 20 * HOUR_MS, value: 45 });

    expect(verdict.severity).not.toBe('insufficient-history');
    expect(verdict.reason).toMatch(/15 flagged points readmitted/);
  });
});

describe('robust-zscore', () => {
  it('is not dragged by the anomaly itself: one huge spike leaves median and MAD in place', () => {
    const det = detector('robust-zscore', { window: 48 });
    const values = wiggle(48);
    values[47] = 1e6;

    const verdict = judge(det, values, 100);

    expect(verdict.severity).toBe('ok');
    expect(verdict.baseline?.center).toBeCloseTo(100.6, 0);
  });
});

describe('threshold (SLO bands)', () => {
  it.each([
    [92.4, 'ok'],
    [80, 'ok'],
    [79.9, 'warning'],
    [50, 'warning'],
    [49.9, 'critical'],
    [44.7, 'critical'],
  ] as const)('the seed bands: %d%% is %s', (value, severity) => {
    const det = detector('threshold', {}, 'vegas_line_coverage');

    const verdict = det.evaluate(historyOf([]), { timestamp: 0, value });

    expect(verdict.severity).toBe(severity);
    expect(verdict.anomalous).toBe(severity !== 'ok');
  });

  it('mirrors for direction up and explains the band', () => {
    const det = detector('threshold', { direction: 'up', warning: 500, critical: 1000 }, 'api_latency_ms');

    const verdict = det.evaluate(historyOf([]), { timestamp: 0, value: 1200 });

    expect(verdict.severity).toBe('critical');
    expect(verdict.reason).toBe(
      'api_latency_ms 1200 breaches its critical SLO band (warning above 500, critical above 1000)',
    );
  });

  it('rejects bands in the wrong order', () => {
    expect(() => detector('threshold', { direction: 'down', warning: 50, critical: 80 })).toThrow(
      /critical must be beyond/,
    );
  });
});

describe('options', () => {
  it.each([
    ['zscore', { windw: 28 }, /Unrecognized key/],
    ['zscore', { window: 1 }, /whole number of points >= 2/],
    ['zscore', { window: '28 days' }, /duration like 6h or 28d/],
    ['zscore', { threshold: 5, critical_threshold: 3 }, /critical_threshold must be >= threshold/],
    ['seasonal-zscore', { period: 'daily' }, /expected a duration/],
  ])('%s rejects %j', (kind, options, message) => {
    expect(() => detector(kind, options)).toThrow(message);
  });

  it('accepts a duration window and describes it in days', () => {
    const det = detector('zscore', { window: '28d', min_history: 5 }, 'vegas_line_coverage');
    const values = wiggle(30, 92, 1.5);

    const verdict = judge(det, values, 44.7, 86_400_000);

    expect(verdict.reason).toMatch(/^vegas_line_coverage 44.7% is [\d.]+σ below its 28-day mean 9\d\.\d%/);
  });
});
