import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { clockFromEnvironment } from '../core/clock.js';
import {
  type CheckResult,
  checkAuditDir,
  checkCredentials,
  checkGit,
  checkPolicy,
  checkRedis,
  checkRemediationTargets,
  collectorResults,
  usesGoogle,
} from '../doctor/checks.js';
import { createGcpClients } from '../platform/index.js';
import { createRedis } from '../store/redis.js';
import { contractAction, EXIT, withConfig, withExamples, withJson } from './contract.js';
import { type CommandIo, processIo } from './io.js';
import { collectOnce } from './once.js';

/**
 * `vigil doctor -c FILE`: checks live what docs/production.md asks for (credentials and whose,
 * Redis and its eviction policy, the audit directory, the policy, each git repository, each
 * collector's reads) and prints one line per check with the fix. Exit 0 all pass (warnings
 * allowed), 1 a check failed, 2 the config is invalid.
 */
export async function runDoctor(
  configFile: string,
  io: CommandIo,
  options: { json?: boolean; timeoutMs?: number } = {},
): Promise<number> {
  const config = await loadConfig(configFile);
  const timeoutMs = options.timeoutMs ?? Math.max(config.gcp.timeout, 5_000);
  const results: CheckResult[] = [];
  const report = (result: CheckResult | undefined) => {
    if (!result) return;
    results.push(result);
    if (!options.json) io.stdout.write(`${formatCheck(result)}\n`);
  };
  report(await checkCredentials(config, timeoutMs));
  const logger = pino({ level: 'silent' });
  const redis = createRedis(
    { url: config.redis.url, connectTimeoutMs: config.redis.connect_timeout, maxRetryDelayMs: 1_000 },
    logger,
    { retryStrategy: () => null },
  );
  try {
    const redisResult = await checkRedis(redis, config.redis.url, timeoutMs);
    report(redisResult);
    report(await checkAuditDir(config));
    const policy = await checkPolicy(config);
    report(policy.result);
    if (policy.snapshot && usesGoogle(config)) {
      const gcp = createGcpClients({
        project: config.gcp.project ?? '',
        region: config.gcp.region,
        endpoint: config.gcp.endpoint,
        timeoutMs,
      });
      try {
        for (const result of await checkRemediationTargets(config, policy.snapshot, gcp.run)) report(result);
      } finally {
        await gcp.close();
      }
    }
    for (const result of await checkGit(config, timeoutMs)) report(result);
    // The collectors store samples in Redis: without it their reads cannot be tried.
    if (redisResult.status === 'ok' || redis.status === 'ready') {
      const reports = await collectOnce(config, { redis, logger, clock: clockFromEnvironment(process.env) });
      for (const result of collectorResults(reports)) report(result);
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  const failed = results.filter((result) => result.status === 'fail').length;
  if (options.json) io.stdout.write(`${JSON.stringify({ ok: failed === 0, checks: results })}\n`);
  else
    io.stdout.write(
      failed === 0 ? `all ${results.length} checks pass\n` : `${failed} of ${results.length} checks failed\n`,
    );
  return failed === 0 ? EXIT.ok : EXIT.found;
}

export function formatCheck(result: CheckResult): string {
  const status = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' }[result.status];
  return `${status}  ${result.check}: ${result.detail}${result.fix ? ` — fix: ${result.fix}` : ''}`;
}

export function registerDoctorCommand(program: Command): void {
  const doctor = program
    .command('doctor')
    .description('check live that vigil can do its job with this config: one line per check, with the fix');
  withExamples(
    withJson(withConfig(doctor, true)),
    'vigil doctor -c /etc/vigil/config.yaml',
    '# against the sandbox: paste the export lines `vigil sandbox` prints, then',
    'vigil doctor -c examples/nba-props.yaml --json',
  ).action(
    contractAction((options: { config: string; json?: boolean }) =>
      runDoctor(options.config, processIo, { json: options.json === true }),
    ),
  );
}
