import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ManualClock } from '../../core/clock.js';
import type { HealthMode } from '../run/model.js';
import { RunPlatform, servingRevision } from '../run/platform.js';
import type { Scenario } from '../scenario/schema.js';
import { parseBackfillArgs } from './backfill-args.js';
import { Calendar } from './calendar.js';
import { applyEvent, type DeployContext, deploy, serviceTemplate } from './deployments.js';
import { type CommitSpec, PlatformRepo } from './git-repo.js';
import { CommitIndex, commitsForDay } from './history.js';
import { type DayPlan, planStatements, registryStatement } from './plan.js';
import { randomFor } from './rng.js';
import { buildRoster, gamesOn } from './roster.js';
import {
  actualsSql,
  backfillGradingSql,
  featuresSql,
  PLAN_DDL,
  playByPlaySql,
  playerBaseSql,
  predictionsSql,
  processorRunsSql,
  scheduledGradingSql,
} from './sql.js';
import { BIGQUERY_MACROS, DATASETS, INTERNAL_SCHEMA, PHASE3_PROCESSORS, TABLE_DDL } from './tables.js';

export interface WorldOptions {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly operationDelayMs: number;
  /** Reuse a repository (reset): main is rewritten with the same, deterministic commits. */
  readonly repo?: PlatformRepo;
}

/**
 * The simulated platform: DuckDB tables, the Cloud Run control plane and the git repository,
 * moved forward one simulated day at a time. Only `advanceTo` moves the clock.
 */
export class World {
  readonly clock: ManualClock;
  readonly calendar: Calendar;
  readonly commits = new CommitIndex();
  readonly run: RunPlatform;
  /** Current simulated day; -1 until the first advance. */
  day = -1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly scenario: Scenario,
    readonly seed: number,
    readonly repo: PlatformRepo,
    private readonly instance: DuckDBInstance,
    private readonly generation: DuckDBConnection,
    /** The connection client SQL runs on (no plan tables visible). */
    readonly queries: DuckDBConnection,
    operationDelayMs: number,
  ) {
    this.calendar = new Calendar(scenario.start_date);
    this.clock = new ManualClock(this.calendar.at(-1, 10));
    this.run = new RunPlatform({
      project: scenario.project,
      region: scenario.region,
      seed,
      clock: this.clock,
      operationDelayMs,
      resolveCommit: (ref) => this.commits.resolve(ref)?.sha,
      onExecution: (_job, args) => this.exclusive(() => this.backfill(args)),
    });
  }

  static async create(options: WorldOptions): Promise<World> {
    const [instance, repo] = await Promise.all([
      DuckDBInstance.create(':memory:'),
      options.repo ?? PlatformRepo.create(),
    ]);
    const generation = await instance.connect();
    const queries = await instance.connect();
    const world = new World(
      options.scenario,
      options.seed,
      repo,
      instance,
      generation,
      queries,
      options.operationDelayMs,
    );
    await world.setUp();
    return world;
  }

  /** Serialises mutations: a day advance and a backfill never interleave. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Generates every day after the current one up to `target` (inclusive). */
  advanceTo(target: number): Promise<void> {
    return this.exclusive(async () => {
      if (!Number.isInteger(target) || target < this.day) {
        throw new RangeError(`cannot move the simulated clock back from day ${this.day} to day ${target}`);
      }
      if (target > 366) throw new RangeError(`day ${target} is beyond the one-year simulation horizon`);
      if (target === this.day) return;
      await this.appendCommits(this.day + 1, target);
      const plans: DayPlan[] = [];
      for (let day = this.day + 1; day <= target; day++) plans.push(this.simulateMorning(day));
      // The small plan statements go in one call: each call costs a round trip into DuckDB.
      await this.exec([
        planStatements(this.scenario, this.calendar, plans).join(';\n'),
        ...this.dataStatements(),
      ]);
      await this.generation.run(
        `UPDATE nba_raw.game_schedule SET game_status = 'Final' WHERE game_date < DATE '${this.calendar.dateOf(target)}'`,
      );
      this.day = target;
      this.clock.set(this.calendar.noon(target));
    });
  }

  /** How the service's serving revision answers its health endpoint. */
  health(service: string): { mode: HealthMode; revision: string | undefined } {
    const record = this.run.getService(service);
    const serving = servingRevision(record);
    if (!serving?.ready) return { mode: 'error', revision: serving?.id };
    return { mode: serving.health, revision: serving.id };
  }

  async close(removeRepo = true): Promise<void> {
    await this.run.stop();
    await this.queue;
    this.generation.closeSync();
    this.queries.closeSync();
    this.instance.closeSync();
    if (removeRepo) await this.repo.remove();
  }

  private async setUp(): Promise<void> {
    const statements = [
      // Generated rows need no particular order, and inserts are measurably faster without it.
      'SET preserve_insertion_order = false',
      ...[...DATASETS, INTERNAL_SCHEMA].map((dataset) => `CREATE SCHEMA ${dataset}`),
      ...TABLE_DDL,
      ...PLAN_DDL,
      ...registryStatement(buildRoster(this.scenario, this.seed)),
      playerBaseSql(this.seed),
      `INSERT INTO model_props VALUES ${Object.entries(this.scenario.models)
        .flatMap(([model, settings]) => settings.props.map((prop) => `('${model}', '${prop}')`))
        .join(', ')}`,
      `INSERT INTO processors VALUES ${PHASE3_PROCESSORS.map((name, index) => `('${name}', ${index})`).join(', ')}`,
    ];
    // DuckDB setup and the git history import are independent: run them side by side.
    await Promise.all([
      this.exec([statements.join(';\n')]).then(() => this.queries.run(BIGQUERY_MACROS.join(';\n'))),
      this.appendCommits(-1, -1),
    ]);
    const head = this.commits.head?.sha as string;
    for (const [name, settings] of Object.entries(this.scenario.services)) {
      this.run.createService(
        name,
        settings.description,
        serviceTemplate(this.scenario, name, head, 'initial import'),
        'platform-admin@nba-props.example',
      );
    }
    this.run.createJob(
      this.scenario.grading.backfill_job,
      serviceTemplate(this.scenario, this.scenario.grading.backfill_job, head, 'initial import'),
    );
  }

  private async exec(statements: readonly string[]): Promise<void> {
    for (const sql of statements) await this.generation.run(sql);
  }

  private dataStatements(): string[] {
    const seed = this.seed;
    return [
      featuresSql(seed, this.scenario.roster.active_pct),
      predictionsSql(seed),
      actualsSql(seed),
      playByPlaySql(seed),
      processorRunsSql(seed),
      scheduledGradingSql(seed),
    ];
  }

  /** Commits for days first..last in one fast-import (day -1 = history before day 0). */
  private async appendCommits(first: number, last: number): Promise<void> {
    const specs: CommitSpec[] = [];
    const days: number[] = [];
    for (let day = first; day <= last; day++) {
      for (const spec of commitsForDay(
        this.scenario,
        this.seed,
        this.calendar,
        day,
        this.commits.size + specs.length,
      )) {
        specs.push(spec);
        days.push(day);
      }
    }
    const shas = await this.repo.append(specs, this.commits.head?.sha);
    for (const [index, sha] of shas.entries())
      this.commits.add(sha, days[index] as number, specs[index]?.message ?? '');
  }

  /** Deploys and events at 10:00, then the day's plan at 10:30 reflects what is serving. */
  private simulateMorning(day: number): DayPlan {
    this.clock.set(this.calendar.at(day, 10));
    for (const [name, settings] of Object.entries(this.scenario.services)) {
      const auto = settings.auto_deploy;
      if (
        auto &&
        day >= auto.from_day &&
        day <= auto.to_day &&
        (day - auto.from_day) % auto.every_days === 0
      ) {
        deploy(this.deployments(), name, this.commits.headAt(day)?.sha as string, 'cloud-build (main)');
      }
    }
    for (const event of this.scenario.events) if (event.day === day) applyEvent(this.deployments(), event);
    const vegas = this.scenario.vegas_line;
    const phase4 = servingRevision(this.run.getService(vegas.service));
    const withFix = phase4?.commit !== undefined && this.containsFix(phase4.commit);
    const noise = (randomFor(this.seed, 'vegas-noise', day)() * 2 - 1) * vegas.noise_pts;
    const pct = (withFix ? vegas.coverage_with_fix_pct : vegas.coverage_without_fix_pct) + noise;
    const worker = this.health(this.scenario.predictions.worker_service);
    return {
      day,
      date: this.calendar.dateOf(day),
      vegasCoverage: Math.min(100, Math.max(0, pct)) / 100,
      phase4Commit: phase4?.commit ?? '',
      volumeFraction: worker.mode === 'ok' ? 1 : this.scenario.predictions.wedged_volume_pct / 100,
      games: gamesOn(this.scenario, this.seed, this.calendar, day),
    };
  }

  private deployments(): DeployContext {
    return { scenario: this.scenario, run: this.run, commits: this.commits, clock: this.clock };
  }

  containsFix(sha: string): boolean {
    const fix = this.fixCommit();
    const commit = this.commits.resolve(sha);
    return fix !== undefined && commit !== undefined && commit.position >= fix.position;
  }

  fixCommit() {
    return this.commits.find((info) => info.day === this.scenario.repo.vegas_fix_day);
  }

  /** The grading-backfill job: grades every gradeable prediction in the date range. */
  private async backfill(args: readonly string[]): Promise<Record<string, number | string>> {
    const { start, end } = parseBackfillArgs(args);
    const before = await this.count('sandbox_internal.graded');
    await this.generation.run(
      backfillGradingSql()
        .replaceAll('$start', `DATE '${start}'`)
        .replaceAll('$end', `DATE '${end}'`)
        .replaceAll(
          '$graded_at',
          `TIMESTAMP '${new Date(this.clock.now()).toISOString().replace('T', ' ').replace('Z', '')}'`,
        ),
    );
    const graded = (await this.count('sandbox_internal.graded')) - before;
    return { start_date: start, end_date: end, graded_rows: graded };
  }

  async count(table: string, where = 'true'): Promise<number> {
    const reader = await this.generation.runAndReadAll(`SELECT count(*) FROM ${table} WHERE ${where}`);
    return Number(reader.getRows()[0]?.[0] ?? 0);
  }
}
