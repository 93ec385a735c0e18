import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config.js';
import { ConfigError } from '../src/core/errors.js';

function problemsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfig(text, 'vigil.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('loads the minimal example with defaults', async () => {
    const config = await loadConfig('examples/minimal.yaml', {});

    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      key_prefix: 'vigil',
      connect_timeout: 5_000,
      max_retry_delay: 2_000,
    });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.shutdown_grace).toBe(30_000);
  });

  it('reports every mistake with its line, path and what was expected', () => {
    const text = [
      'redis:',
      '  url: redis://127.0.0.1:6379',
      '  key_prefx: vigil',
      'http:',
      '  port: "abc"',
      'shutdown_grace: 30 seconds',
      'collectors:',
      '  - kind: http-prob',
      '    interval: 5m',
      '  - interval: 1m',
      '  - kind: bigquery-sql',
      '    options:',
      '      metric: vegas_line_coverage',
      '      lookback: 4 weeks',
    ].join('\n');

    expect(problemsOf(text)).toEqual([
      'vigil.yaml:3 redis.key_prefx: unknown key (did you mean "key_prefix"?)',
      'vigil.yaml:5 http.port: expected number, got string "abc"',
      'vigil.yaml:6 shutdown_grace: expected a duration like 30s, 5m, 1h or 7d, got "30 seconds"',
      'vigil.yaml:8 collectors[0].kind: unknown collector kind "http-prob" (did you mean "http-probe"?)',
      'vigil.yaml:10 collectors[1].kind: expected string, got nothing (required key is missing)',
      'vigil.yaml:11 gcp.project: required by collectors[2].kind (bigquery-sql); set gcp.project or VIGIL_GCP_PROJECT',
      'vigil.yaml:12 collectors[2].options.query: expected string, got nothing (required key is missing)',
      'vigil.yaml:14 collectors[2].options.lookback: expected a duration like 30s, 5m, 1h or 7d, got "4 weeks"',
    ]);
  });

  it('lets environment overrides win over the file', () => {
    const text =
      'redis:\n  url: redis://file:6379\nhttp:\n  host: 0.0.0.0\n  port: 1000\nlog:\n  level: warn\n';

    const config = parseConfig(text, 'vigil.yaml', {
      VIGIL_REDIS_URL: 'redis://env:6380',
      VIGIL_HTTP_PORT: '2000',
      VIGIL_LOG_LEVEL: 'debug',
    });

    expect(config.redis.url).toBe('redis://env:6380');
    expect(config.http).toEqual({ host: '0.0.0.0', port: 2000 });
    expect(config.log.level).toBe('debug');
  });

  it('rejects a non-numeric port override by naming the variable', () => {
    expect(problemsOf('{}', { VIGIL_HTTP_PORT: 'eighty' })).toEqual([
      'environment VIGIL_HTTP_PORT: expected an integer, got "eighty"',
    ]);
  });

  it('interpolates ${VAR} and ${VAR:-default} in any string, and $${ escapes', () => {
    const text =
      'gcp:\n  project: ${PROJECT}\n  region: ${REGION:-europe-west1}\nreplica_id: "$${literal}"\n';

    const config = parseConfig(text, 'vigil.yaml', { PROJECT: 'nba-props' });

    expect(config.gcp.project).toBe('nba-props');
    expect(config.gcp.region).toBe('europe-west1');
    expect(config.replica_id).toBe('${literal}');
  });

  it('locates an unset variable without default, once', () => {
    expect(problemsOf('log:\n  level: info\ngcp:\n  project: ${NOT_SET_ANYWHERE}\n')).toEqual([
      'vigil.yaml:4 gcp.project: environment variable NOT_SET_ANYWHERE is not set and has no default (write ${NOT_SET_ANYWHERE:-default})',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('redis:\n  url: [unclosed\n')[0]).toMatch(/^vigil\.yaml:\d+ /);
  });

  it('reports a missing file clearly', async () => {
    await expect(loadConfig('does/not/exist.yaml', {})).rejects.toThrow(
      'cannot read config does/not/exist.yaml: file not found',
    );
  });

  it('resolves policy_file relative to the config file', () => {
    const config = parseConfig(
      'policy_file: policy.yaml\n',
      'conf/vigil.yaml',
      {},
      undefined,
      '/etc/vigil/vigil.yaml',
    );

    expect(config.policy_file).toBe('/etc/vigil/policy.yaml');
  });
});

describe('config: secrets never reach a problem', () => {
  const TOKEN = 'T0AAAA/B0BBBB/xoxSecretToken123';

  it('hides a Slack webhook given without its scheme', () => {
    const problems = problemsOf('notifiers:\n  - kind: slack\n', {
      SLACK_WEBHOOK_URL: `hooks.slack.com/services/${TOKEN}`,
    });

    expect(problems.join('\n')).toContain(
      'notifiers[0].options.webhook_url: expected the incoming webhook URL',
    );
    expect(problems.join('\n')).not.toContain('xoxSecretToken123');
  });

  it.each([
    'redis//admin:hunter2@localhost:6379',
    'redis:/admin:hunter2@localhost:6379',
    'http://admin:hunter2@localhost:6379',
  ])('hides the password of a malformed Redis URL %s', (url) => {
    const problems = problemsOf(`redis:\n  url: ${url}\n`);

    expect(problems).toEqual([
      expect.stringContaining('vigil.yaml:2 redis.url: expected a redis:// or rediss:// URL'),
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('refuses a cyclic alias with its line', () => {
    expect(problemsOf('log: &l\n  level: *l\n')).toEqual([
      expect.stringContaining('vigil.yaml:2 YAML alias *l'),
    ]);
  });
});
