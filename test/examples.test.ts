import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { readPolicyFile } from '../src/policies/load.js';

// Every shipped example goes through the real validators, so an example can never rot.
const examples = readdirSync('examples').filter((name) => name.endsWith('.yaml'));
const configs = examples.filter((name) => !name.startsWith('policy.'));
const policies = examples.filter((name) => name.startsWith('policy.'));

describe('examples', () => {
  it.each(configs)('config %s loads', async (name) => {
    await expect(loadConfig(join('examples', name), {})).resolves.toMatchObject({
      source: expect.any(String),
    });
  });

  it.each(policies)('policy %s loads', async (name) => {
    const result = await readPolicyFile(join('examples', name));

    expect(result.ok ? 'ok' : result.problems).toBe('ok');
  });
});
