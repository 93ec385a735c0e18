import { createHash } from 'node:crypto';
import { mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, type MetricsRegistry } from '../../src/core/metrics.js';
import type { PolicySnapshot } from '../../src/policies/types.js';
import { PolicyWatcher } from '../../src/policies/watcher.js';

const GOOD = 'mode: auto\n';
const BETTER = 'mode: dry-run\nremediations:\n  run-job: { cooldown: 2h }\n';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Polls until `check` returns true or the deadline passes (file events are asynchronous). */
async function until(check: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const stopAt = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > stopAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function metric(registry: MetricsRegistry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.startsWith(name));
}

describe('PolicyWatcher', () => {
  let dir: string;
  let file: string;
  let registry: MetricsRegistry;
  let logs: string[];
  let watcher: PolicyWatcher;
  let applied: PolicySnapshot[];
  let rejected: (readonly string[])[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-policy-'));
    file = join(dir, 'policy.yaml');
    await writeFile(file, GOOD);
    registry = createMetricsRegistry({ processMetrics: false });
    logs = [];
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    const logger = createLogger({ level: 'info', destination, pretty: false });
    watcher = new PolicyWatcher({ file, registry, logger, debounceMs: 50 });
    applied = [];
    rejected = [];
    watcher.on('applied', (snapshot) => applied.push(snapshot));
    watcher.on('rejected', (problems) => rejected.push(problems));
  });

  afterEach(async () => {
    await watcher.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is not ready before start, then applies the file and exports its hash', async () => {
    expect(watcher.ready).toBe(false);
    expect(watcher.current()).toBeUndefined();

    const result = await watcher.start();

    expect(result.status).toBe('applied');
    expect(watcher.ready).toBe(true);
    expect(watcher.current()?.hash).toBe(sha(GOOD));
    expect(await metric(registry, 'vigil_policy_last_reload_successful')).toEqual([
      'vigil_policy_last_reload_successful 1',
    ]);
    expect(await metric(registry, 'vigil_policy_info')).toEqual([
      `vigil_policy_info{hash="${sha(GOOD)}",file="${file}"} 1`,
    ]);
  });

  it('applies a valid edit when the file changes', async () => {
    await watcher.start();

    await writeFile(file, BETTER);
    await until(() => applied.length === 2, 'the edit to be applied');

    expect(watcher.current()?.mode).toBe('dry-run');
    expect(watcher.current()?.hash).toBe(sha(BETTER));
  });

  it('rejects an invalid edit, keeps the last good policy and drops the success gauge to 0', async () => {
    await watcher.start();

    await writeFile(file, 'mode: paused\n');
    await until(() => rejected.length === 1, 'the edit to be rejected');

    expect(rejected[0]).toEqual([
      `${file}:1 mode: expected one of "auto" | "dry-run" | "notify-only" | "off", got string "paused"`,
    ]);
    expect(watcher.current()?.hash).toBe(sha(GOOD));
    expect(watcher.ready).toBe(true);
    expect(await metric(registry, 'vigil_policy_last_reload_successful')).toEqual([
      'vigil_policy_last_reload_successful 0',
    ]);
    expect(logs.some((line) => line.includes('policy rejected; keeping the last good policy'))).toBe(true);
  });

  it('never applies a half-written file, and applies it once complete', async () => {
    await watcher.start();
    const complete = `${BETTER}rules:\n  - id: r\n    match: { metric: m }\n    action: { kind: restart-service, params: { service: a } }\n`;
    const handle = await open(file, 'w');

    await handle.write(complete.slice(0, complete.indexOf('restart-service') + 4));
    await handle.sync();
    const midWrite = await watcher.reload();
    await handle.write(complete.slice(complete.indexOf('restart-service') + 4));
    await handle.close();
    await until(() => watcher.current()?.hash === sha(complete), 'the complete file to be applied');

    expect(midWrite.status).toBe('rejected');
    expect(applied.map((snapshot) => snapshot.hash)).toEqual([sha(GOOD), sha(complete)]);
  });

  it('applies a file replaced by an atomic rename, and reload() (SIGHUP) is a no-op when unchanged', async () => {
    await watcher.start();

    await writeFile(join(dir, '.policy.yaml.tmp'), BETTER);
    await rename(join(dir, '.policy.yaml.tmp'), file);
    await until(() => applied.length === 2, 'the renamed file to be applied');
    const again = await watcher.reload();

    expect(watcher.current()?.hash).toBe(sha(BETTER));
    expect(again.status).toBe('unchanged');
  });

  it('reports a deleted file as rejected and keeps the last good policy', async () => {
    await watcher.start();

    await rm(file);
    const result = await watcher.reload();

    expect(result.status).toBe('rejected');
    expect(watcher.current()?.hash).toBe(sha(GOOD));
  });

  it('counts overrides by state at scrape time', async () => {
    await writeFile(
      file,
      'mode: auto\noverrides:\n  - { id: o, effect: dry-run, ends_at: 2000-01-01T00:00:00Z, created_by: a, reason: r }\n',
    );
    await watcher.start();

    expect(await metric(registry, 'vigil_policy_overrides')).toEqual([
      'vigil_policy_overrides{state="pending"} 0',
      'vigil_policy_overrides{state="active"} 0',
      'vigil_policy_overrides{state="expired"} 1',
    ]);
  });
});
