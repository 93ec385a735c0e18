import { describe, expect, it } from 'vitest';
import { MAX_ALIASES, parseLocatedYaml } from '../../src/core/source.js';

describe('located YAML: aliases', () => {
  it('expands an alias to an earlier anchor', () => {
    const doc = parseLocatedYaml('base: &b {level: warn}\nlog: *b\n', 'v.yaml');

    expect(doc.syntaxErrors).toEqual([]);
    expect(doc.value).toEqual({ base: { level: 'warn' }, log: { level: 'warn' } });
  });

  it.each([
    ['an alias with no anchor', 'a: 1\nb: *nowhere\n', 'v.yaml:2 YAML alias *nowhere names no anchor'],
    ['an alias before its anchor', 'b: *x\nx: &x 1\n', 'v.yaml:1 YAML alias *x names no anchor'],
    ['a list containing itself', 'a: &a [*a]\n', 'v.yaml:1 YAML alias *a is inside the node it refers to'],
    [
      'a mapping containing itself',
      'a:\n  &m\n  b:\n    c: *m\n',
      'v.yaml:4 YAML alias *m is inside the node',
    ],
  ])('refuses %s with a located problem instead of crashing', (_name, text, expected) => {
    const doc = parseLocatedYaml(text, 'v.yaml');

    expect(doc.value).toBeUndefined();
    expect(doc.syntaxErrors[0]).toContain(expected);
  });

  it('refuses a mapping used as a key (yaml would stringify it with a process warning)', () => {
    expect(parseLocatedYaml('a: 1\n? [x, y]\n: 2\n', 'v.yaml').syntaxErrors).toEqual([
      'v.yaml:2 a key must be a plain value, not a mapping or list',
    ]);
  });

  it('refuses more aliases than the limit (a billion laughs stays small)', () => {
    const aliases = Array.from({ length: MAX_ALIASES + 5 }, (_, i) => `k${i}: *a`).join('\n');
    const doc = parseLocatedYaml(`a: &a [1, 2]\n${aliases}\n`, 'v.yaml');

    expect(doc.syntaxErrors).toEqual([expect.stringContaining('too many YAML aliases')]);
  });
});
