import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { readSeriesCsv } from '../../src/backtest/csv.js';
import { parseConfig } from '../../src/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { parsePolicy } from '../../src/policies/load.js';

/**
 * Fuzz targets for vigil's three parsers of human input: the config loader, the policy loader
 * and the backtest CSV reader. The oracle is the same for all three: a valid result, or an
 * error located at a line of the input. Anything else (a TypeError, a stack overflow, a
 * ReferenceError, a hang) is a bug. Inputs are real files mutated with the tokens that break
 * YAML and CSV readers, plus random text from the same alphabet.
 */
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

const YAML_TOKENS = [
  '*a',
  '&a ',
  '&a [*a]',
  '&a {b: *a}',
  '<<: *a',
  '<<: {x: 1}',
  ': ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '\n',
  '  ',
  '\t',
  '#',
  '!!str ',
  '!!binary ',
  '!!map ',
  '!custom ',
  '${X}',
  '${X:-y}',
  '${',
  '${VIGIL_REDIS_URL}',
  '%YAML 1.2\n---\n',
  '---\n',
  '...\n',
  '? ',
  '|\n',
  '>\n',
  '~',
  'null',
  '1e999',
  '-0',
  '0x1F',
  '.inf',
  '.nan',
  '\u0000',
  '\uFEFF',
  'é',
  '😀',
  'true',
  'yes',
  '2026-02-30',
  '5m',
  '-1s',
  '99999999999999999999',
  'kind: ',
  'collectors:',
  'detectors:',
  'notifiers:',
  'options:',
  'use:',
  'metric: ',
  'rules:',
  'when:',
  'then:',
];
const CSV_TOKENS = [
  ',',
  '"',
  '""',
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\uFEFF',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  '',
  '1e309',
  '-0',
  '0x10',
  '1_000',
  '2026-02-02',
  '2026-02-02T12:00:00Z',
  '2026-02-02 12:00:00',
  '2026-13-01',
  '2026-02-30',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01',
  '+2026-01-01',
  '2026-02-02T12:00:00+14:00',
  '1738497600',
  'timestamp',
  'value',
  '\u0000',
  'é',
  '1.5',
  '-3',
  '.5',
  '5.',
  '1e-400',
];

/** A list of edits applied to a seed text: insert a token, delete a range, duplicate or drop a line. */
function mutated(seeds: readonly string[], tokens: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...tokens) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('text' as const), at: fc.nat(), token: fc.string({ maxLength: 12 }) }),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 8 }))
    .map(([seed, edits]) => {
      let text = seed;
      for (const e of edits) {
        const at = text.length === 0 ? 0 : e.at % (text.length + 1);
        if (e.op === 'insert' || e.op === 'text') text = text.slice(0, at) + e.token + text.slice(at);
        else if (e.op === 'delete') text = text.slice(0, at) + text.slice(at + e.length);
        else {
          const lines = text.split('\n');
          const index = e.at % lines.length;
          if (e.op === 'duplicate') lines.splice(index, 0, lines[index] ?? '');
          else lines.splice(index, 1);
          text = lines.join('\n');
        }
      }
      return text;
    });
}

function randomText(tokens: readonly string[]): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((parts) => parts.join(''));
}

const SECRET = 'xoxFuzzSecret42';

/** Any text: a valid Config, or a ConfigError whose every problem names the file and a line (or the variable). */
export const configProperty = fc.property(
  fc.oneof(
    {
      weight: 4,
      arbitrary: mutated([read('examples/nba-props.yaml'), read('examples/minimal.yaml')], YAML_TOKENS),
    },
    { weight: 1, arbitrary: randomText(YAML_TOKENS) },
  ),
  (text) => {
    const env = { SLACK_WEBHOOK_URL: `hooks.slack.com/services/T1/B2/${SECRET}`, X: 'x' };
    try {
      const config = parseConfig(text, 'f.yaml', env);
      JSON.stringify(config); // a cyclic value would throw here
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      expectLocated(error.problems, /^(f\.yaml:\d+ |environment [A-Z_]+: )/);
      if (`${error.message}${error.problems.join('')}`.includes(SECRET))
        throw new Error('a secret reached a problem');
    }
  },
);

/** Any text: a policy snapshot, or problems each located in the file. */
export const policyProperty = fc.property(
  fc.oneof(
    { weight: 4, arbitrary: mutated([read('examples/policy.nba-props.yaml')], YAML_TOKENS) },
    { weight: 1, arbitrary: randomText(YAML_TOKENS) },
  ),
  (text) => {
    const result = parsePolicy(text, 'p.yaml');
    if (!result.ok) expectLocated(result.problems, /^p\.yaml:\d+ /);
  },
);

const CSV_SEED = [
  'timestamp,value',
  '2026-01-01T00:00:00Z,91.5',
  '2026-01-02,90',
  '2026-01-03 00:00:00,"89.25"',
  '2026-01-04T00:00:00.000Z,,extra',
  '2026-01-05T00:00:00Z,NaN',
  '',
].join('\n');

/** Any bytes, cut into any chunks: rows in time order, or a `line N:` ConfigError. */
export const csvProperty = fc.asyncProperty(
  fc.oneof(
    { weight: 4, arbitrary: mutated([CSV_SEED, CSV_SEED.replaceAll('\n', '\r\n')], CSV_TOKENS) },
    { weight: 1, arbitrary: randomText(CSV_TOKENS) },
  ),
  fc.array(fc.nat(), { maxLength: 4 }),
  async (text, cuts) => {
    const points = [...new Set(cuts.map((cut) => (text.length === 0 ? 0 : cut % text.length)))].sort(
      (a, b) => a - b,
    );
    const chunks = [0, ...points]
      .map((start, i) => text.slice(start, points[i] ?? text.length))
      .filter((c) => c !== '');
    let seen = 0;
    try {
      const rows = await readSeriesCsv(Readable.from(chunks.length > 0 ? chunks : ['']), (batch) => {
        for (let i = 0; i < batch.length; i++) {
          const t = batch.timestamps[i] as number;
          // Rows come in input order (a replayed hour goes back); each timestamp is a real instant.
          if (!Number.isFinite(t)) throw new Error(`row ${seen + i}: timestamp ${t} is not finite`);
        }
        seen += batch.length;
      });
      if (rows.rows !== seen) throw new Error(`returned ${rows.rows} rows, handed over ${seen}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // One bad row: `line N: ...`; several: a count, and every one listed with its line.
      if (/^\d+ bad rows /.test(error.message))
        expectLocated(error.problems, /^(line \d+: |… and \d+ more$)/);
      else if (!/^line \d+: /.test(error.message)) throw new Error(`unlocated CSV error: ${error.message}`);
    }
  },
);

function expectLocated(problems: readonly string[], located: RegExp): void {
  if (problems.length === 0) throw new Error('rejected with no problem');
  const stray = problems.find((problem) => !located.test(problem));
  if (stray !== undefined) throw new Error(`unlocated problem: ${stray}`);
}

/** The three targets by name, for `npm run fuzz` and the sample in `npm test`. */
export const TARGETS = { config: configProperty, policy: policyProperty, csv: csvProperty } as const;
