/**
 * Memory against how much event time a file spans: one file of ~100 minutes
 * of tweets (one-minute windows, ~10k distinct topics in each), read with
 * watermark alignment (the default) and with `--watermark-alignment 0`,
 * where every byte-range split is read at full speed. At full speed the
 * first split holds the watermark until the end of input, so every window of
 * the file, and every de-duplication id, is held until then; aligned, the
 * windows fire as the file is read and ids past the memory horizon move to
 * LevelDB; the third mode keeps them in memory, to tell the two apart.
 * Peak RSS is the job process's (every worker thread included).
 */
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { ensureTweets, runTrending, type TrendingRun } from './floe-process';
import { median } from './stats';

const PARALLELISM = 2;

const MODES = [
  { key: 'aligned', label: 'aligned (default 5m)', args: [] as string[] },
  {
    key: 'aligned_ids_in_memory',
    label: 'aligned, ids kept in memory (--dedupe-memory-horizon 24h)',
    args: ['--dedupe-memory-horizon', '24h'],
  },
  {
    key: 'full_speed',
    label: 'every split at full speed (--watermark-alignment 0)',
    args: ['--watermark-alignment', '0'],
  },
];

/** Windows the watermark passed before the end of input (the rest fired with the final watermark). */
function windowsBeforeEnd(r: TrendingRun): number {
  return r.latency.filter((s) => !s.end_of_input).length;
}

export const benchModule: BenchModule = {
  name: 'memory-span',
  title: 'peak RSS of a file spanning ~100 one-minute windows, aligned and at full speed',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const tweets = ctx.quick ? 110_000 : 1_100_000;
    // ~100 minutes of event time either way: the quick file is sparser, not shorter.
    const eventsPerSecond = Math.round(tweets / 6_000);
    const bar = ctx.progress(1 + MODES.length * ctx.runs);
    const file = await ensureTweets(ctx.paths, tweets, {
      'events-per-second': String(eventsPerSecond),
      topics: '100000',
      'topic-distribution': 'cycle',
    });
    bar.tick('input ready');
    const byMode = new Map<string, TrendingRun[]>(MODES.map((m) => [m.key, []]));
    for (let run = 1; run <= ctx.runs; run++) {
      for (const mode of MODES) {
        const r = await runTrending(ctx.paths, `file:${file}`, PARALLELISM, ['--window', '1m', ...mode.args]);
        byMode.get(mode.key)!.push(r);
        bar.tick(`run ${run}: ${mode.key} ${r.peakRssMb} MB`);
      }
    }
    bar.stop();
    const metrics: Metric[] = [];
    for (const mode of MODES) {
      const runs = byMode.get(mode.key)!;
      const metric = (key: string, label: string, unit: string, values: number[]): Metric => ({
        key: `span.${mode.key}.${key}`,
        label: `${label}, ${mode.label}`,
        unit,
        value: median(values),
        runs: values,
      });
      metrics.push(
        metric(
          'peak_rss_mb',
          'peak RSS',
          'MB',
          runs.map((r) => r.peakRssMb),
        ),
        metric(
          'tweets_per_s',
          'tweets/s',
          'tweets/s',
          runs.map((r) => r.tweetsPerSecond),
        ),
        metric(
          'windows_before_end',
          'windows fired before the end of input',
          'windows',
          runs.map(windowsBeforeEnd),
        ),
      );
    }
    return {
      metrics,
      targets: [],
      details: {
        input: { file, tweets, eventsPerSecond, topics: 100_000, distribution: 'cycle' },
        parallelism: PARALLELISM,
        window: '1m',
        runs: Object.fromEntries(
          [...byMode].map(([mode, runs]) => [
            mode,
            runs.map((r) => ({
              seconds: r.seconds,
              tweetsPerSecond: r.tweetsPerSecond,
              peakRssMb: r.peakRssMb,
              output: r.output,
              windows: r.latency.length,
              windowsBeforeEnd: windowsBeforeEnd(r),
            })),
          ]),
        ),
      },
    };
  },
};
