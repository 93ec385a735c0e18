import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { classifyGcpError, createGcpClients, type GcpCallSite } from '../../src/platform/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { freePort } from '../support/process.js';

const SITE: GcpCallSite = {
  api: 'BigQuery',
  host: 'bigquery.googleapis.com',
  project: 'acme-data',
  role: 'roles/bigquery.dataViewer',
};
const withCode = (code: unknown, message = 'boom') => Object.assign(new Error(message), { code });

describe('Google call errors name the API, host, project and the fix', () => {
  it.each([
    [
      'DNS failure',
      withCode('EAI_AGAIN', 'getaddrinfo EAI_AGAIN bigquery.googleapis.com'),
      TransientError,
      'cannot resolve bigquery.googleapis.com',
    ],
    [
      'connection refused',
      new Error('request failed', { cause: withCode('ECONNREFUSED') }),
      TransientError,
      'bigquery.googleapis.com refused',
    ],
    [
      'TLS interception',
      withCode('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      PermanentError,
      'NODE_EXTRA_CA_CERTS',
    ],
    [
      '403',
      withCode(403, 'Access Denied: Dataset acme-data:sales'),
      PermanentError,
      "permission denied in project acme-data: grant vigil's service account roles/bigquery.dataViewer",
    ],
    [
      '401',
      withCode(401, 'Request had invalid authentication credentials'),
      PermanentError,
      'rejected the credentials (401)',
    ],
    [
      'no credentials',
      new Error(
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started',
      ),
      PermanentError,
      'no Google credentials found for BigQuery at bigquery.googleapis.com: set GOOGLE_APPLICATION_CREDENTIALS',
    ],
  ])('%s', (_name, error, kind, advice) => {
    const classified = classifyGcpError(error, 'bigquery query', SITE);

    expect(classified).toBeInstanceOf(kind);
    expect(classified.message).toMatch(/^bigquery query: /);
    expect(classified.message).toContain(advice);
  });

  it('keeps the plain message for failures with no human fix (a 500 is retried, not explained)', () => {
    expect(classifyGcpError(withCode(500, 'backend error'), 'bigquery query', SITE).message).toBe(
      'bigquery query: HTTP 500 backend error',
    );
  });
});

describe('through the real Google clients', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('a dataset the account cannot read (403) names the project and the role', async () => {
    sandbox.faults.add({
      endpoint: 'bigquery.query',
      status: 403,
      count: 1,
      latency_ms: 0,
      probability: 1,
      message: 'Access Denied: Table nba-props-platform:nba_predictions.player_prop_predictions',
    });
    const gcp = createGcpClients({
      project: 'nba-props-platform',
      region: 'us-west2',
      endpoint: sandbox.url,
      timeoutMs: 10_000,
    });
    try {
      const error = await gcp.bigquery.query('SELECT 1 AS value').then(
        () => new Error('expected a failure'),
        (e: unknown) => e as Error,
      );

      expect(error.message).toContain('HTTP 403 Access Denied');
      expect(error.message).toContain(
        "permission denied in project nba-props-platform: grant vigil's service account roles/bigquery.jobUser",
      );
    } finally {
      await gcp.close();
    }
  });

  it('a refused connection names the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const gcp = createGcpClients({ project: 'p', region: 'us-west2', endpoint, timeoutMs: 10_000 });
    try {
      const error = await gcp.run.getService('svc').then(
        () => new Error('expected a failure'),
        (e: unknown) => e as Error,
      );

      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toContain(`${endpoint} refused or dropped the connection`);
    } finally {
      await gcp.close();
    }
  });

  it('no credentials at all: one message with the fix, no metadata-server probing', async () => {
    const home = await mkdtemp(join(tmpdir(), 'vigil-nocreds-'));
    const saved = { ...process.env };
    // No key file, no gcloud config, no metadata server; any stray request would go to a closed loopback port.
    const closed = `127.0.0.1:${await freePort()}`;
    Object.assign(process.env, {
      HOME: home,
      CLOUDSDK_CONFIG: home,
      METADATA_SERVER_DETECTION: 'none',
      GCE_METADATA_HOST: closed,
      HTTPS_PROXY: `http://${closed}`,
      https_proxy: `http://${closed}`,
      NO_PROXY: '',
      no_proxy: '',
    });
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.VIGIL_GCP_ENDPOINT;
    const gcp = createGcpClients({ project: 'acme-data', region: 'us-west2', timeoutMs: 10_000 });
    try {
      const error = await gcp.bigquery.query('SELECT 1').then(
        () => new Error('expected a failure'),
        (e: unknown) => e as Error,
      );

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.message).toContain(
        'no Google credentials found for BigQuery at bigquery.googleapis.com: set GOOGLE_APPLICATION_CREDENTIALS',
      );
    } finally {
      await gcp.close();
      process.env = saved;
      await rm(home, { recursive: true, force: true });
    }
  });
});
