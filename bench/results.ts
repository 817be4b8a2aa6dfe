import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { lineChartSvg } from './chart';
import { markdownReport, replaceResultsSection, type SuiteResult } from './report';

export const CHART_FILE = 'throughput.svg';

/** A file-name-safe timestamp: 2026-11-22T12-00-00-000Z. */
export function fileStamp(iso: string): string {
  return iso.replace(/[:.]/g, '-');
}

/**
 * Writes one JSON file per module (<stamp>-<module>.json, each with the
 * machine and options, so it stands alone). A whole-suite run also writes
 * latest.json, latest.md and the throughput chart (when some module drew
 * points). A partial run (--only) writes its tables to <stamp>-summary.md
 * instead: latest.* and the chart are what bench/README.md shows, and a
 * partial run must not replace them with a subset.
 */
export function writeResults(dir: string, suite: SuiteResult): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = fileStamp(suite.startedAt);
  const written: string[] = [];
  const write = (name: string, text: string): void => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    written.push(file);
  };
  for (const m of suite.modules) {
    const { format, startedAt, finishedAt, options, machine } = suite;
    const targets = suite.targets.filter((t) => t.module === m.name);
    const own = { format, startedAt, finishedAt, options, machine, module: m, targets };
    write(`${stamp}-${m.name}.json`, JSON.stringify(own, null, 2) + '\n');
  }
  // Only a whole, full-size run stands for the suite: a partial or --quick run leaves latest.* alone.
  if (suite.options.only !== undefined || suite.options.quick) {
    write(`${stamp}-summary.md`, markdownReport(suite, undefined));
    return written;
  }
  write('latest.json', JSON.stringify(suite, null, 2) + '\n');
  const series = suite.modules.flatMap((m) => m.series ?? []);
  if (series.length > 0) {
    write(
      CHART_FILE,
      lineChartSvg(series, {
        title: `Trending job: tweets/s against parallelism (${suite.startedAt.slice(0, 10)})`,
        xLabel: 'parallelism (worker threads)',
        yLabel: 'tweets/s (median)',
      }),
    );
  }
  write('latest.md', markdownReport(suite, series.length > 0 ? CHART_FILE : undefined));
  return written;
}

/**
 * Rewrites the results section of bench/README.md; the chart is referenced
 * relative to the README. Formatted with the repository's prettier settings
 * (a dev dependency), so `npm test`'s format check passes on a committed run.
 */
export async function updateReadme(readmePath: string, suite: SuiteResult): Promise<void> {
  const hasChart = suite.modules.some((m) => (m.series ?? []).length > 0);
  const section = markdownReport(suite, hasChart ? `results/${CHART_FILE}` : undefined);
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '# Benchmarks\n';
  let text = replaceResultsSection(readme, section);
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(readmePath)) ?? {};
    text = await prettier.format(text, { ...config, filepath: readmePath });
  } catch (err) {
    process.stderr.write(`bench: README left unformatted (${(err as Error).message})\n`);
  }
  writeFileSync(readmePath, text);
}
