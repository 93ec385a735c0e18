import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One commit to add on top of main. Identical inputs give identical SHAs (dates are simulated). */
export interface CommitSpec {
  readonly timeMs: number;
  readonly author: string;
  readonly message: string;
  readonly path: string;
  readonly content: string;
}

/**
 * A real bare git repository standing for the platform repo, built with the git CLI. Commits are
 * streamed through one `git fast-import` process: hundreds of `git commit` spawns would blow the
 * two-second startup budget.
 */
export class PlatformRepo {
  private constructor(
    readonly dir: string,
    private readonly root: string,
  ) {}

  static async create(): Promise<PlatformRepo> {
    const root = await mkdtemp(join(tmpdir(), 'vigil-sandbox-'));
    const dir = join(root, 'platform.git');
    await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir], { env: gitEnv() });
    return new PlatformRepo(dir, root);
  }

  get url(): string {
    return pathToFileURL(this.dir).href;
  }

  /** Appends commits to main in order and returns their SHAs, in the same order. */
  async append(commits: readonly CommitSpec[], parent: string | undefined): Promise<string[]> {
    if (commits.length === 0) return [];
    await this.fastImport(renderStream(commits, parent));
    const { stdout } = await run('git', ['rev-list', `--max-count=${commits.length}`, 'refs/heads/main'], {
      cwd: this.dir,
      env: gitEnv(),
    });
    return stdout.trim().split('\n').reverse();
  }

  /** Moves main back to `sha` (used by reset; the objects stay, re-imports recreate the same SHAs). */
  async resetMain(sha: string): Promise<void> {
    await run('git', ['update-ref', 'refs/heads/main', sha], { cwd: this.dir, env: gitEnv() });
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private fastImport(stream: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['fast-import', '--quiet', '--force'], { cwd: this.dir, env: gitEnv() });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`git fast-import exited with ${code}: ${stderr.trim()}`));
      });
      child.stdin.end(stream);
    });
  }
}

function renderStream(commits: readonly CommitSpec[], parent: string | undefined): string {
  const parts: string[] = [];
  commits.forEach((commit, index) => {
    const seconds = Math.floor(commit.timeMs / 1000);
    const message = `${commit.message}\n`;
    parts.push(
      'commit refs/heads/main',
      `author ${commit.author} ${seconds} +0000`,
      `committer ${commit.author} ${seconds} +0000`,
      `data ${Buffer.byteLength(message)}`,
      message,
    );
    // fast-import continues from the branch tip it already knows inside one stream; the first
    // commit of a later stream must name its parent.
    if (index === 0 && parent !== undefined) parts.push(`from ${parent}`);
    parts.push(
      `M 100644 inline ${commit.path}`,
      `data ${Buffer.byteLength(commit.content)}`,
      commit.content,
      '',
    );
  });
  return `${parts.join('\n')}\n`;
}

/** Git must not read the user's config (signing, hooks, templates) or prompt. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}
