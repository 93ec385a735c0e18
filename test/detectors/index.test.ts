import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectorRegistry } from '../../src/detectors/index.js';

// Kind files are src/detectors/*.ts except the contract (types.ts), the registry (index.ts) and the
// config binding (binding.ts); shared helpers live in src/detectors/lib/.
const NOT_KINDS = new Set(['types.ts', 'index.ts', 'binding.ts']);

describe('detectorRegistry', () => {
  it('lists exactly the kind files of src/detectors', () => {
    const files = readdirSync(join(import.meta.dirname, '../../src/detectors'), { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !NOT_KINDS.has(entry.name))
      .map((entry) => entry.name.replace(/\.ts$/, ''))
      .sort();

    expect(detectorRegistry.kinds).toEqual(files);
  });

  it.each(detectorRegistry.kinds)(
    '%s: default options parse, and create gives a detector of that kind',
    (kind) => {
      const definition = detectorRegistry.get(kind);

      const instance = definition.create(definition.options.parse({}), { metric: 'm' });

      expect(instance.kind).toBe(kind);
      expect(definition.summary).not.toBe('');
      expect(instance.minHistory).toBeGreaterThanOrEqual(0);
    },
  );

  it('names the known kinds for an unknown one', () => {
    expect(() => detectorRegistry.get('prophet')).toThrow(
      'unknown detector kind "prophet" (known: auto, ewma, robust-zscore, seasonal-zscore, threshold, zscore)',
    );
  });
});
