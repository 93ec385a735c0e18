import { execFile } from 'node:child_process';
import { access, chmod, chown, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVigil } from '../support/build.js';
import { freePort, spawnVigil } from '../support/process.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/**
 * The container's runtime stage without a Docker engine: dist/ built, production dependencies
 * only (`npm ci --omit=dev`, as the Dockerfile does), run as an unprivileged user for whom the
 * whole tree is read-only except the data dir.
 */
const run = promisify(execFile);
// Root (the test machine) drops to nobody; anyone else cannot, and makes the tree read-only instead.
const asRoot = process.getuid?.() === 0;
const NOBODY = 65_534;

let root: string;
let data: string;
let redis: TestRedis;

beforeAll(async () => {
  const build = await buildVigil(false);
  root = await mkdtemp(join(tmpdir(), 'vigil-prod-install-'));
  await run('cp', ['-R', `${build.root}/.`, root]);
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: root,
    timeout: 240_000,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  await chmod(root, 0o755);
  data = await mkdtemp(join(tmpdir(), 'vigil-prod-data-'));
  if (asRoot) await chown(data, NOBODY, NOBODY);
  else await run('chmod', ['-R', 'a-w', root]);
  redis = await testRedis();
}, 300_000);

afterAll(async () => {
  if (!asRoot && root) await run('chmod', ['-R', 'u+w', root]);
  await redis?.cleanup();
  await rm(root, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
});

function vigil(args: readonly string[], env: Record<string, string> = {}) {
  return spawnVigil(args, { HOME: data, VIGIL_DATA_DIR: data, ...env }, join(root, 'bin', 'vigil.js'), {
    cwd: root,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
}

describe('production install (the image runtime stage)', () => {
  it('holds production dependencies only, and no TypeScript sources', async () => {
    const modules = await readdir(join(root, 'node_modules'));

    expect(modules).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'commander']));
    for (const dev of ['vitest', 'typescript', '@biomejs', 'fast-check']) expect(modules).not.toContain(dev);
    await expect(access(join(root, 'src'))).rejects.toThrow();
    expect((await stat(join(root, 'dist', 'cli.js'))).isFile()).toBe(true);
  });

  it('the tree is read-only for the user vigil runs as', async () => {
    const script = `require('node:fs').writeFileSync(${JSON.stringify(join(root, 'dist', 'x'))}, '')`;
    const denied = await run(
      process.execPath,
      ['-e', script],
      asRoot ? { uid: NOBODY, gid: NOBODY } : {},
    ).then(
      () => 'written',
      (error: { stderr?: string }) => String(error.stderr),
    );

    expect(denied).toMatch(/EACCES|EPERM|EROFS/);
  });

  it('prints its version and checks a config', async () => {
    const version = vigil(['--version']);
    const check = vigil(['config', 'check', '-c', 'examples/minimal.yaml']);

    expect((await version.exited).code).toBe(0);
    expect(version.output().trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await check.exited).code).toBe(0);
    expect(check.output()).toContain('examples/minimal.yaml: ok');
  });

  it('runs the daemon to ready, then stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const daemon = vigil(['run', '-c', 'examples/minimal.yaml'], {
      VIGIL_REDIS_URL: REDIS_URL,
      VIGIL_KEY_PREFIX: redis.prefix.slice(0, -1),
      VIGIL_HTTP_PORT: String(port),
      VIGIL_REPLICA_ID: 'prod-install',
    });
    try {
      await waitFor(
        'vigil ready',
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ||
          undefined,
        60_000,
      );
      daemon.child.kill('SIGTERM');

      expect((await daemon.exited).code).toBe(0);
      expect(daemon.output()).not.toMatch(/EACCES|EROFS|permission denied/i);
    } finally {
      daemon.child.kill('SIGKILL');
    }
  });
});
