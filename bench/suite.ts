/**
 * The benchmark suite: runs the modules listed in bench/modules.ts, prints a
 * summary with the targets, writes bench/results/ (JSON per module,
 * latest.json, latest.md, throughput.svg) and, with --readme, the results
 * section of bench/README.md.
 *
 *   npm run bench [-- --quick] [-- --only inprocess,latency] [-- --runs 5] [-- --readme]
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { BenchSkip, benchPaths, type BenchContext, type ModuleResult } from './bench-module';
import { describeMachine } from './machine';
import { loadModule, SUITE_MODULES } from './modules';
import { SuiteProgress } from './progress';
import { checkTargets, consoleSummary, moduleTable, type SuiteResult } from './report';
import { updateReadme, writeResults } from './results';
import { parseSuiteArgs, SUITE_USAGE, SuiteUsageError } from './suite-options';

const root = path.resolve(__dirname, '..', '..');

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseSuiteArgs(
      argv,
      SUITE_MODULES.map((m) => m.name),
    );
  } catch (err) {
    if (!(err instanceof SuiteUsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${SUITE_USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(SUITE_USAGE + '\n');
    return 0;
  }
  const paths = benchPaths(root);
  if (!existsSync(paths.cli)) {
    process.stderr.write(`bench: ${paths.cli} is missing; run npm run build first\n`);
    return 2;
  }
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  const selected = SUITE_MODULES.filter((m) => options.only === undefined || options.only.includes(m.name));
  const progress = new SuiteProgress();
  const results: ModuleResult[] = [];
  for (const entry of selected) {
    const started = performance.now();
    const done = (r: Omit<ModuleResult, 'name' | 'seconds' | 'title'> & { title?: string }): void => {
      const result: ModuleResult = {
        name: entry.name,
        title: r.title ?? entry.name,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        ...r,
      };
      results.push(result);
      if (result.status === 'ok') progress.log(moduleTable(result) + '\n');
    };
    let loaded: ReturnType<typeof loadModule>;
    try {
      loaded = loadModule(entry);
    } catch (err) {
      // A module that does not load (a syntax error, a wrong export) fails alone; the others still run.
      const message = (err as Error)?.message ?? String(err);
      progress.log(`${entry.name}: FAILED to load: ${message}`);
      done({ status: 'failed', reason: message.split('\n')[0], metrics: [], targets: [] });
      continue;
    }
    if ('unavailable' in loaded) {
      progress.log(`${entry.name}: skipped, ${loaded.unavailable}`);
      done({ status: 'skipped', reason: loaded.unavailable, metrics: [], targets: [] });
      continue;
    }
    const ctx: BenchContext = {
      quick: options.quick,
      runs: options.runs,
      paths,
      progress: (total) => progress.bar(entry.name, total),
      log: (line) => progress.log(`${entry.name}: ${line}`),
      earlier: (name) => results.find((r) => r.name === name),
    };
    try {
      const reason = await loaded.available?.(ctx);
      if (reason !== undefined) {
        progress.log(`${entry.name}: skipped, ${reason}`);
        done({ title: loaded.title, status: 'skipped', reason, metrics: [], targets: [] });
        continue;
      }
      const outcome = await loaded.run(ctx);
      done({ title: loaded.title, status: 'ok', ...outcome, targets: outcome.targets ?? [] });
    } catch (err) {
      const skip = err instanceof BenchSkip;
      const message = (err as Error)?.message ?? String(err);
      progress.log(
        `${entry.name}: ${skip ? 'skipped' : 'FAILED'}: ${skip ? message : ((err as Error)?.stack ?? message)}`,
      );
      done({
        title: loaded.title,
        status: skip ? 'skipped' : 'failed',
        reason: message.split('\n')[0],
        metrics: [],
        targets: [],
      });
    }
  }
  progress.stop();
  const suite: SuiteResult = {
    format: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { quick: options.quick, runs: options.runs, ...(options.only ? { only: options.only } : {}) },
    machine,
    modules: results,
    targets: checkTargets(results, options.quick),
  };
  const written = writeResults(paths.results, suite);
  if (options.readme) await updateReadme(path.join(root, 'bench', 'README.md'), suite);
  process.stdout.write(consoleSummary(suite) + '\n\n');
  process.stdout.write(`results: ${written.map((f) => path.relative(root, f)).join(', ')}\n`);
  // Missed targets are findings, not failures; a module that broke is.
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
