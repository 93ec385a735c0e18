import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { type Clock, clockFromEnvironment } from '../core/clock.js';
import { createLogger, type Logger } from '../core/logger.js';
import { Daemon } from '../daemon.js';
import { contractAction, withConfig, withExamples } from './contract.js';
import { exitCodeFor, processIo } from './io.js';

/**
 * `vigil run`: the always-on daemon. First SIGTERM/SIGINT drains within `shutdown_grace` and
 * exits 0; a second signal exits at once with 130. An uncaught exception is logged, cleaned
 * up (bounded) and exits 1: Node's docs say resuming after one is unsafe.
 */
export async function runDaemon(configFile: string): Promise<void> {
  let config: Awaited<ReturnType<typeof loadConfig>>;
  let clock: Clock;
  try {
    config = await loadConfig(configFile);
    clock = clockFromEnvironment(process.env, { advancing: true });
  } catch (error) {
    process.exitCode = exitCodeFor(error, processIo);
    return;
  }
  const logger = createLogger({ level: config.log.level });
  if (process.env.VIGIL_NOW) {
    logger.warn(
      { now: process.env.VIGIL_NOW },
      'clock set by VIGIL_NOW: it starts there and runs at wall speed',
    );
  }
  const daemon = new Daemon(config, { logger, clock });
  installProcessHandlers(daemon, logger);
  try {
    await daemon.start();
  } catch (error) {
    // What start() meets is the host's (a busy port, an unwritable data dir): say it, release
    // what started, and exit 2; the connections it opened would otherwise keep the process up.
    const code = exitCodeFor(error, processIo);
    logger.fatal({ err: error }, 'vigil could not start');
    await daemon.stop().catch(() => undefined);
    exitAfterFlush(logger, code);
  }
}

/** Signals, SIGHUP reload, and fatal errors: the process-level half of the lifecycle. */
export function installProcessHandlers(daemon: Daemon, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal, exiting immediately');
      exitAfterFlush(logger, 130);
      return;
    }
    signalled = true;
    logger.info({ signal }, 'signal received, shutting down');
    daemon.stop().then(
      () => exitAfterFlush(logger, 0),
      () => exitAfterFlush(logger, 1),
    );
  };
  process.on('SIGHUP', () => {
    logger.info('SIGHUP received, reloading the policy');
    void daemon.reloadPolicy();
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const onFatal = (error: unknown): void => {
    logger.fatal({ err: error }, 'uncaught exception, shutting down');
    daemon.stop().finally(() => exitAfterFlush(logger, 1));
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

function exitAfterFlush(logger: Logger, code: number): void {
  logger.flush(() => process.exit(code));
  // A wedged stdout must not keep the process alive past its exit decision.
  setTimeout(() => process.exit(code), 1_000).unref();
}

export function registerRunCommand(program: Command): void {
  const run = program
    .command('run')
    .description(
      'run the vigil daemon: collect, detect, decide, remediate; serves /healthz /readyz /metrics',
    );
  withExamples(
    withConfig(run, true),
    'vigil run -c examples/minimal.yaml',
    'VIGIL_REDIS_URL=redis://redis:6379 vigil run -c /etc/vigil/config.yaml',
  ).action(
    contractAction(async (options: { config: string }) => {
      await runDaemon(options.config);
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    }),
  );
}
