import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/core/errors.js';
import { createGitMirrors } from '../../src/platform/git.js';
import { createTestRepo } from '../support/git.js';

const signal = new AbortController().signal;

describe('git mirrors (real git CLI)', () => {
  it('clones a mirror once, fetches new commits, counts and checks ancestry', async () => {
    const repo = await createTestRepo();
    const deployed = repo.commit(3, 'before fix');
    const fix = repo.commit(1, 'vegas line fix');
    const mirrors = createGitMirrors({
      directory: await mkdtemp(join(tmpdir(), 'vigil-mirrors-')),
      timeoutMs: 10_000,
    });
    const mirror = mirrors.mirror(repo.bare);

    await mirror.sync(signal);
    const mainBefore = await mirror.resolve('main', signal);
    repo.commit(5, 'after fix');
    await mirror.sync(signal);
    const main = (await mirror.resolve('main', signal)) as string;

    expect(mainBefore).toBe(fix);
    expect(main).toBe(repo.head());
    expect(await mirror.countBetween(deployed, main, signal)).toBe(6);
    expect(await mirror.isAncestor(fix, main, signal)).toBe(true);
    expect(await mirror.isAncestor(fix, deployed, signal)).toBe(false);
    expect(await mirror.resolve(deployed.slice(0, 8), signal)).toBe(deployed);
    expect(await mirror.resolve('0123456789abcdef0123456789abcdef01234567', signal)).toBeUndefined();
    expect(mirrors.mirror(repo.bare)).toBe(mirror);
  });

  it('classifies an unreachable remote as transient and never leaks credentials', async () => {
    const mirrors = createGitMirrors({
      directory: await mkdtemp(join(tmpdir(), 'vigil-mirrors-')),
      timeoutMs: 10_000,
    });
    const mirror = mirrors.mirror('http://deploy-bot:s3cr3t-token@127.0.0.1:1/platform.git');

    const error = await mirror.sync(signal).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect(String((error as Error).message)).not.toContain('s3cr3t-token');
  });

  it('refuses refs that could be read as options', async () => {
    const repo = await createTestRepo();
    const mirror = createGitMirrors({
      directory: await mkdtemp(join(tmpdir(), 'vigil-mirrors-')),
      timeoutMs: 10_000,
    }).mirror(repo.bare);
    await mirror.sync(signal);

    expect(await mirror.resolve('--output=/tmp/x', signal)).toBeUndefined();
    await expect(mirror.countBetween('nope-not-a-ref', 'main', signal)).rejects.toBeInstanceOf(
      PermanentError,
    );
  });
});
