import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/core/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { REDIS_URL } from './redis.js';

/** The drifted service of the seed platform: 598 commits behind main on the sandbox's first day. */
export const PHASE4 = 'nba-phase4-precompute-processors';

/**
 * Writes a daemon config watching phase 4's deployment drift on the sandbox, plus `policy` as its
 * policy file, into `dir` (also the data dir, so the audit log lands in `dir/audit`). Returns the
 * config file's path.
 */
export async function writeDriftDaemonFiles(
  dir: string,
  setup: { sandbox: Sandbox; namespace: string; policy: string; interval: string },
): Promise<string> {
  await writeFile(join(dir, 'policy.yaml'), setup.policy);
  const file = join(dir, 'vigil.yaml');
  await writeFile(
    file,
    `
redis: { url: ${REDIS_URL}, key_prefix: "${setup.namespace}" }
http: { port: 0 }
shutdown_grace: 5s
data_dir: ${dir}
policy_file: policy.yaml
remediations: { verify_after: 500ms }
gcp: { project: ${setup.sandbox.project}, endpoint: ${setup.sandbox.url} }
collectors:
  - id: deployment-drift
    kind: cloud-run-drift
    interval: ${setup.interval}
    options: { repository: ${setup.sandbox.env.VIGIL_GIT_URL}, branch: main, services: [${PHASE4}] }
detectors:
  - metric: deploy_commits_behind
    use: [{ kind: threshold, options: { direction: up, warning: 150, critical: 300, unit: number } }]
`,
  );
  return file;
}

/** Every audit file under `dir/audit` (each replica's and each human's), by file name. */
export async function auditByFile(dir: string): Promise<Map<string, AuditEntry[]>> {
  const byFile = new Map<string, AuditEntry[]>();
  const auditDir = join(dir, 'audit');
  for (const name of await readdir(auditDir).catch(() => [])) {
    const text = await readFile(join(auditDir, name), 'utf8');
    byFile.set(
      name,
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEntry),
    );
  }
  return byFile;
}
