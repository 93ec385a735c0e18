import { describe, expect, it } from 'vitest';
import { notifierRegistry } from '../../src/notify/index.js';
import { kindFiles } from '../support/registry.js';

describe('notifierRegistry', () => {
  it('lists exactly one definition per kind file, named after the file', () => {
    expect(notifierRegistry.kinds).toEqual(kindFiles('src/notify'));
  });

  it('gives every kind a one-line summary', () => {
    for (const definition of notifierRegistry.all()) expect(definition.summary).toMatch(/^[^\n]{10,120}$/);
  });
});
