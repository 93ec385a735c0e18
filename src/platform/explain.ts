/**
 * What a failed Google call means for the person running vigil: the API, the host, the project
 * and resource, and what to do. The classifier decides transient vs permanent; this says why
 * in words, so `vigil once`, the daemon's logs and `vigil doctor` all name the same fix.
 */
export interface GcpCallSite {
  /** `BigQuery` or `Cloud Run`. */
  readonly api: string;
  /** The host the client talks to (`bigquery.googleapis.com`, or the emulator's). */
  readonly host: string;
  readonly project: string;
  /** The IAM role the call needs, for the 403 advice. */
  readonly role: string;
  /**
   * True when no Google credentials can be found. Asked only after a call failed: without
   * credentials the clients still send the request (for public data), and what comes back
   * is a DNS error or a 401 that does not say credentials are missing.
   */
  readonly credentialsMissing?: () => Promise<boolean>;
}

export const PRODUCTION_DOC = 'docs/production.md';

const DNS = new Set(['EAI_AGAIN', 'ENOTFOUND']);
const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const UNREACHABLE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT']);
const TLS = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;
export const NO_CREDENTIALS =
  /Could not load the default credentials|Unable to detect a Project Id|no Google credentials/i;

export type FailureKind =
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'tls'
  | 'unauthenticated'
  | 'denied'
  | 'no-credentials';

/** The kind of a failure that has a human fix, from a socket code, an HTTP status or a message. */
export function failureKind(
  network: string | undefined,
  status: number | undefined,
  message: string,
): FailureKind | undefined {
  if (NO_CREDENTIALS.test(message)) return 'no-credentials';
  if (network && DNS.has(network)) return 'dns';
  if (network && REFUSED.has(network)) return 'refused';
  if (network && UNREACHABLE.has(network)) return 'unreachable';
  if ((network && TLS.test(network)) || /certificate|self[- ]signed|SSL routines/i.test(message))
    return 'tls';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'denied';
  return undefined;
}

/** One sentence: what went wrong where, then the fix. */
export function explainFailure(kind: FailureKind, site: GcpCallSite): string {
  const where = `${site.api} at ${site.host}`;
  switch (kind) {
    case 'no-credentials':
      return `no Google credentials found for ${where}: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run on a service account (Cloud Run, GKE workload identity); see ${PRODUCTION_DOC}`;
    case 'dns':
      return `cannot resolve ${site.host}: no DNS or no network egress from this host (offline, a firewall, or a proxy that needs HTTPS_PROXY); for the sandbox set VIGIL_GCP_ENDPOINT`;
    case 'refused':
      return `${site.host} refused or dropped the connection: check gcp.endpoint / VIGIL_GCP_ENDPOINT (is the sandbox running?) or the proxy settings`;
    case 'unreachable':
      return `${site.host} is unreachable (no route or timed out): check egress to Google APIs (Private Google Access on a private network)`;
    case 'tls':
      return `TLS to ${site.host} failed: a proxy that re-signs TLS needs its CA in NODE_EXTRA_CA_CERTS`;
    case 'unauthenticated':
      return `${where} rejected the credentials (401): refresh them (gcloud auth application-default login) or replace the key in GOOGLE_APPLICATION_CREDENTIALS; see ${PRODUCTION_DOC}`;
    case 'denied':
      return `permission denied in project ${site.project}: grant vigil's service account ${site.role}; see ${PRODUCTION_DOC} (IAM)`;
  }
}
