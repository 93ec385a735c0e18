import { execFile } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GoogleAuth } from 'google-auth-library';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/logger.js';
import type { TickReport } from '../pipeline/tick.js';
import { PRODUCTION_DOC } from '../platform/explain.js';
import type { CloudRunAdapter } from '../platform/index.js';
import { readPolicyFile } from '../policies/load.js';
import type { PolicySnapshot } from '../policies/types.js';

/**
 * `vigil doctor`'s live checks. Each answers one question a person pointing vigil at a real
 * platform has ("are my credentials found, and whose?", "can it read that dataset?"), in one
 * line, with the fix when the answer is no. Checks never mutate anything: the Google checks
 * are the collectors' own read-only calls, the audit check writes and deletes a probe file.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
const fail = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: 'fail',
  detail,
  fix,
});

const GCP_COLLECTORS = new Set(['bigquery-sql', 'cloud-run-drift']);

/** Whether anything in the config talks to Google: a Google collector, or a policy (remediations act on Cloud Run). */
export function usesGoogle(config: Config): boolean {
  return (
    config.collectors.some((entry) => GCP_COLLECTORS.has(entry.kind)) || config.policy_file !== undefined
  );
}

/** Application Default Credentials: found, and whose. */
export async function checkCredentials(config: Config, timeoutMs: number): Promise<CheckResult> {
  const name = 'google credentials';
  if (!usesGoogle(config)) return ok(name, 'not needed: no Google collector and no policy');
  if (config.gcp.endpoint) return ok(name, `not needed: the emulator at ${config.gcp.endpoint} takes none`);
  try {
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const credentials = await withTimeout(auth.getCredentials(), timeoutMs, 'looking for credentials');
    const keyFile = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    const who = credentials.client_email ?? 'a user account (gcloud application-default login)';
    const source = keyFile ? `key file ${keyFile}` : 'Application Default Credentials';
    return ok(name, `found: ${who}, from ${source}`);
  } catch (error) {
    return fail(
      name,
      `no Google credentials found (${firstLine(error)})`,
      `set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run on a service account (Cloud Run, GKE workload identity); see ${PRODUCTION_DOC}`,
    );
  }
}

/** Redis answers, and never evicts (BullMQ's locks and vigil's limits live there). */
export async function checkRedis(redis: Redis, url: string, timeoutMs: number): Promise<CheckResult> {
  const name = 'redis';
  const target = scrubSecrets(url);
  try {
    await withTimeout(redis.connect(), timeoutMs, `connecting to ${target}`);
    const policy = await withTimeout(evictionPolicy(redis), timeoutMs, 'reading maxmemory-policy');
    if (policy === 'noeviction') return ok(name, `${target} answers, maxmemory-policy noeviction`);
    return fail(
      name,
      `${target} has maxmemory-policy ${policy ?? 'unknown'}: queued jobs, locks and rate-limit counters can be evicted`,
      'set maxmemory-policy noeviction (redis.conf, `CONFIG SET`, or the Memorystore instance setting; its default volatile-lru is not safe)',
    );
  } catch (error) {
    return fail(
      name,
      `${target}: ${scrubSecrets(firstLine(error))}`,
      'check redis.url / VIGIL_REDIS_URL, the password, and that the server listens there (rediss:// for TLS)',
    );
  }
}

/** CONFIG GET where allowed; INFO where CONFIG is disabled (managed Redis). */
async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && reply.length >= 2) return String(reply[1]);
  } catch {
    // Managed Redis often refuses CONFIG; INFO says the same.
  }
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

/** The audit log's directory can be created, written and fsynced. */
export async function checkAuditDir(config: Config): Promise<CheckResult> {
  const name = 'audit dir';
  const dir = join(resolve(config.data_dir), 'audit');
  const probe = join(dir, `.doctor-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(probe, 'w');
    try {
      await handle.write('probe\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rm(probe, { force: true });
    return ok(name, `${dir} is writable`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return fail(
      name,
      `${dir} is not writable (${code}): vigil refuses to act without a durable audit entry`,
      'point data_dir / VIGIL_DATA_DIR at a writable persistent volume (the image uses /var/lib/vigil)',
    );
  }
}

/** The policy file loads exactly as the daemon would load it; its snapshot, for the target checks. */
export async function checkPolicy(
  config: Config,
): Promise<{ readonly result?: CheckResult; readonly snapshot?: PolicySnapshot }> {
  if (!config.policy_file) return {};
  const loaded = await readPolicyFile(config.policy_file);
  if (loaded.ok) {
    const { snapshot } = loaded;
    const detail = `${config.policy_file}: mode ${snapshot.mode}, ${snapshot.rules.length} rules`;
    return { snapshot, result: ok('policy', detail) };
  }
  const detail = `${config.policy_file}: ${loaded.problems[0] ?? 'invalid'}`;
  return { result: fail('policy', detail, `vigil policy check ${config.policy_file}`) };
}

/**
 * The services and jobs the policy may act on, each read once. A template such as
 * `{{labels.service}}` stands for every service the drift collectors watch. Reading proves the
 * resource exists and vigil sees it; the right to change it cannot be tried without a change,
 * so the line names the role acting needs.
 */
export async function checkRemediationTargets(
  config: Config,
  snapshot: PolicySnapshot,
  run: CloudRunAdapter,
): Promise<CheckResult[]> {
  const acting =
    'acting on it needs roles/run.developer and roles/iam.serviceAccountUser (not tried: that would change it)';
  const results: CheckResult[] = [];
  for (const target of remediationTargets(config, snapshot)) {
    const name = `remediation target ${target.type} ${target.name}`;
    const read = target.type === 'job' ? () => run.getJob(target.name) : () => run.getService(target.name);
    results.push(
      await read().then(
        () => ok(name, `readable; ${acting}`),
        (error: unknown): CheckResult => {
          const missing = (error as { code?: unknown }).code === 'gcp-not-found';
          const detail = missing
            ? `does not exist in project ${config.gcp.project ?? '?'} region ${config.gcp.region}`
            : firstLine(error);
          const fix = missing
            ? `fix the rule's params in ${snapshot.file}, or create the ${target.type}`
            : undefined;
          // A rule that cannot act yet (dry-run, notify-only, off) only warns: nothing would fail today.
          const status = target.acts || !missing ? 'fail' : 'warn';
          return {
            check: name,
            status,
            detail: target.acts ? detail : `${detail} (its rules do not act yet)`,
            ...(fix ? { fix } : {}),
          };
        },
      ),
    );
  }
  return results;
}

interface Target {
  readonly type: 'service' | 'job';
  readonly name: string;
  /** Whether any rule naming it runs in auto mode (after the global, per-kind and rule modes). */
  acts: boolean;
}

function remediationTargets(config: Config, snapshot: PolicySnapshot): Target[] {
  const targets = new Map<string, Target>();
  const add = (type: Target['type'], name: string, acts: boolean) => {
    const known = targets.get(`${type}/${name}`);
    if (known) known.acts ||= acts;
    else targets.set(`${type}/${name}`, { type, name, acts });
  };
  const watched = config.collectors
    .filter((entry) => entry.kind === 'cloud-run-drift')
    .flatMap((entry) => ((entry.options as { services?: unknown }).services as string[] | undefined) ?? []);
  const literal = (value: unknown): string | undefined =>
    typeof value === 'string' && !value.includes('{{') ? value : undefined;
  for (const rule of snapshot.source.rules) {
    const kind = rule.action.kind;
    const modes = [snapshot.mode, snapshot.remediations[kind]?.mode, rule.mode];
    const acts = modes.every((mode) => mode === undefined || mode === 'auto');
    const params = (rule.action.params ?? {}) as Record<string, unknown>;
    if (kind === 'run-job') {
      const job = literal(params.job);
      if (job) add('job', job, acts);
    } else if (typeof params.service === 'string') {
      const service = literal(params.service);
      for (const name of service ? [service] : watched) add('service', name, acts);
    }
  }
  return [...targets.values()];
}

const run = promisify(execFile);

/** Every repository the drift collectors read answers `git ls-remote` (no prompt, bounded). */
export async function checkGit(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const urls = new Set(
    config.collectors
      .filter((entry) => entry.kind === 'cloud-run-drift')
      .map((entry) => String((entry.options as { repository?: unknown }).repository)),
  );
  const results: CheckResult[] = [];
  for (const url of urls) {
    const shown = scrubSecrets(url);
    const name = `git ${shown}`;
    try {
      await run('git', ['ls-remote', '--heads', '--', url], {
        timeout: timeoutMs,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo' },
      });
      results.push(ok(name, 'reachable'));
    } catch (error) {
      const stderr =
        String((error as { stderr?: unknown }).stderr ?? '')
          .trim()
          .split('\n')[0] ?? '';
      results.push(
        fail(
          name,
          `unreachable: ${scrubSecrets(stderr || firstLine(error))}`,
          'check the URL and network; for a private repository put a token in the URL from the environment, e.g. https://x-access-token:${GIT_TOKEN}@github.com/org/repo.git',
        ),
      );
    }
  }
  return results;
}

/** One line per collector: its read-only calls worked, or the error that names API, resource and fix. */
export function collectorResults(reports: readonly TickReport[]): CheckResult[] {
  return reports.map((report) => {
    const name = `collector ${report.collector}`;
    if (report.outcome !== 'success') {
      const error = report.error ?? report.outcome;
      // Google errors carry their own advice after " — " (platform/explain.ts).
      return error.includes(' — ')
        ? { check: name, status: 'fail', detail: error }
        : fail(name, error, `vigil once -c FILE makes the same calls; see ${PRODUCTION_DOC}`);
    }
    const problem = report.problems[0];
    if (problem)
      return {
        check: name,
        status: 'warn',
        detail: `${report.samples} samples; ${problem.kind}: ${problem.message}`,
      };
    return ok(name, `${report.samples} samples, ${report.series.length} series`);
  });
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(error: unknown): string {
  return (errorMessage(error).split('\n')[0] ?? '').slice(0, 300);
}
