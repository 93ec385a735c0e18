import { describe, expect, it } from 'vitest';
import { remediationRegistry } from '../../src/remediations/index.js';
import { kindFiles } from '../support/registry.js';

describe('remediationRegistry', () => {
  it('lists exactly one definition per kind file, named after the file', () => {
    expect(remediationRegistry.kinds).toEqual(kindFiles('src/remediations'));
  });

  it('gives every kind a one-line summary and a risk level', () => {
    for (const definition of remediationRegistry.all()) {
      expect(definition.summary).toMatch(/^[^\n]{10,100}$/);
      expect(['low', 'medium', 'high']).toContain(definition.risk);
    }
  });
});

describe('remediation params', () => {
  const parse = (kind: string, params: Record<string, string>) => {
    const definition = remediationRegistry.get(kind);
    const result = definition.params.safeParse(params);
    return result.success
      ? { target: definition.target(result.data), params: result.data }
      : { errors: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
  };

  it.each<[string, Record<string, string>, unknown]>([
    [
      'redeploy-service',
      { service: 'nba-phase4-precompute-processors', region: 'us-west2' },
      {
        target: 'nba-phase4-precompute-processors',
        params: { service: 'nba-phase4-precompute-processors', region: 'us-west2' },
      },
    ],
    [
      'redeploy-service',
      { service: 'nba; rm -rf /' },
      {
        errors: [
          'service: expected a lowercase name like nba-phase4 (letters, digits, dashes), got "nba; rm -rf /"',
        ],
      },
    ],
    ['redeploy-service', { service: 'a', tag: 'x' }, { errors: [': Unrecognized key: "tag"'] }],
    [
      'restart-service',
      { service: 'nba-grading' },
      { target: 'nba-grading', params: { service: 'nba-grading' } },
    ],
    [
      'run-job',
      { job: 'grading-backfill', start_date: '2026-01-26', end_date: '2026-02-03' },
      {
        target: 'grading-backfill',
        params: { job: 'grading-backfill', start_date: '2026-01-26', end_date: '2026-02-03' },
      },
    ],
    [
      'run-job',
      { job: 'grading-backfill', start_date: '2026-02-30', end_date: '--all' },
      {
        errors: [
          'start_date: expected a date as YYYY-MM-DD, got "2026-02-30"',
          'end_date: expected a date as YYYY-MM-DD, got "--all"',
        ],
      },
    ],
    [
      'run-job',
      { job: 'grading-backfill', start_date: '2026-02-03', end_date: '2026-02-01' },
      { errors: ['end_date: expected end_date on or after start_date'] },
    ],
  ])('%s %j', (kind, params, expected) => {
    expect(parse(kind, params)).toEqual(expected);
  });
});
