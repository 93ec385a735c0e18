import { createGcpClients, type GcpClients } from '../../src/platform/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

/** The seed sandbox (fast operations) and the real Google clients pointed at it. */
export async function sandboxWithClients(): Promise<{
  sandbox: Sandbox;
  gcp: GcpClients;
  close(): Promise<void>;
}> {
  const sandbox = await startSandbox({ port: 0, seed: 77, operationDelayMs: 10 });
  const gcp = createGcpClients({
    project: sandbox.project,
    region: sandbox.region,
    endpoint: sandbox.url,
    timeoutMs: 10_000,
  });
  return {
    sandbox,
    gcp,
    async close() {
      await gcp.close();
      await sandbox.close();
    },
  };
}
