import type { BigQueryAdapter } from './bigquery.js';
import type { CloudRunAdapter } from './cloud-run.js';
import type { GcpClientOptions, GcpClients } from './index.js';

/**
 * The Google clients, loaded on their first call. Importing @google-cloud/run and /bigquery is
 * about a third of the daemon's start (0.5–0.8 s on a busy 2-core machine, measured with
 * `npm run bench -- daemon`), and nothing before the first tick needs them: /readyz should not
 * wait for them, and a config without Google collectors never loads them. A failed load (a bad
 * endpoint) is retried on the next call, as building the clients eagerly on first use was.
 */
export interface LazyGcpClients {
  readonly bigquery: BigQueryAdapter;
  readonly run: CloudRunAdapter;
  /** Closes the clients if they were ever loaded. */
  close(): Promise<void>;
}

export function lazyGcpClients(options: GcpClientOptions): LazyGcpClients {
  let loading: Promise<GcpClients> | undefined;
  const load = (): Promise<GcpClients> => {
    loading ??= import('./index.js').then((platform) => platform.createGcpClients(options));
    return loading.catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  };
  const run = <K extends keyof CloudRunAdapter>(method: K): CloudRunAdapter[K] =>
    (async (...args: unknown[]) => {
      const adapter = (await load()).run;
      return (adapter[method] as (...forwarded: unknown[]) => unknown).apply(adapter, args);
    }) as CloudRunAdapter[K];
  return {
    bigquery: { query: async (...args) => (await load()).bigquery.query(...args) },
    run: {
      getService: run('getService'),
      listServices: run('listServices'),
      listRevisions: run('listRevisions'),
      getRevision: run('getRevision'),
      updateServiceImage: run('updateServiceImage'),
      restartService: run('restartService'),
      getJob: run('getJob'),
      runJob: run('runJob'),
      getExecution: run('getExecution'),
      getOperation: run('getOperation'),
    },
    async close() {
      const clients = await loading?.catch(() => undefined);
      await clients?.close();
    },
  };
}
