import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { AuditLog } from '../audit/log.js';
import { type Config, loadConfig } from '../config.js';
import { ControlStore } from '../controls/store.js';
import { type Clock, systemClock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { createMetricsRegistry } from '../core/metrics.js';
import { announcerFromConfig } from '../notify/lib/from-config.js';
import type { NotifyEvent } from '../notify/types.js';
import { CounterStore } from '../policies/counters.js';
import { type RedisKeys, redisKeys } from '../store/keys.js';
import { UsageError } from './contract.js';
import type { CommandIo } from './io.js';

/**
 * What a run-time control command (`vigil pause`, `hold clear`, `silence add`, `breaker close` …)
 * works with: the config's Redis and key namespace, the control and counter stores, an audit log
 * written as the human (`audit-cli-<name>.jsonl` beside the replicas' logs, so `vigil audit verify`
 * and `vigil history` read it too), and the config's notifiers to announce the change.
 */
export interface ControlContext {
  readonly config: Config;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly controls: ControlStore;
  readonly counters: CounterStore;
  readonly clock: Clock;
  /** Audits as the human, then announces; rejects when the audit cannot be written (nothing is announced). */
  record(who: string, event: string, text: string, plan?: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function openControls(
  configFile: string,
  io: CommandIo,
  clock: Clock = systemClock,
): Promise<ControlContext> {
  const config = await loadConfig(configFile);
  const redis = new Redis(config.redis.url, {
    maxRetriesPerRequest: 1,
    connectTimeout: config.redis.connect_timeout,
  });
  redis.on('error', () => undefined);
  const keys = redisKeys(config.redis.key_prefix);
  const logger = pino({ level: 'silent' });
  const announcer = announcerFromConfig(config, {
    logger,
    clock,
    metrics: createMetricsRegistry({ processMetrics: false }),
    out: io.stdout,
  });
  const logs = new Map<string, AuditLog>();
  const auditFor = async (who: string): Promise<AuditLog> => {
    const open = logs.get(who);
    if (open) return open;
    const dir = join(resolve(config.data_dir), 'audit');
    const log = await AuditLog.open({ dir, replica: `cli-${who}`, clock });
    logs.set(who, log);
    return log;
  };
  return {
    config,
    redis,
    keys,
    controls: new ControlStore(redis, keys, clock),
    counters: new CounterStore({ redis, keys, clock }),
    clock,
    async record(who, event, text, plan) {
      const log = await auditFor(who);
      await log.append({ event, actor: { type: 'human', name: who }, reason: text, plan });
      const notice: NotifyEvent = {
        type: 'control',
        severity: 'info',
        action: event,
        text: `${text} (by ${who})`,
      };
      await announcer.announce(notice);
    },
    async close() {
      await announcer.drain(5_000);
      for (const log of logs.values()) await log.close();
      redis.disconnect();
    },
  };
}

/** Runs `body` with the controls open, and closes them (drains announcements) whatever happens. */
export async function withControls<T>(
  configFile: string,
  io: CommandIo,
  body: (context: ControlContext) => Promise<T>,
  clock: Clock = systemClock,
): Promise<T> {
  const context = await openControls(configFile, io, clock);
  try {
    return await body(context);
  } finally {
    await context.close();
  }
}

/** `--as NAME` (default $USER): who is acting, recorded in the audit log. */
export function actor(as: string | undefined): string {
  const name = (as ?? process.env.USER ?? '').trim();
  if (name === '') throw new UsageError('--as: say who you are (no USER in the environment)', ['--as NAME']);
  return name;
}

/** `--reason TEXT`: required for every change a human makes. */
export function reasonText(reason: string | undefined): string {
  const text = (reason ?? '').trim();
  if (text === '') throw new UsageError('--reason: say why (it is shown in every decision it causes)');
  return text;
}

/** `--for 2h`: a positive duration. */
export function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${flag}: expected a duration like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return ms;
}

export function isoTime(ms: number | null): string {
  return ms === null ? 'until resumed' : new Date(ms).toISOString();
}
