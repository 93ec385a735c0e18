import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A compiled vigil outside the checkout: dist/, bin/, package.json, examples/ (no src/). */
export interface Build {
  readonly root: string;
  /** `bin/vigil.js` of the build: without src/ next to it, it runs dist/. */
  readonly bin: string;
}

/**
 * Compiles src/ once per source state (keyed by a hash of src/, package.json and the lock
 * file) into a temp dir, with the checkout's node_modules linked unless `withModules` is
 * false. Concurrent callers each build and the first rename wins; the rest use it.
 */
export async function buildVigil(withModules = true): Promise<Build> {
  const key = await sourceHash();
  const root = join(tmpdir(), `vigil-build-${key}${withModules ? '' : '-bare'}`);
  const bin = join(root, 'bin', 'vigil.js');
  if (await exists(join(root, 'READY'))) return { root, bin };
  const staging = `${root}.${process.pid}.${Date.now()}`;
  await mkdir(staging, { recursive: true });
  await run(
    process.execPath,
    [
      join(REPO, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(REPO, 'tsconfig.build.json'),
      '--outDir',
      join(staging, 'dist'),
    ],
    {
      cwd: REPO,
      timeout: 180_000,
    },
  );
  await cp(join(REPO, 'src/sandbox/scenarios'), join(staging, 'dist/sandbox/scenarios'), { recursive: true });
  for (const entry of ['bin', 'examples', 'package.json', 'package-lock.json'])
    await cp(join(REPO, entry), join(staging, entry), { recursive: true });
  if (withModules) await symlink(join(REPO, 'node_modules'), join(staging, 'node_modules'), 'dir');
  await cp(join(REPO, 'package.json'), join(staging, 'READY'));
  try {
    await rename(staging, root);
  } catch {
    // Another test built the same sources first.
    await rm(staging, { recursive: true, force: true });
  }
  return { root, bin };
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    join(REPO, 'package.json'),
    join(REPO, 'package-lock.json'),
    ...(await listFiles(join(REPO, 'src'))),
  ];
  for (const file of files.sort()) {
    hash.update(relative(REPO, file));
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
    ),
  );
  return nested.flat();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
