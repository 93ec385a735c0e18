import type { Scenario } from '../scenario/schema.js';
import type { Calendar } from './calendar.js';
import type { CommitSpec } from './git-repo.js';
import { randomFor } from './rng.js';

/** A commit on main, with the simulated day it landed (-1 for history before day 0). */
export interface CommitInfo {
  readonly sha: string;
  readonly day: number;
  readonly position: number;
  readonly message: string;
}

const AUTHORS = [
  'Dana Whitfield <dana@nba-props.example>',
  'Ravi Menon <ravi@nba-props.example>',
  'Lena Park <lena@nba-props.example>',
  'Tomas Ortiz <tomas@nba-props.example>',
];
const SCOPES = [
  'phase2',
  'phase3',
  'phase4',
  'predictions',
  'grading',
  'orchestration',
  'monitoring',
  'infra',
];
const VERBS = ['fix', 'feat', 'refactor', 'chore', 'perf', 'test', 'docs'];
const TOPICS = [
  'tighten null handling in the odds join',
  'retry transient BigQuery quota errors',
  'add player context backfill flag',
  'split the feature builder into stages',
  'log processor durations',
  'bump catboost to 1.2.7',
  'handle postponed games in the schedule scraper',
  'cache team pace lookups',
  'validate prop lines before publishing',
  'clean up unused Firestore writes',
];

export const VEGAS_FIX_MESSAGE =
  'fix(phase4): restore Vegas points line join for odds_api v2 props (session 76)';

/** The commits that land on `day` (history before day 0 when day is -1); deterministic per seed. */
export function commitsForDay(
  scenario: Scenario,
  seed: number,
  calendar: Calendar,
  day: number,
  first: number,
): CommitSpec[] {
  const count =
    day < 0 ? scenario.repo.history_commits : scenario.repo.commits_by_weekday[calendar.weekday(day)];
  const random = randomFor(seed, 'commits', day);
  const specs: CommitSpec[] = [];
  for (let index = 0; index < count; index++) {
    const number = first + index;
    // History spreads over the 30 days before day 0; a scenario day's commits land 07:00-09:59,
    // before that day's deploys (10:00) and data runs (10:30).
    const timeMs =
      day < 0
        ? calendar.at(-30, 9) + Math.floor((index / count) * 29 * 86_400_000)
        : calendar.at(day, 7) + Math.floor((index / Math.max(count, 1)) * 3 * 3_600_000);
    const isFix = day === scenario.repo.vegas_fix_day && index === 0;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const scope = pick(SCOPES);
    specs.push({
      timeMs,
      author: pick(AUTHORS),
      message: isFix ? VEGAS_FIX_MESSAGE : `${pick(VERBS)}(${scope}): ${pick(TOPICS)} (#${1000 + number})`,
      path: isFix ? 'data_processors/precompute/ml_feature_store/vegas_line.py' : `changes/${scope}.log`,
      content: isFix
        ? '# joins odds_api v2 props on player_lookup\nVEGAS_SOURCE = "odds_api_v2"\n'
        : `change ${number}\n`,
    });
  }
  return specs;
}

/** Main's history in order, with lookups by SHA or unique prefix (an image tag, a label). */
export class CommitIndex {
  private readonly commits: CommitInfo[] = [];
  private readonly bySha = new Map<string, CommitInfo>();

  add(sha: string, day: number, message: string): void {
    const info = { sha, day, position: this.commits.length, message };
    this.commits.push(info);
    this.bySha.set(sha, info);
  }

  get size(): number {
    return this.commits.length;
  }

  get head(): CommitInfo | undefined {
    return this.commits.at(-1);
  }

  /** The tip of main at the end of `day`'s commits (commits are stored in day order). */
  headAt(day: number): CommitInfo | undefined {
    for (let index = this.commits.length - 1; index >= 0; index--) {
      const info = this.commits[index] as CommitInfo;
      if (info.day <= day) return info;
    }
    return undefined;
  }

  /** Drops commits after `size` (reset). */
  truncate(size: number): void {
    for (const info of this.commits.splice(size)) this.bySha.delete(info.sha);
  }

  at(position: number): CommitInfo | undefined {
    return this.commits[position];
  }

  /** The commit named by a full SHA or a unique prefix of at least 7 hex digits. */
  resolve(ref: string): CommitInfo | undefined {
    const wanted = ref.toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(wanted)) return undefined;
    const exact = this.bySha.get(wanted);
    if (exact) return exact;
    const matches = this.commits.filter((info) => info.sha.startsWith(wanted));
    return matches.length === 1 ? matches[0] : undefined;
  }

  find(predicate: (info: CommitInfo) => boolean): CommitInfo | undefined {
    return this.commits.find(predicate);
  }
}
