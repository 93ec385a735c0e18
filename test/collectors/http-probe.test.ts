import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { httpProbe } from '../../src/collectors/http-probe.js';
import { ManualClock } from '../../src/core/clock.js';
import { startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
afterEach(async () => {
  await server.close();
});

const ctx = () => ({
  clock: new ManualClock(Date.UTC(2026, 1, 2)),
  logger: pino({ level: 'silent' }),
  signal: new AbortController().signal,
});

describe('http-probe collector', () => {
  it('reports up, latency and status per target; a failing or hanging target hides no other', async () => {
    server = await startTestServer((request, response) => {
      if (request.url === '/ok') response.writeHead(200).end('ok');
      else if (request.url === '/broken') response.writeHead(500).end('wedged');
      // '/hang' never answers.
    });
    const options = httpProbe.options.parse({
      timeout: '300ms',
      targets: [
        { name: 'coordinator', url: `${server.url}/ok`, labels: { service: 'prediction-coordinator' } },
        { name: 'worker', url: `${server.url}/broken`, labels: { service: 'prediction-worker' } },
        { name: 'phase3', url: `${server.url}/hang` },
      ],
    });
    const collector = httpProbe.create(options, undefined as never);

    const result = await collector.collect(ctx());
    const value = (metric: string, target: string) =>
      result.samples.find((s) => s.metric === metric && s.labels.target === target)?.value;

    expect([
      value('probe_up', 'coordinator'),
      value('probe_up', 'worker'),
      value('probe_up', 'phase3'),
    ]).toEqual([1, 0, 0]);
    expect([
      value('probe_status_code', 'coordinator'),
      value('probe_status_code', 'worker'),
      value('probe_status_code', 'phase3'),
    ]).toEqual([200, 500, 0]);
    expect(value('probe_latency_ms', 'phase3')).toBeGreaterThanOrEqual(290);
    expect(result.samples.find((s) => s.labels.target === 'worker')?.labels.service).toBe(
      'prediction-worker',
    );
    expect(result.problems).toEqual([
      { kind: 'target-failed', target: 'worker', message: 'worker is down: HTTP 500' },
      { kind: 'target-failed', target: 'phase3', message: 'phase3 is down: no response within 300 ms' },
    ]);
  });

  it('rejects targets that are not http(s) URLs, with the path', () => {
    const result = httpProbe.options.safeParse({ targets: [{ name: 'x', url: 'ftp://example' }] });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['targets', 0, 'url']);
  });
});
