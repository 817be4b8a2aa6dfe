/**
 * The contract between the suite runner (bench/suite.ts) and a benchmark
 * module. A module is a file bench/<name>.ts exporting `benchModule`; the
 * runner finds it through the list in bench/modules.ts, so a module can be
 * listed before its file exists (it is then reported as not available).
 *
 * A module measures, it does not judge: it returns metrics (medians over
 * runs, with every run kept) and the targets that apply to them; the runner
 * checks the targets, prints the summary, writes the JSON and draws the chart.
 */

import * as path from 'node:path';

export interface BenchModule {
  /** Unique; used by --only, in result file names and as the key in latest.json. */
  name: string;
  /** One line for the summary table, e.g. "trending job, file source, vs. the yardstick". */
  title: string;
  /**
   * Why this module cannot run here (no broker, no input), or undefined when
   * it can. Called before run(); a reason skips the module with that reason.
   */
  available?(ctx: BenchContext): Promise<string | undefined>;
  run(ctx: BenchContext): Promise<ModuleOutcome>;
}

export interface BenchContext {
  /** --quick: smaller inputs and one run, the whole suite in under two minutes. */
  readonly quick: boolean;
  /** Repetitions of each measurement (medians are reported). */
  readonly runs: number;
  readonly paths: BenchPaths;
  /** A progress bar for this module with `total` steps; call once, then tick() after each step. */
  progress(total: number): ProgressBar;
  /** A status line, printed above the progress bar. */
  log(line: string): void;
  /** The result of a module that ran earlier in this suite run (e.g. to compare against it). */
  earlier(name: string): ModuleResult | undefined;
}

export interface BenchPaths {
  /** The repository. */
  root: string;
  /** The built CLI (dist/src/cli/floe.js). */
  cli: string;
  /** Generated inputs, kept between runs (git-ignored). */
  data: string;
  /** Where result files go. */
  results: string;
}

/** The bench paths of the repository at `root` (the built CLI under dist/). */
export function benchPaths(root: string): BenchPaths {
  return {
    root,
    cli: path.join(root, 'dist', 'src', 'cli', 'floe.js'),
    data: path.join(root, 'bench', 'data'),
    results: path.join(root, 'bench', 'results'),
  };
}

export interface ProgressBar {
  /** One step done; `label` says what comes next or what just finished. */
  tick(label?: string): void;
  stop(): void;
}

/** Thrown by run() when a module finds out mid-way that it cannot run here; the suite goes on. */
export class BenchSkip extends Error {}

export interface ModuleOutcome {
  metrics: Metric[];
  targets?: Target[];
  /** Points for the throughput chart: tweets/s (y) against parallelism (x). */
  series?: ChartSeries[];
  /** Anything else worth keeping in the JSON (parameters, raw per-run data). */
  details?: unknown;
}

export interface Metric {
  /** Stable id, e.g. "job.p2.tweets_per_s"; targets refer to it. */
  key: string;
  label: string;
  /** e.g. "tweets/s", "MB", "ms", "x". */
  unit: string;
  /** The headline value: the median over runs unless the label says otherwise. */
  value: number;
  /** Every run's value. */
  runs: number[];
}

export interface Target {
  /** The metric it applies to (a key of this module's metrics). */
  metric: string;
  op: '>=' | '<=';
  value: number;
  /** Short name for the summary (default: the metric's label). */
  label?: string;
  /** Unit of `value` (default: the metric's), for when the metric was not measured. */
  unit?: string;
  /** Where the target comes from or what it means, for the table. */
  note?: string;
}

export interface ChartSeries {
  name: string;
  points: { x: number; y: number }[];
}

export interface TargetCheck extends Target {
  module: string;
  label: string;
  unit: string;
  measured?: number;
  /** undefined: not measured in this run, or not judged (see `notJudged`). */
  met?: boolean;
  /**
   * Why the measurement was not held against the target: a --quick run's
   * inputs are smaller than the ones the targets are set for.
   */
  notJudged?: string;
}

export interface ModuleResult extends ModuleOutcome {
  name: string;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  reason?: string;
  seconds: number;
  targets: Target[];
}
