import type { Metric, ModuleResult, TargetCheck } from './bench-module';
import { machineLine, type MachineInfo } from './machine';

/** Everything one suite run produced; written as bench/results/latest.json. */
export interface SuiteResult {
  /** Bumped when the shape changes, so readers of old files can tell. */
  format: 1;
  startedAt: string;
  finishedAt: string;
  options: { quick: boolean; runs: number; only?: string[] };
  machine: MachineInfo;
  modules: ModuleResult[];
  targets: TargetCheck[];
}

/**
 * Checks every module's targets against its metrics; a target on a metric not
 * measured is neither met nor missed. With `quick`, none is judged: the
 * targets are set for the full inputs, and at a tenth of them fixed costs
 * (start-up, the JIT) dominate.
 */
export function checkTargets(modules: readonly ModuleResult[], quick = false): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const m of modules) {
    for (const t of m.targets) {
      const metric = m.metrics.find((x) => x.key === t.metric);
      const measured = metric !== undefined && Number.isFinite(metric.value) ? metric.value : undefined;
      const judged = measured !== undefined && !quick;
      out.push({
        ...t,
        module: m.name,
        label: t.label ?? metric?.label ?? t.metric,
        unit: metric?.unit ?? t.unit ?? '',
        measured,
        met: judged ? (t.op === '>=' ? measured >= t.value : measured <= t.value) : undefined,
        ...(quick && measured !== undefined ? { notJudged: '--quick: smaller inputs' } : {}),
      });
    }
  }
  return out;
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits =
    unit === 'x' ? 2 : Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : value >= 10 ? 1 : 2;
  const n = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === 'x' ? `${n}x` : `${n} ${unit}`;
}

export function verdict(c: TargetCheck): string {
  if (c.notJudged !== undefined) return `not judged (${c.notJudged})`;
  return c.met === undefined ? 'not measured' : c.met ? 'met' : 'MISSED';
}

const runsText = (m: Metric): string =>
  m.runs.length > 1 ? m.runs.map((r) => formatValue(r, m.unit)).join(' / ') : '';

/** Plain-text table with aligned columns; the first column left-aligned, the rest right-aligned unless told. */
export function textTable(rows: string[][], leftAligned: readonly number[] = [0]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (leftAligned.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One module's table, printed as soon as it finishes (the suite's summary repeats it). */
export function moduleTable(m: ModuleResult): string {
  if (m.status !== 'ok') return `${m.name}: ${m.status}: ${m.reason ?? ''}`;
  const rows = [[`${m.name}: ${m.title}`, 'median', 'runs']];
  for (const x of m.metrics) rows.push([`  ${x.label}`, formatValue(x.value, x.unit), runsText(x)]);
  return textTable(rows, [0]) + `\n  (${m.seconds} s)`;
}

/** The console summary: every metric of every module, then the targets. */
export function consoleSummary(suite: SuiteResult): string {
  const rows: string[][] = [['module', 'metric', 'median', 'runs']];
  for (const m of suite.modules) {
    if (m.status !== 'ok') {
      rows.push([m.name, m.status === 'skipped' ? `skipped: ${m.reason}` : `FAILED: ${m.reason}`, '', '']);
      continue;
    }
    for (const x of m.metrics) rows.push([m.name, x.label, formatValue(x.value, x.unit), runsText(x)]);
  }
  const targets: string[][] = [['target', 'measured', 'result']];
  for (const c of suite.targets) {
    targets.push([
      `${c.module}: ${c.label} ${c.op} ${formatValue(c.value, c.unit)}`,
      c.measured === undefined ? '-' : formatValue(c.measured, c.unit),
      verdict(c),
    ]);
  }
  return [
    `Floe benchmark suite${suite.options.quick ? ' (--quick)' : ''}, ${suite.options.runs} run(s) each, ${suite.startedAt}`,
    machineLine(suite.machine),
    '',
    textTable(rows, [0, 1]),
    '',
    targets.length > 1 ? textTable(targets, [0]) : 'no targets',
  ].join('\n');
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|');

/** The command line of a run, as a reader would type it again (runs are said next to it). */
function benchCommand(options: SuiteResult['options']): string {
  const args = [
    ...(options.quick ? ['--quick'] : []),
    ...(options.only !== undefined ? ['--only', options.only.join(',')] : []),
  ];
  return args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`;
}

/** The results section of bench/README.md (and bench/results/latest.md). */
export function markdownReport(suite: SuiteResult, chartPath?: string): string {
  const lines: string[] = [];
  lines.push(
    `Measured ${suite.startedAt.slice(0, 10)} with \`${benchCommand(suite.options)}\` ` +
      `(${suite.options.runs} run(s) of each measurement; medians) on: ${machineLine(suite.machine)}.`,
    '',
    '| module | metric | median | runs |',
    '| --- | --- | ---: | --- |',
  );
  for (const m of suite.modules) {
    if (m.status !== 'ok') {
      lines.push(
        `| ${m.name} | ${m.status === 'skipped' ? 'skipped' : 'FAILED'}: ${mdCell(m.reason ?? '')} | | |`,
      );
      continue;
    }
    for (const x of m.metrics) {
      lines.push(`| ${m.name} | ${mdCell(x.label)} | ${formatValue(x.value, x.unit)} | ${runsText(x)} |`);
    }
  }
  if (suite.targets.length > 0) {
    lines.push('', '| target | measured | result |', '| --- | ---: | --- |');
    for (const c of suite.targets) {
      const note = c.note === undefined ? '' : ` (${mdCell(c.note)})`;
      lines.push(
        `| ${c.module}: ${mdCell(c.label)} ${c.op} ${formatValue(c.value, c.unit)}${note} | ${c.measured === undefined ? '-' : formatValue(c.measured, c.unit)} | ${verdict(c)} |`,
      );
    }
  }
  if (chartPath !== undefined) lines.push('', `![tweets/s against parallelism](${chartPath})`);
  return lines.join('\n') + '\n';
}

export const README_START = '<!-- bench-results:start (written by npm run bench -- --readme) -->';
export const README_END = '<!-- bench-results:end -->';

/** Replaces the marked results section of a README (appends one when there is none). */
export function replaceResultsSection(readme: string, section: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  const block = `${README_START}\n\n${section}\n${README_END}`;
  if (start === -1 || end === -1 || end < start) return `${readme.trimEnd()}\n\n${block}\n`;
  return readme.slice(0, start) + block + readme.slice(end + README_END.length);
}
