import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/types.js';
import {
  bindingMatches,
  compileBinding,
  detectorBinding,
  evaluateBinding,
  parseSeriesName,
  validateBindingOptions,
} from '../../src/detectors/binding.js';
import { combineVerdicts } from '../../src/detectors/lib/combine.js';
import { HOUR_MS, historyOf, wiggle } from './support.js';

const verdict = (detector: string, severity: Verdict['severity'], score: number): Verdict => ({
  detector,
  anomalous: severity === 'warning' || severity === 'critical',
  severity,
  score,
  statistic: severity === 'insufficient-history' ? null : score * 10,
  baseline: null,
  reason: `${detector} says ${severity}`,
});

describe('combineVerdicts', () => {
  const crit = verdict('a', 'critical', 0.9);
  const warn = verdict('b', 'warning', 0.6);
  const ok = verdict('c', 'ok', 0.2);
  const none = verdict('d', 'insufficient-history', 0);

  it.each([
    ['any', [ok, warn, crit], 'critical', 'a'],
    ['any', [ok, ok], 'ok', 'c'],
    ['all', [crit, warn], 'warning', 'b'],
    ['all', [crit, ok], 'ok', 'c'],
    ['all', [crit, none], 'ok', 'a'],
    ['majority', [crit, warn, ok], 'warning', 'b'],
    ['majority', [crit, ok, ok], 'ok', 'c'],
    ['majority', [crit, warn], 'warning', 'b'],
    ['any', [none, none], 'insufficient-history', 'd'],
  ] as const)('%s of %# → %s', (mode, verdicts, severity, source) => {
    const combined = combineVerdicts(verdicts, mode);

    expect(combined.severity).toBe(severity);
    expect(combined.anomalous).toBe(severity === 'warning' || severity === 'critical');
    expect(combined.reason.startsWith(`${source} says`)).toBe(true);
    expect(combined.detector).toBe(`${mode}(${verdicts.map((v) => v.detector).join(',')})`);
  });
});

describe('detectorBinding', () => {
  const raw = {
    metric: 'vegas_line_coverage',
    labels: { model: 'catboost_v9' },
    use: [
      { kind: 'threshold' },
      { kind: 'zscore', options: { direction: 'down', window: '28d', min_history: 7 } },
    ],
  };

  it('fills defaults: combine any, hysteresis k1 n1 m2 expiry 3h, hygiene on', () => {
    const binding = detectorBinding.parse(raw);

    expect(binding).toMatchObject({
      combine: 'any',
      hysteresis: { k: 1, n: 1, m: 2, expiry: 3 * HOUR_MS },
      exclude_anomalies_from_baseline: true,
    });
  });

  it('reports bad per-kind options and unknown kinds with their paths and schemas', () => {
    const binding = detectorBinding.parse({
      metric: 'm',
      use: [{ kind: 'zscore', options: { threshold: -1, windw: 3 } }, { kind: 'prophet' }],
    });

    const problems = validateBindingOptions(binding);

    expect(problems.map((problem) => problem.path)).toEqual([
      ['use', 0, 'options'],
      ['use', 1, 'kind'],
    ]);
    expect(problems[0]?.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['too_small', ['threshold']],
      ['unrecognized_keys', []],
    ]);
    expect(problems[1]?.issues[0]?.message).toMatch(/^unknown detector kind "prophet"/);
  });

  it('evaluates a compiled binding into one combined verdict', () => {
    const compiled = compileBinding(detectorBinding.parse(raw));
    const days = 86_400_000;
    const history = historyOf(wiggle(28, 92, 1.5), days);

    const combined = evaluateBinding(compiled, history, { timestamp: 28 * days, value: 44.7 });

    expect(combined.severity).toBe('critical');
    expect(combined.detector).toBe('any(threshold,zscore)');
  });

  it('compileBinding throws a ConfigError listing every problem', () => {
    const binding = detectorBinding.parse({ metric: 'm', use: [{ kind: 'zscore', options: { window: 1 } }] });

    expect(() => compileBinding(binding)).toThrow(
      expect.objectContaining({
        problems: ['use[0].options.window: expected a whole number of points >= 2, got 1'],
      }),
    );
  });

  it('matches series by metric and label subset, and parses series names', () => {
    expect(parseSeriesName('grading{model="catboost_v9",env="prod"}')).toEqual({
      metric: 'grading',
      labels: { model: 'catboost_v9', env: 'prod' },
    });
    expect(parseSeriesName('bad{model=x}')).toBeUndefined();
    expect(
      bindingMatches({ metric: 'grading', labels: { model: 'a' } }, 'grading', { model: 'a', env: 'p' }),
    ).toBe(true);
    expect(bindingMatches({ metric: 'grading', labels: { model: 'a' } }, 'grading', { model: 'b' })).toBe(
      false,
    );
    expect(bindingMatches({ metric: 'grading' }, 'other', {})).toBe(false);
  });
});

describe('verdict data', () => {
  it('z-family verdicts render their reason lazily but serialise it, and plainVerdict copies it', async () => {
    const { detector, judge, wiggle: w } = await import('./support.js');
    const { plainVerdict } = await import('../../src/detectors/lib/verdict.js');
    const verdict = judge(detector('zscore', { window: 48 }), w(60), 130);

    const json = JSON.parse(JSON.stringify(verdict)) as Verdict;

    expect(json.reason).toBe(verdict.reason);
    expect(json.baseline?.n).toBe(48);
    expect(plainVerdict(verdict)).toEqual(json);
  });
});

describe('data-metric rules', () => {
  // ~95% with a σ of ~0.3 points: a 1-point wobble is a 3σ+ z-score.
  const steady = Array.from({ length: 40 }, (_, i) => 95 + 0.3 * Math.sin(i * 1.7));
  const bind = (extra: Record<string, unknown>) =>
    compileBinding(detectorBinding.parse({ metric: 'load_coverage', use: [{ kind: 'zscore' }], ...extra }));
  const judgeNext = (binding: ReturnType<typeof bind>, next: number) =>
    evaluateBinding(binding, historyOf(steady), { timestamp: steady.length * HOUR_MS, value: next });

  it('min_change: a change below 5% of the baseline is not anomalous, however many σ; a real drop still is', () => {
    const plain = judgeNext(bind({}), 94);
    const floored = judgeNext(bind({ min_change: '5%' }), 94);
    const drop = judgeNext(bind({ min_change: 0.05 }), 80);

    expect(plain.anomalous).toBe(true);
    expect(floored.severity).toBe('ok');
    expect(floored.score).toBeLessThan(0.5);
    expect(floored.reason).toMatch(/below min_change \(5% of the baseline\): not anomalous$/);
    expect(drop.severity).toBe('critical');
    expect(judgeNext(bind({ min_change: '5%' }), 94.5).score).toBeLessThan(floored.score);
  });

  it('fail_on_zero: a 0 is critical even where the detector sees nothing unusual', () => {
    const zeros = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 0 : 10));
    const binding = bind({ fail_on_zero: true });
    const verdict = evaluateBinding(binding, historyOf(zeros), { timestamp: 40 * HOUR_MS, value: 0 });

    expect(verdict.severity).toBe('critical');
    expect(verdict.reason).toMatch(/the value is 0 \(fail_on_zero\)$/);
    expect(evaluateBinding(bind({}), historyOf(zeros), { timestamp: 40 * HOUR_MS, value: 0 }).anomalous).toBe(
      false,
    );
  });

  it('rejects a min_change that is not a fraction or a percentage', () => {
    expect(detectorBinding.safeParse({ metric: 'm', min_change: 'five' }).success).toBe(false);
    expect(detectorBinding.safeParse({ metric: 'm', min_change: -0.1 }).success).toBe(false);
  });
});
