import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/store/redis-server.js';
import { waitFor } from './wait.js';

/** Debian's prometheus package: the real server and promtool, never downloaded. */
export const PROMETHEUS_BIN = process.env.VIGIL_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.VIGIL_PROMTOOL_BIN ?? '/usr/bin/promtool';
export const RULES_FILE = new URL('../../deploy/prometheus-rules.yml', import.meta.url);

export interface RunningPrometheus {
  readonly url: string;
  /** GET /api/v1/<path> and the `data` of a successful answer; throws with Prometheus' error otherwise. */
  api<T = unknown>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A throwaway Prometheus on a free loopback port scraping `target` every 3 s (a loaded machine must not time a scrape out), evaluating
 * deploy/prometheus-rules.yml with every `for:` set to 0s (promtool's unit tests prove the
 * durations; this proves the expressions fire on what vigil really exports).
 */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-prometheus-'));
  const rules = (await readFile(RULES_FILE, 'utf8')).replace(/^(\s+)for: \S+$/gm, '$1for: 0s');
  await writeFile(join(dir, 'rules.yml'), rules);
  const host = new URL(target).host;
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 3s, scrape_timeout: 3s, evaluation_interval: 1s }\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: vigil\n    static_configs: [{ targets: ['${host}'] }]\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'prometheus ready',
      async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined),
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw new Error(`prometheus did not start: ${(error as Error).message}\n${log}`);
  }
  return {
    url,
    stop,
    async api<T>(path: string): Promise<T> {
      const response = await fetch(`${url}/api/v1/${path}`, { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
      return body.data;
    },
  };
}
