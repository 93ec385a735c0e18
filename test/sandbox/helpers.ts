import { BigQuery } from '@google-cloud/bigquery';
import { JobsClient, RevisionsClient, ServicesClient } from '@google-cloud/run';
import { PassThroughClient } from 'google-auth-library';
import type { Sandbox } from '../../src/sandbox/index.js';

// The clients honour HTTP(S)_PROXY even for loopback; tests only ever talk to 127.0.0.1.
process.env.NO_PROXY = '127.0.0.1,localhost';
process.env.no_proxy = '127.0.0.1,localhost';

/** The real Google clients, configured exactly as docs/gcp-clients-offline.md says. */
export function rawClients(sandbox: Sandbox) {
  const authClient = new PassThroughClient();
  const bigquery = new BigQuery({
    projectId: sandbox.project,
    apiEndpoint: sandbox.url,
    authClient,
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
  const runOptions = {
    fallback: true,
    apiEndpoint: '127.0.0.1',
    port: sandbox.port,
    protocol: 'http',
    authClient,
  };
  const services = new ServicesClient(runOptions);
  const jobs = new JobsClient(runOptions);
  const revisions = new RevisionsClient(runOptions);
  return {
    bigquery,
    services,
    jobs,
    revisions,
    parent: `projects/${sandbox.project}/locations/${sandbox.region}`,
    close: async () => {
      await services.close();
      await jobs.close();
      await revisions.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined>, deadlineMs = 5_000): Promise<T> {
  const stopAt = performance.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > stopAt) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function control(sandbox: Sandbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
