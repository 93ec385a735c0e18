/**
 * google-auth-library probes the GCE metadata server when it looks for credentials and prints
 * a `MetadataLookupWarning` per failed probe (five on a laptop with no credentials). The call
 * that needed credentials then fails with one message that names the fix (platform/explain.ts),
 * so the probes' warnings are dropped; every other process warning prints as Node would.
 */
export function foldMetadataWarnings(proc: NodeJS.Process = process): void {
  const printers = proc.listeners('warning');
  proc.removeAllListeners('warning');
  proc.on('warning', (warning: Error) => {
    if (warning.name === 'MetadataLookupWarning') return;
    for (const print of printers) print(warning);
  });
}
