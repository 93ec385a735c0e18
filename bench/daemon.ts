import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration, parseDuration } from '../src/core/duration.js';
import { startSandbox } from '../src/sandbox/index.js';
import { freePort, startLocalRedis } from '../src/store/redis-server.js';
import { median, report, say } from './report.js';

/**
 * The daemon as the image runs it, on the seed config (examples/nba-props.yaml) against the
 * sandbox and a throwaway redis-server:
 * - start → first `/readyz` 200, for `node bin/vigil.js run` (tsx, a checkout) and for the
 *   compiled `node dist/cli.js run` (built here first), median of STARTS runs each;
 * - RSS of the compiled daemon IDLE_S seconds after it became ready;
 * - RSS growth over one simulated hour of ticks: every collector interval divided by SPEEDUP, so
 *   3600/SPEEDUP wall seconds run an hour's ticks; growth from after the first WARM_S seconds.
 * VIGIL_BENCH_STARTS_ONLY=1 stops after the start figures (a quick A/B of start-up work).
 */
const BENCH = 'daemon';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STARTS = Number(process.env.VIGIL_BENCH_STARTS ?? 5);
const IDLE_S = Number(process.env.VIGIL_BENCH_IDLE_S ?? 60);
const SPEEDUP = 60;
const WARM_S = Number(process.env.VIGIL_BENCH_WARM_S ?? 10);
const READY_TIMEOUT_MS = 60_000;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  /** Milliseconds from spawn to the first /readyz 200. */
  readonly readyMs: number;
  /** CPU milliseconds the process had used by then (steadier than wall time on a shared machine). */
  readonly readyCpuMs: number;
  /** The last lines it printed, for a failure message. */
  readonly output: string[];
}

async function startDaemon(command: readonly string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const started = performance.now();
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: { ...env, VIGIL_HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n'));
    output.splice(0, Math.max(0, output.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = started + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil exited ${child.exitCode}:\n${output.join('\n')}`);
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) {
      const readyMs = performance.now() - started;
      return { child, url, readyMs, readyCpuMs: cpuMs(child.pid as number), output };
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`vigil not ready within ${READY_TIMEOUT_MS} ms:\n${output.join('\n')}`);
    }
    // Polling is the measurement here: 10 ms granularity on a start of hundreds of ms.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function stopDaemon(running: Running): Promise<void> {
  if (running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  const exited = once(running.child, 'exit');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** User + system CPU time of a process so far, ms (/proc/PID/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process, MB (VmRSS from /proc). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seed config with every collector interval divided by `factor` (a fast clock for ticks). */
function fasterConfig(text: string, factor: number): string {
  return text.replace(/^(\s+interval:\s*)(\S+)/gm, (_, head: string, value: string) => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new Error(`seed config: cannot scale interval ${value}`);
    return `${head}${formatDuration(Math.max(1, Math.round(ms / factor)))}`;
  });
}

export async function run(): Promise<void> {
  say('daemon: building dist/ (npm run build) ...');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const redis = await startLocalRedis();
  const sandbox = await startSandbox({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-daemon-'));
  const seedConfig = join(ROOT, 'examples', 'nba-props.yaml');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sandbox.env,
    VIGIL_REDIS_URL: redis.url,
    VIGIL_DATA_DIR: join(dir, 'data'),
    VIGIL_POLICY_FILE: join(ROOT, 'examples', 'policy.nba-props.yaml'),
    VIGIL_LOG_LEVEL: 'warn',
  };
  try {
    say(`  seed config, sandbox at ${sandbox.url}, redis ${redis.url}; ${STARTS} starts each`);
    for (const [label, command, target] of [
      ['start → /readyz 200, tsx (bin/vigil.js)', ['bin/vigil.js', 'run', '-c', seedConfig], undefined],
      ['start → /readyz 200, dist (dist/cli.js)', ['dist/cli.js', 'run', '-c', seedConfig], 1_500],
    ] as const) {
      const times: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const running = await startDaemon(command, env);
        times.push(running.readyMs);
        cpu.push(running.readyCpuMs);
        await stopDaemon(running);
      }
      report({
        bench: BENCH,
        figure: label,
        value: median(times),
        unit: 'ms',
        note: `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`,
        ...(target === undefined ? {} : { target: { op: '<=', value: target } }),
      });
      report({
        bench: BENCH,
        figure: `${label.replace('start → /readyz 200', 'CPU to ready')}`,
        value: median(cpu),
        unit: 'ms',
      });
    }

    if (process.env.VIGIL_BENCH_STARTS_ONLY === '1') return;
    const idle = await startDaemon(['dist/cli.js', 'run', '-c', seedConfig], env);
    try {
      await sleep(IDLE_S * 1_000);
      report({
        bench: BENCH,
        figure: `RSS ${IDLE_S} s after ready (dist, seed config)`,
        value: rssMb(idle.child.pid as number),
        unit: 'MB',
        target: { op: '<=', value: 100 },
      });
    } finally {
      await stopDaemon(idle);
    }

    const fast = join(dir, 'nba-props-fast.yaml');
    writeFileSync(fast, fasterConfig(readFileSync(seedConfig, 'utf8'), SPEEDUP));
    const ticking = await startDaemon(['dist/cli.js', 'run', '-c', fast], env);
    try {
      await sleep(WARM_S * 1_000);
      const before = rssMb(ticking.child.pid as number);
      await sleep((3_600 / SPEEDUP) * 1_000);
      const after = rssMb(ticking.child.pid as number);
      report({
        bench: BENCH,
        figure: `RSS growth over 1 simulated hour of ticks (intervals / ${SPEEDUP})`,
        value: ((after - before) / before) * 100,
        unit: '%',
        note: `(${before.toFixed(1)} → ${after.toFixed(1)} MB)`,
        target: { op: '<', value: 5 },
      });
    } finally {
      await stopDaemon(ticking);
    }
  } finally {
    await sandbox.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
