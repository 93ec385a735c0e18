import { describe, expect, it } from 'vitest';
import { collectorRegistry } from '../../src/collectors/index.js';
import { kindFiles } from '../support/registry.js';

describe('collectorRegistry', () => {
  it('lists exactly one definition per kind file, named after the file', () => {
    expect(collectorRegistry.kinds).toEqual(kindFiles('src/collectors'));
  });

  it('gives every kind a one-line summary', () => {
    for (const definition of collectorRegistry.all()) expect(definition.summary).toMatch(/^[^\n]{10,120}$/);
  });
});
