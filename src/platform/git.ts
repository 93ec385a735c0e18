import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError, TransientError } from '../core/errors.js';
import { scrubSecrets } from '../core/logger.js';

/**
 * Local bare mirrors of git repositories, kept by vigil to compare deployed commits with `main`.
 * Uses the real git CLI. Credentials travel only inside the URL or the environment and are
 * scrubbed from every error; git is never allowed to prompt.
 */
export interface GitMirror {
  /** `git fetch` (clone --mirror the first time), bounded by the timeout and the signal. */
  sync(signal: AbortSignal): Promise<void>;
  /** Full sha of a ref or abbreviated commit, or undefined when the repository does not have it. */
  resolve(ref: string, signal: AbortSignal): Promise<string | undefined>;
  /** `git rev-list --count from..to`: commits reachable from `to` but not from `from`. */
  countBetween(from: string, to: string, signal: AbortSignal): Promise<number>;
  /** `git merge-base --is-ancestor ancestor descendant`. */
  isAncestor(ancestor: string, descendant: string, signal: AbortSignal): Promise<boolean>;
}

export interface GitMirrors {
  mirror(url: string): GitMirror;
}

export interface GitSettings {
  /** Directory under which mirrors are kept (one bare repo per URL). */
  readonly directory: string;
  readonly timeoutMs: number;
}

export function createGitMirrors(settings: GitSettings): GitMirrors {
  const mirrors = new Map<string, GitMirror>();
  return {
    mirror(url) {
      let mirror = mirrors.get(url);
      if (!mirror) {
        mirror = new CliGitMirror(url, settings);
        mirrors.set(url, mirror);
      }
      return mirror;
    },
  };
}

const SAFE_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$/;

class CliGitMirror implements GitMirror {
  private readonly path: string;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly settings: GitSettings,
  ) {
    const id = createHash('sha256').update(scrubSecrets(url)).digest('hex').slice(0, 16);
    this.path = join(settings.directory, `${id}.git`);
  }

  sync(signal: AbortSignal): Promise<void> {
    // Concurrent callers share one fetch: two fetches into one repository would fight over its lock.
    this.syncing ??= this.doSync(signal).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async doSync(signal: AbortSignal): Promise<void> {
    if (await exists(join(this.path, 'HEAD'))) {
      await this.git(['fetch', '--prune', '--quiet', 'origin'], signal);
      return;
    }
    await mkdir(this.settings.directory, { recursive: true });
    try {
      await runGit(
        ['clone', '--mirror', '--quiet', '--', this.url, this.path],
        this.settings.timeoutMs,
        signal,
      );
    } catch (error) {
      // A half-made clone would make every later tick "fetch" into a broken repository.
      await rm(this.path, { recursive: true, force: true });
      throw error;
    }
  }

  async resolve(ref: string, signal: AbortSignal): Promise<string | undefined> {
    if (!SAFE_REF.test(ref)) return undefined;
    try {
      const out = await this.git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], signal);
      return out.trim() || undefined;
    } catch (error) {
      if (error instanceof PermanentError && error.code === 'git-exit-1') return undefined;
      throw error;
    }
  }

  async countBetween(from: string, to: string, signal: AbortSignal): Promise<number> {
    assertRefs(from, to);
    const out = await this.git(['rev-list', '--count', `${from}..${to}`], signal);
    return Number.parseInt(out.trim(), 10);
  }

  async isAncestor(ancestor: string, descendant: string, signal: AbortSignal): Promise<boolean> {
    assertRefs(ancestor, descendant);
    try {
      await this.git(['merge-base', '--is-ancestor', ancestor, descendant], signal);
      return true;
    } catch (error) {
      if (error instanceof PermanentError && error.code === 'git-exit-1') return false;
      throw error;
    }
  }

  private git(args: readonly string[], signal: AbortSignal): Promise<string> {
    return runGit(['--git-dir', this.path, ...args], this.settings.timeoutMs, signal);
  }
}

function runGit(args: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        timeout: timeoutMs,
        signal,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const command = scrubSecrets(`git ${args.filter((arg) => arg !== '--quiet').join(' ')}`);
        const detail = scrubSecrets(String(stderr).trim().split('\n')[0] ?? '');
        const exitCode = (error as NodeJS.ErrnoException & { code?: number | string }).code;
        if (error.name === 'AbortError' || (error as { killed?: boolean }).killed) {
          return reject(new TransientError(`${command} timed out or was aborted`, { code: 'git-timeout' }));
        }
        if (typeof exitCode === 'number') {
          // Exit 128 on fetch/clone is usually the network or the remote: worth retrying next tick.
          const transient = exitCode === 128 && (args.includes('fetch') || args.includes('clone'));
          const message = `${command} failed (exit ${exitCode})${detail ? `: ${detail}` : ''}`;
          return reject(
            transient
              ? new TransientError(message, { code: `git-exit-${exitCode}` })
              : new PermanentError(message, { code: `git-exit-${exitCode}` }),
          );
        }
        reject(
          new PermanentError(`${command} could not run: ${scrubSecrets(error.message)}`, {
            code: 'git-missing',
          }),
        );
      },
    );
  });
}

/** Refs come from platform labels: never let one be read as a git option. */
function assertRefs(...refs: string[]): void {
  for (const ref of refs) {
    if (!SAFE_REF.test(ref))
      throw new PermanentError(`not a valid git ref: ${JSON.stringify(ref.slice(0, 80))}`, {
        code: 'git-bad-ref',
      });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
