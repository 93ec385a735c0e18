import { BigQuery } from '@google-cloud/bigquery';
import { ExecutionsClient, JobsClient, RevisionsClient, ServicesClient } from '@google-cloud/run';
import { GoogleAuth, PassThroughClient } from 'google-auth-library';
import { type Clock, systemClock } from '../core/clock.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { type BigQueryAdapter, createBigQueryAdapter } from './bigquery.js';
import { type CloudRunAdapter, createCloudRunAdapter } from './cloud-run.js';
import { NO_CREDENTIALS } from './explain.js';

export type { BigQueryAdapter, Cell, QueryOptions, QueryParam, QueryResult, Row } from './bigquery.js';
export type { CallOptions, CloudRunAdapter } from './cloud-run.js';
export { classifyGcpError } from './errors.js';
export type { GcpCallSite } from './explain.js';
export type {
  RunExecution,
  RunJob,
  RunOperation,
  RunRevision,
  RunService,
  TrafficTarget,
} from './run-types.js';

/** The environment variable that points every Google client in vigil at an emulator. */
export const GCP_ENDPOINT_ENV = 'VIGIL_GCP_ENDPOINT';

export interface GcpClientOptions {
  readonly project: string;
  readonly region: string;
  /**
   * `http://host:port` of an emulator (the sandbox). Default: `$VIGIL_GCP_ENDPOINT`; when neither
   * is set, the real Google endpoints with Application Default Credentials.
   */
  readonly endpoint?: string;
  /** Upper bound of every call, operation waits included (default 30 s). */
  readonly timeoutMs?: number;
  /** Used for restart annotations; default: the system clock. */
  readonly clock?: Clock;
}

export interface GcpClients {
  readonly bigquery: BigQueryAdapter;
  readonly run: CloudRunAdapter;
  /** The emulator endpoint in use, or undefined for Google. */
  readonly endpoint: string | undefined;
  /** Closes the Run clients' channels; idempotent. */
  close(): Promise<void>;
}

/**
 * The only place vigil builds Google clients. Building is local (no network) and cheap; calls are
 * bounded by the timeout and an optional AbortSignal, the clients' own retries are off (vigil
 * retries by error class), and every failure is a TransientError or PermanentError with a code.
 */
export function createGcpClients(options: GcpClientOptions): GcpClients {
  const endpoint = options.endpoint ?? (process.env[GCP_ENDPOINT_ENV] || undefined);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const target = endpoint ? parseEndpoint(endpoint) : undefined;
  // PassThroughClient sends no token and never probes the metadata server; only for emulators.
  const authClient = target ? new PassThroughClient() : undefined;
  const bigquery = new BigQuery({
    projectId: options.project,
    ...(target ? { apiEndpoint: target.origin, authClient } : {}),
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
  // fallback: REST transport. Without it the clients speak gRPC/TLS to the HTTP emulator and hang.
  const runOptions = target
    ? { fallback: true, apiEndpoint: target.host, port: target.port, protocol: target.protocol, authClient }
    : {};

  const runClients = {
    services: new ServicesClient(runOptions),
    revisions: new RevisionsClient(runOptions),
    jobs: new JobsClient(runOptions),
    executions: new ExecutionsClient(runOptions),
  };
  // Without credentials each client's stub promise rejects with no handler (an unhandled
  // rejection that ends the process); the calls themselves still fail, with the error we explain.
  for (const client of Object.values(runClients)) settleStub(client);
  const credentialsMissing = target ? undefined : credentialsProbe();
  let closed: Promise<void> | undefined;
  return {
    bigquery: createBigQueryAdapter(bigquery, timeoutMs, {
      api: 'BigQuery',
      host: target?.origin ?? 'bigquery.googleapis.com',
      project: options.project,
      role: 'roles/bigquery.jobUser on the project and roles/bigquery.dataViewer on the datasets it reads',
      ...(credentialsMissing ? { credentialsMissing } : {}),
    }),
    run: createCloudRunAdapter(runClients, {
      project: options.project,
      region: options.region,
      timeoutMs,
      clock: options.clock ?? systemClock,
      site: {
        api: 'Cloud Run',
        host: target?.origin ?? 'run.googleapis.com',
        project: options.project,
        ...(credentialsMissing ? { credentialsMissing } : {}),
      },
    }),
    endpoint: target?.origin,
    close() {
      // A client that never got credentials rejects its close too; there is nothing left to close.
      closed ??= Promise.all(
        Object.values(runClients).map((client) => client.close().catch(() => undefined)),
      ).then(() => undefined);
      return closed;
    },
  };
}

/**
 * Marks a Run client's stub promises as handled (see createGcpClients): the operations
 * client's, created with the client, and the one each method call derives from initialize().
 */
function settleStub(client: { initialize(): Promise<unknown> }): void {
  const operations = (client as { operationsClient?: { operationsStub?: Promise<unknown> } })
    .operationsClient;
  operations?.operationsStub?.catch(() => undefined);
  const initialize = client.initialize.bind(client);
  // Every generated method calls `this.initialize().catch((err) => { throw err; })` and drops
  // the result; the calls use the stub field, whose failure reaches the caller.
  client.initialize = () => initialize().catch(() => undefined);
}

/** Looks for Application Default Credentials once, on the first failed call, and remembers. */
function credentialsProbe(): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () => {
    answer ??= new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] })
      .getClient()
      .then(
        () => false,
        (error: unknown) => NO_CREDENTIALS.test(errorMessage(error)),
      );
    return answer;
  };
}

function parseEndpoint(endpoint: string) {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new ConfigError(
      `${GCP_ENDPOINT_ENV} must be a URL like http://127.0.0.1:9050, got ${JSON.stringify(endpoint)}`,
      [],
      { cause: error },
    );
  }
  const protocol = url.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https') {
    throw new ConfigError(`${GCP_ENDPOINT_ENV} must use http or https, got ${JSON.stringify(endpoint)}`);
  }
  const port = Number(url.port || (protocol === 'https' ? 443 : 80));
  return { origin: url.origin, host: url.hostname, port, protocol };
}
