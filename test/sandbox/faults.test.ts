import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/core/errors.js';
import { createGcpClients, type GcpClients } from '../../src/platform/index.js';
import { FaultInjector } from '../../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { waitFor } from '../support/wait.js';
import { control, rawClients } from './helpers.js';

describe('fault injection and the control API', () => {
  let sandbox: Sandbox;
  let clients: ReturnType<typeof rawClients>;
  let gcp: GcpClients;

  beforeAll(async () => {
    sandbox = await startSandbox({ at: 40, operationDelayMs: 0 });
    clients = rawClients(sandbox);
    gcp = createGcpClients({
      project: sandbox.project,
      region: sandbox.region,
      endpoint: sandbox.url,
      timeoutMs: 5_000,
    });
  });

  beforeEach(async () => {
    await control(sandbox, 'DELETE', '/sandbox/faults');
  });

  afterAll(async () => {
    await gcp?.close();
    await clients?.close();
    await sandbox?.close();
  });

  it('a 503 burst reaches the BigQuery client as status 503, then queries succeed', async () => {
    const added = await control(sandbox, 'POST', '/sandbox/faults', {
      endpoint: 'bigquery.query',
      status: 503,
      count: 2,
    });
    expect(added.status).toBe(200);

    const first = await clients.bigquery.query('SELECT 1 AS one').catch((caught: unknown) => caught);
    const second = await clients.bigquery.query('SELECT 1 AS one').catch((caught: unknown) => caught);
    const [rows] = await clients.bigquery.query('SELECT 1 AS one');

    expect(first).toMatchObject({ code: 503 });
    expect(second).toMatchObject({ code: 503 });
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('a 503 burst reaches the Run client as status 503 and the adapter as a TransientError', async () => {
    sandbox.faults.add({
      endpoint: 'run.*',
      target: 'prediction-worker',
      status: 503,
      count: 2,
      latency_ms: 0,
      probability: 1,
    });
    const name = `${clients.parent}/services/prediction-worker`;

    const raw = await clients.services.getService({ name }).catch((caught: unknown) => caught);
    const adapted = await gcp.run.getService('prediction-worker').catch((caught: unknown) => caught);
    const [service] = await clients.services.getService({ name });

    expect(raw).toMatchObject({ code: 503 });
    expect(adapted).toBeInstanceOf(TransientError);
    expect(adapted).toMatchObject({ code: 'gcp-unavailable' });
    expect(service.name).toBe(name);
    const unaffected = await gcp.run.getService('prediction-coordinator');
    expect(unaffected.name).toBe('prediction-coordinator');
  });

  it('injected latency beyond the adapter timeout is a TransientError timeout', async () => {
    sandbox.faults.add({ endpoint: 'bigquery.query', latency_ms: 2_000, count: 1, probability: 1 });

    const error = await gcp.bigquery
      .query('SELECT 1 AS one', {}, { timeoutMs: 200 })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'gcp-timeout' });
    // The adapter gave up, but its HTTP request is still held by the fault and is logged when it
    // ends: 2 s later, inside whichever test runs then (once an extra `bigquery.query` in "advances
    // the clock"). Let it end here.
    await waitFor(
      'the abandoned query ended',
      () => (sandbox.inFlight().length === 0 ? true : undefined),
      10_000,
    );
  });

  it('rolls the same dice for the same seed', () => {
    const pattern = (seed: number) => {
      const faults = new FaultInjector(seed);
      faults.add({ endpoint: '*', status: 500, probability: 0.5, latency_ms: 0 });
      return Array.from({ length: 32 }, () => (faults.check('bigquery.query', undefined) ? 1 : 0)).join('');
    };

    expect(pattern(7)).toBe(pattern(7));
    expect(pattern(7)).not.toBe(pattern(8));
    expect(pattern(7)).toMatch(/1/);
    expect(pattern(7)).toMatch(/0/);
  });

  it('injects health failures per service', async () => {
    await control(sandbox, 'POST', '/sandbox/faults', {
      endpoint: 'sandbox.healthz',
      target: 'prediction-coordinator',
      status: 500,
      count: 1,
    });

    const first = await fetch(`${sandbox.healthBaseUrl}/prediction-coordinator/healthz`);
    const second = await fetch(`${sandbox.healthBaseUrl}/prediction-coordinator/healthz`);

    expect([first.status, second.status]).toEqual([500, 200]);
  });

  it('rejects an invalid fault with a clear 400', async () => {
    const response = await control(sandbox, 'POST', '/sandbox/faults', {
      endpoint: 'bigquery.query',
      status: 200,
    });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('status');
  });

  it('advances the clock only through the control API, logs requests, and resets', async () => {
    const mark = sandbox.requests().at(-1)?.seq ?? 0;

    const advanced = await control(sandbox, 'POST', '/sandbox/advance', { days: 2 });
    const [rows] = await clients.bigquery.query('SELECT CURRENT_DATE() AS today');
    const back = await control(sandbox, 'POST', '/sandbox/advance', { to: '2026-01-01' });
    const log = await control(sandbox, 'GET', `/sandbox/requests?after=${mark}`);
    const reset = await control(sandbox, 'POST', '/sandbox/reset');

    expect(advanced.body).toMatchObject({ day: 42, date: '2026-01-30' });
    expect(rows[0].today.value).toBe('2026-01-30');
    expect(back.status).toBe(400);
    expect((log.body.requests as { route: string }[]).map((entry) => entry.route)).toEqual([
      'sandbox.advance',
      'bigquery.query',
      'sandbox.advance',
    ]);
    expect(reset.body).toMatchObject({ day: 40, date: '2026-01-28' });
    expect(sandbox.state().git.url).toBe(sandbox.gitUrl);
  });
});
