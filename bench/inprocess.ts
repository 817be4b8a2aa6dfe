/**
 * In-process throughput: the trending job reading a file of generated
 * tweets at parallelism 1 and 2, each run next to a yardstick run on the
 * same file (bench/yardstick.ts), so the ratio job / yardstick of a run
 * compares two programs measured under the same load.
 */
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { ensureTweets, runTrending, type TrendingRun } from './floe-process';
import { median, percentile } from './stats';
import { runYardstick, type YardstickRun } from './yardstick';

const PARALLELISMS = [1, 2];

/** A metric whose value is the median of its runs. */
function metric(key: string, label: string, unit: string, runs: number[]): Metric {
  return { key, label, unit, value: median(runs), runs };
}

interface CpuRun {
  tweets: number;
  cpuSeconds: number | null;
}

/** CPU seconds per tweet (user + system, every thread); null off Linux. */
function cpuPerTweet(r: CpuRun): number | null {
  return r.cpuSeconds === null ? null : r.cpuSeconds / r.tweets;
}

/**
 * CPU per tweet: the work a program does, which host contention on a shared
 * machine moves less than it moves wall time, so it shows smaller changes to
 * the job than wall-time pairs do, and how much of a core's worth the job
 * needs beside the yardstick.
 */
function cpuMetric(key: string, label: string, runs: CpuRun[]): Metric[] {
  const values = runs.flatMap((r) => {
    const cpu = cpuPerTweet(r);
    return cpu === null ? [] : [cpu * 1e6];
  });
  return values.length === 0 ? [] : [metric(key, `${label} CPU per tweet (all threads)`, 'us', values)];
}

/** Tweets per CPU-second of the job over the yardstick's, per round: above 1, the job does less work per tweet. */
function cpuRatioMetric(p: number, runs: TrendingRun[], yardsticks: YardstickRun[]): Metric[] {
  const values = runs.flatMap((r, i) => {
    const job = cpuPerTweet(r);
    const yardstick = cpuPerTweet(yardsticks[i]);
    return job === null || yardstick === null ? [] : [yardstick / job];
  });
  return values.length === 0
    ? []
    : [
        metric(
          `job.p${p}.cpu_ratio`,
          `job p=${p} tweets per CPU-second / yardstick's (same run)`,
          'x',
          values,
        ),
      ];
}

/**
 * Where a run's wall time went (JobTimeline): start-up to the first record,
 * the reading phase, and the end of input (the last windows fire). On 1M
 * tweets the first and last are a large share of the run, which the
 * throughput figure hides.
 */
function phaseMetrics(p: number, runs: TrendingRun[], yardsticks: YardstickRun[]): Metric[] {
  // Runs whose timeline has every phase, each next to the same round's yardstick.
  const phases = runs.flatMap((r, i) => {
    const t = r.timeline;
    if (t === undefined || t.firstRecordMs === null || t.sourcesDoneMs === null) return [];
    const readRate = Math.round(r.tweets / ((t.sourcesDoneMs - t.firstRecordMs) / 1000));
    return [
      {
        startup: Math.round(t.firstRecordMs),
        readRate,
        readRatio: readRate / yardsticks[i].tweetsPerSecond,
        drain: Math.round(t.finishedMs - t.sourcesDoneMs),
      },
    ];
  });
  if (phases.length === 0) return [];
  const m = (key: string, label: string, unit: string, values: number[]): Metric =>
    metric(`job.p${p}.${key}`, `job p=${p} ${label}`, unit, values);
  return [
    m(
      'first_record_ms',
      'start-up: process start -> first record',
      'ms',
      phases.map((x) => x.startup),
    ),
    m(
      'read_tweets_per_s',
      'reading phase: first record -> end of input',
      'tweets/s',
      phases.map((x) => x.readRate),
    ),
    m(
      'read_ratio',
      'reading phase / yardstick (same run)',
      'x',
      phases.map((x) => x.readRatio),
    ),
    m(
      'drain_ms',
      'end of input -> done: last windows fire, output written',
      'ms',
      phases.map((x) => x.drain),
    ),
  ];
}

export const benchModule: BenchModule = {
  name: 'inprocess',
  title: 'trending job, file source, against the yardstick',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const count = ctx.quick ? 100_000 : 1_000_000;
    const bar = ctx.progress(1 + ctx.runs * (1 + PARALLELISMS.length));
    const file = await ensureTweets(ctx.paths, count);
    bar.tick('input ready');
    const yardsticks: YardstickRun[] = [];
    const jobs = new Map<number, TrendingRun[]>(PARALLELISMS.map((p) => [p, []]));
    const ratios = new Map<number, number[]>(PARALLELISMS.map((p) => [p, []]));
    for (let run = 1; run <= ctx.runs; run++) {
      const y = await runYardstick(file);
      yardsticks.push(y);
      bar.tick(`run ${run}: yardstick ${y.tweetsPerSecond.toLocaleString('en-US')}/s`);
      for (const p of PARALLELISMS) {
        const j = await runTrending(ctx.paths, `file:${file}`, p);
        jobs.get(p)!.push(j);
        ratios.get(p)!.push(j.tweetsPerSecond / y.tweetsPerSecond);
        bar.tick(`run ${run}: p=${p} ${j.tweetsPerSecond.toLocaleString('en-US')}/s`);
      }
    }
    bar.stop();

    const metrics: Metric[] = [
      metric(
        'yardstick.tweets_per_s',
        'yardstick (1 thread: readline + JSON.parse + Map)',
        'tweets/s',
        yardsticks.map((y) => y.tweetsPerSecond),
      ),
      ...cpuMetric('yardstick.cpu_us_per_tweet', 'yardstick', yardsticks),
    ];
    for (const p of PARALLELISMS) {
      const runs = jobs.get(p)!;
      const latency = runs.flatMap((r) => r.latency.map((s) => s.latency_ms));
      metrics.push(
        metric(
          `job.p${p}.tweets_per_s`,
          `job p=${p}`,
          'tweets/s',
          runs.map((r) => r.tweetsPerSecond),
        ),
        metric(`job.p${p}.ratio`, `job p=${p} / yardstick (same run)`, 'x', ratios.get(p)!),
        metric(
          `job.p${p}.peak_rss_mb`,
          `job p=${p} peak RSS`,
          'MB',
          runs.map((r) => r.peakRssMb),
        ),
        ...cpuMetric(`job.p${p}.cpu_us_per_tweet`, `job p=${p}`, runs),
        ...cpuRatioMetric(p, runs, yardsticks),
        ...phaseMetrics(p, runs, yardsticks),
        {
          key: `job.p${p}.latency_p99_ms`,
          label: `job p=${p} p99 watermark -> sink, file at full speed, end of input included (${latency.length} windows)`,
          unit: 'ms',
          value: percentile(latency, 99),
          runs: runs.map((r) =>
            percentile(
              r.latency.map((s) => s.latency_ms),
              99,
            ),
          ),
        },
      );
    }
    const yardstickMedian = median(yardsticks.map((y) => y.tweetsPerSecond));
    return {
      metrics,
      targets: [
        { metric: 'job.p2.tweets_per_s', label: 'job p=2', op: '>=', value: 300_000, note: 'issue 5' },
        { metric: 'job.p2.ratio', label: 'job p=2 / yardstick', op: '>=', value: 2, note: 'issue 5' },
      ],
      series: [
        {
          name: 'trending job',
          points: PARALLELISMS.map((p) => ({ x: p, y: median(jobs.get(p)!.map((r) => r.tweetsPerSecond)) })),
        },
        { name: 'yardstick (1 thread)', points: PARALLELISMS.map((p) => ({ x: p, y: yardstickMedian })) },
      ],
      details: {
        input: { file, tweets: count, generator: 'floe generate --seed 1 (defaults)' },
        yardstick: yardsticks,
        jobs: Object.fromEntries(
          [...jobs].map(([p, runs]) => [
            `p${p}`,
            runs.map(({ latency, ...rest }) => ({ ...rest, windows: latency.length, latency })),
          ]),
        ),
      },
    };
  },
};
