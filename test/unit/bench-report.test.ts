import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ModuleResult } from '../../bench/bench-module';
import {
  checkTargets,
  consoleSummary,
  markdownReport,
  moduleTable,
  README_END,
  README_START,
  replaceResultsSection,
  type SuiteResult,
} from '../../bench/report';
import { writeResults } from '../../bench/results';

const machine = {
  cpu: 'AMD EPYC',
  cores: 2,
  memoryGb: 24,
  node: 'v20.20.2',
  os: 'Linux 6',
  loadAverage: 1.5,
};

function modules(): ModuleResult[] {
  return [
    {
      name: 'inprocess',
      title: 'trending job',
      status: 'ok',
      seconds: 12.5,
      metrics: [
        {
          key: 'job.p2.tweets_per_s',
          label: 'job p=2',
          unit: 'tweets/s',
          value: 150_000,
          runs: [140_000, 150_000, 160_000],
        },
        { key: 'job.p2.ratio', label: 'job p=2 / yardstick', unit: 'x', value: 0.6, runs: [0.6] },
      ],
      targets: [
        { metric: 'job.p2.tweets_per_s', op: '>=', value: 300_000 },
        { metric: 'job.p2.ratio', op: '>=', value: 0.5, note: 'made up' },
        { metric: 'job.p4.tweets_per_s', label: 'job p=4', op: '>=', value: 1 },
      ],
      series: [{ name: 'trending job', points: [{ x: 2, y: 150_000 }] }],
    },
    {
      name: 'kafka',
      title: 'kafka',
      status: 'skipped',
      reason: 'not available: bench/kafka.ts is not in this build',
      seconds: 0,
      metrics: [],
      targets: [],
    },
  ];
}

function suite(): SuiteResult {
  const ms = modules();
  return {
    format: 1,
    startedAt: '2026-11-22T12:00:00.000Z',
    finishedAt: '2026-11-22T12:05:00.000Z',
    options: { quick: false, runs: 3 },
    machine,
    modules: ms,
    targets: checkTargets(ms),
  };
}

describe('bench report', () => {
  test('targets: met, missed, and not measured', () => {
    const checks = checkTargets(modules());
    expect(checks.map((c) => [c.metric, c.measured, c.met])).toEqual([
      ['job.p2.tweets_per_s', 150_000, false],
      ['job.p2.ratio', 0.6, true],
      ['job.p4.tweets_per_s', undefined, undefined],
    ]);
    expect(checks[0]).toMatchObject({ module: 'inprocess', label: 'job p=2', unit: 'tweets/s' });
    expect(checks[2].label).toBe('job p=4');
  });

  test('a --quick run does not judge targets: they are set for the full inputs', () => {
    const checks = checkTargets(modules(), true);
    expect(checks.map((c) => [c.metric, c.measured, c.met, c.notJudged])).toEqual([
      ['job.p2.tweets_per_s', 150_000, undefined, '--quick: smaller inputs'],
      ['job.p2.ratio', 0.6, undefined, '--quick: smaller inputs'],
      ['job.p4.tweets_per_s', undefined, undefined, undefined],
    ]);
    const quick: SuiteResult = { ...suite(), options: { quick: true, runs: 1 }, targets: checks };
    const text = consoleSummary(quick);
    expect(text).toMatch(
      /job p=2 >= 300,000 tweets\/s +150,000 tweets\/s +not judged \(--quick: smaller inputs\)/,
    );
    expect(text).not.toContain('MISSED');
    expect(markdownReport(quick)).toContain('| not judged (--quick: smaller inputs) |');
  });

  test('the console summary names every metric, skipped modules and every target', () => {
    const text = consoleSummary(suite());
    expect(text).toContain('150,000 tweets/s');
    expect(text).toContain('140,000 tweets/s / 150,000 tweets/s / 160,000 tweets/s');
    expect(text).toContain('0.60x');
    expect(text).toContain('skipped: not available: bench/kafka.ts is not in this build');
    expect(text).toMatch(/job p=2 >= 300,000 tweets\/s .*MISSED/);
    expect(text).toMatch(/yardstick >= 0.50x +0.60x +met/);
    expect(text).toMatch(/job p=4 .*not measured/);
    expect(text).toContain('2 x AMD EPYC, 24 GB RAM');
  });

  test('markdown: the machine, a row per metric, targets, the chart', () => {
    const md = markdownReport(suite(), 'results/throughput.svg');
    expect(md).toContain('2 x AMD EPYC, 24 GB RAM, Linux 6, Node v20.20.2');
    expect(md).toContain('| inprocess | job p=2 | 150,000 tweets/s |');
    expect(md).toContain('| kafka | skipped: not available');
    expect(md).toContain('| MISSED |');
    expect(md).toContain('![tweets/s against parallelism](results/throughput.svg)');
    expect(md).toContain('with `npm run bench` (3 run(s)');
    const partial = { ...suite(), options: { quick: true, runs: 5, only: ['inprocess', 'latency'] } };
    expect(markdownReport(partial)).toContain(
      'with `npm run bench -- --quick --only inprocess,latency` (5 run(s)',
    );
  });

  test('the README section is replaced between its markers, or appended', () => {
    const readme = `# Benchmarks\n\nintro\n\n${README_START}\nold\n${README_END}\n\n## History\nkept\n`;
    const once = replaceResultsSection(readme, 'new table\n');
    expect(once).toContain('intro');
    expect(once).toContain('## History\nkept');
    expect(once).toContain('new table');
    expect(once).not.toContain('old');
    expect(replaceResultsSection(once, 'new table\n')).toBe(once);
    const appended = replaceResultsSection('# Benchmarks\n', 'table\n');
    expect(appended).toContain(`${README_START}\n\ntable\n\n${README_END}`);
  });

  test('result files: one JSON per module, latest.json, latest.md and the chart', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-bench-results-'));
    try {
      const s = suite();
      writeResults(dir, s);
      expect(readdirSync(dir).sort()).toEqual([
        '2026-11-22T12-00-00-000Z-inprocess.json',
        '2026-11-22T12-00-00-000Z-kafka.json',
        'latest.json',
        'latest.md',
        'throughput.svg',
      ]);
      const latest = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')) as SuiteResult;
      expect(latest).toEqual(JSON.parse(JSON.stringify(s)));
      expect(Object.keys(latest).sort()).toEqual(
        ['finishedAt', 'format', 'machine', 'modules', 'options', 'startedAt', 'targets'].sort(),
      );
      const one = JSON.parse(readFileSync(path.join(dir, '2026-11-22T12-00-00-000Z-inprocess.json'), 'utf8'));
      expect(one.machine).toEqual(machine);
      expect(one.module.name).toBe('inprocess');
      expect(one.module.metrics[0]).toEqual({
        key: 'job.p2.tweets_per_s',
        label: 'job p=2',
        unit: 'tweets/s',
        value: 150_000,
        runs: [140_000, 150_000, 160_000],
      });
      expect(one.targets).toHaveLength(3);
      expect(readFileSync(path.join(dir, 'throughput.svg'), 'utf8')).toContain('>150,000<');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a --quick run writes its JSON and a summary, and leaves latest.* and the chart alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-bench-results-'));
    try {
      writeResults(dir, suite());
      const latest = readFileSync(path.join(dir, 'latest.json'), 'utf8');
      const quick: SuiteResult = {
        ...suite(),
        startedAt: '2026-11-22T14:00:00.000Z',
        options: { quick: true, runs: 1 },
      };
      const written = writeResults(dir, quick).map((f) => path.basename(f));
      expect(written).toContain('2026-11-22T14-00-00-000Z-summary.md');
      expect(written).not.toContain('latest.json');
      expect(readFileSync(path.join(dir, 'latest.json'), 'utf8')).toBe(latest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a partial run (--only) writes its JSON and a summary, and leaves latest.* and the chart alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-bench-results-'));
    try {
      writeResults(dir, suite());
      const latest = readFileSync(path.join(dir, 'latest.json'), 'utf8');
      const chart = readFileSync(path.join(dir, 'throughput.svg'), 'utf8');
      const partial: SuiteResult = {
        ...suite(),
        startedAt: '2026-11-22T13:00:00.000Z',
        options: { quick: false, runs: 5, only: ['inprocess'] },
        modules: [modules()[0]],
      };
      const written = writeResults(dir, partial).map((f) => path.basename(f));
      expect(written).toEqual([
        '2026-11-22T13-00-00-000Z-inprocess.json',
        '2026-11-22T13-00-00-000Z-summary.md',
      ]);
      expect(readFileSync(path.join(dir, 'latest.json'), 'utf8')).toBe(latest);
      expect(readFileSync(path.join(dir, 'throughput.svg'), 'utf8')).toBe(chart);
      const summary = readFileSync(path.join(dir, '2026-11-22T13-00-00-000Z-summary.md'), 'utf8');
      expect(summary).toContain('--only inprocess');
      expect(summary).toContain('| inprocess | job p=2 | 150,000 tweets/s |');
      expect(summary).not.toContain('throughput.svg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('module table', () => {
  test('lists the module and its metrics, or why it did not run', () => {
    const [ok, skipped] = modules();
    const text = moduleTable(ok);
    expect(text).toContain('inprocess: trending job');
    expect(text).toMatch(/job p=2 +150,000 tweets\/s/);
    expect(moduleTable(skipped)).toBe('kafka: skipped: not available: bench/kafka.ts is not in this build');
  });
});
