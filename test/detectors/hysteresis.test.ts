import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/types.js';
import {
  type HysteresisState,
  hysteresisOptions,
  hysteresisStep,
} from '../../src/detectors/lib/hysteresis.js';

const breach: Verdict = {
  detector: 'zscore',
  anomalous: true,
  severity: 'critical',
  score: 0.9,
  statistic: 9,
  baseline: null,
  reason: 'x',
};
const normal: Verdict = { ...breach, anomalous: false, severity: 'ok', score: 0.1, statistic: 0.3 };
const unknown: Verdict = { ...normal, severity: 'insufficient-history', score: 0, statistic: null };
const HOUR = 3_600_000;

/** Runs a sequence of verdicts, one per hour, and returns the transitions. */
function run(sequence: readonly Verdict[], options: Record<string, unknown>): (string | null)[] {
  const parsed = hysteresisOptions.parse(options);
  let state: HysteresisState | undefined;
  return sequence.map((verdict, index) => {
    const step = hysteresisStep(state, verdict, index * HOUR, parsed);
    // State must survive a JSON round trip: the tick persists it in Redis.
    state = JSON.parse(JSON.stringify(step.state)) as HysteresisState;
    return step.transition;
  });
}

const B = breach;
const N = normal;
const U = unknown;

describe('hysteresisStep', () => {
  it.each([
    ['raises on the first breach with k=1 of n=1', [N, B], { k: 1, n: 1 }, [null, 'raised']],
    [
      'raises only when k of the last n breach',
      [B, N, N, B, N, B],
      { k: 2, n: 3 },
      [null, null, null, null, null, 'raised'],
    ],
    [
      'clears only after m consecutive normal ones',
      [B, N, B, N, N, N],
      { m: 3, expiry: '1ms' },
      ['raised', 'ongoing', 'ongoing', 'ongoing', 'ongoing', 'cleared'],
    ],
    [
      'does not raise again inside expiry (reopens as ongoing)',
      [B, N, N, B, N, N],
      { m: 2, expiry: '6h' },
      ['raised', 'ongoing', 'cleared', 'ongoing', 'ongoing', 'cleared'],
    ],
    [
      'raises again after expiry',
      [B, N, N, N, N, B],
      { m: 2, expiry: '4h' },
      ['raised', 'ongoing', 'cleared', null, null, 'raised'],
    ],
    [
      'treats insufficient history as neither breach nor normal',
      [B, U, U, N, U, N],
      { m: 2 },
      ['raised', 'ongoing', 'ongoing', 'ongoing', 'ongoing', 'cleared'],
    ],
    ['never raises on insufficient history', [U, U, U], {}, [null, null, null]],
  ] as const)('%s', (_name, sequence, options, expected) => {
    expect(run(sequence, options)).toEqual(expected);
  });

  it('remembers when the episode started', () => {
    const options = hysteresisOptions.parse({ k: 2, n: 3 });
    const first = hysteresisStep(undefined, breach, 1000, options);
    const second = hysteresisStep(first.state, breach, 2000, options);

    expect(second).toMatchObject({ transition: 'raised', state: { since: 1000, raisedAt: 2000 } });
  });

  it('rejects k greater than n', () => {
    expect(hysteresisOptions.safeParse({ k: 3, n: 2 }).error?.issues[0]?.message).toBe('k must be <= n');
  });
});
