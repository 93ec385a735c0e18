import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';

/**
 * The deployment files, checked without a Docker engine or a cluster: compose files against
 * the Compose specification's JSON Schema (test/fixtures/compose-spec.json, from docker-compose),
 * and the promises docs/production.md makes about them.
 */
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The spec's `format: duration` means Go durations ("5s"), not the ISO ones zod checks: drop it. */
function withoutDurationFormat(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDurationFormat);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'format' && value === 'duration'))
      .map(([key, value]) => [key, withoutDurationFormat(value)]),
  );
}

const composeSpec = z.fromJSONSchema({
  ...(withoutDurationFormat(JSON.parse(read('test/fixtures/compose-spec.json'))) as object),
  // The file says 2019-09 but uses draft-07's `definitions`.
  $schema: 'http://json-schema.org/draft-07/schema#',
});

type Service = {
  profiles?: string[];
  ports?: unknown[];
  volumes?: string[];
  environment?: Record<string, string>;
  command?: string[];
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };
const compose = (path: string): Compose => parse(read(path), { merge: true }) as Compose;

describe('docker compose files', () => {
  it.each(['docker-compose.yml', 'deploy/compose.prod.yml'])(
    '%s is valid against the Compose specification',
    (path) => {
      const result = composeSpec.safeParse(compose(path));

      expect(result.success ? [] : result.error.issues).toEqual([]);
    },
  );

  it('the schema check can fail (an unknown key, a wrong type)', () => {
    expect(composeSpec.safeParse({ services: { a: { image: 'x', imagee: 'y' } } }).success).toBe(false);
    expect(composeSpec.safeParse({ services: { a: { image: 1 } } }).success).toBe(false);
  });

  it('`docker compose up` runs the demo against a Redis that is not published on the host', () => {
    const { services, volumes } = compose('docker-compose.yml');
    const byDefault = Object.entries(services).filter(([, service]) => !service.profiles);

    expect(byDefault.map(([name]) => name).sort()).toEqual(['demo', 'redis']);
    expect(services.demo?.command?.[0]).toBe('demo');
    expect(services.redis?.ports).toBeUndefined();
    expect(services.redis?.command).toEqual(
      expect.arrayContaining(['--maxmemory-policy', 'noeviction', '--requirepass']),
    );
    expect(services.demo?.volumes).toContain('vigil-data:/var/lib/vigil');
    expect(Object.keys(volumes ?? {})).toContain('vigil-data');
  });

  it('the override runs the daemon with a fixed replica id, the data volume and a read-only config', () => {
    const { services } = compose('deploy/compose.prod.yml');

    expect(services.demo?.profiles).toEqual(['demo']);
    expect(services.vigil?.command).toEqual(['run', '-c', '/etc/vigil/config.yaml']);
    expect(services.vigil?.environment?.VIGIL_REPLICA_ID).toBe('${VIGIL_REPLICA_ID:-compose-1}');
    expect(services.vigil?.volumes).toEqual(
      expect.arrayContaining([
        'vigil-data:/var/lib/vigil',
        '${VIGIL_CONFIG_DIR:-./deploy/config}:/etc/vigil:ro',
      ]),
    );
  });

  it('the config the override mounts by default is valid', async () => {
    await expect(loadConfig('deploy/config/config.yaml', {})).resolves.toMatchObject({ collectors: [] });
  });
});

/** Enough of a Kubernetes object for these assertions. */
interface Manifest {
  kind: string;
  spec?: {
    replicas?: number;
    maxUnavailable?: number;
    volumeClaimTemplates?: { metadata: { name: string } }[];
    template?: { spec: { containers: Container[] } };
  };
}
interface Container {
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

describe('Cloud Run and Kubernetes manifests', () => {
  const kubernetes = readdirSync(new URL('../../deploy/kubernetes/', import.meta.url))
    .filter((name) => name.endsWith('.yaml'))
    .flatMap((name) =>
      parseAllDocuments(read(`deploy/kubernetes/${name}`)).map((doc) => doc.toJS() as Manifest),
    );

  it('Cloud Run: min instances 1, CPU always allocated, the webhook from a secret', () => {
    const service = parse(read('deploy/cloud-run.yaml'));
    const annotations = service.spec.template.metadata.annotations;
    const env = service.spec.template.spec.containers[0].env as { name: string; valueFrom?: unknown }[];

    expect(annotations['autoscaling.knative.dev/minScale']).toBe('1');
    expect(annotations['run.googleapis.com/cpu-throttling']).toBe('false');
    expect(env.find((e) => e.name === 'SLACK_WEBHOOK_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'vigil-slack-webhook', key: 'latest' },
    });
  });

  it('Kubernetes: N replicas, a volume per replica, probes on /healthz and /readyz, a PodDisruptionBudget', () => {
    const set = kubernetes.find((doc) => doc.kind === 'StatefulSet');
    const container = set?.spec?.template?.spec.containers[0];

    expect(set?.spec?.replicas).toBeGreaterThan(1);
    expect(set?.spec?.volumeClaimTemplates?.[0]?.metadata.name).toBe('data');
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container?.env.find((e) => e.name === 'VIGIL_REPLICA_ID')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.name',
    );
    expect(kubernetes.find((doc) => doc.kind === 'PodDisruptionBudget')?.spec?.maxUnavailable).toBe(1);
  });
});
