/**
 * Memory against distinct topics per window: the same number of tweets each
 * time, their hashtags cycling through a vocabulary of N topics
 * (`floe generate --topic-distribution cycle`), all in one 10-minute
 * window, so only the number of distinct (window, topic) keys changes.
 * Peak RSS is the job process's (every worker thread included).
 */
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { ensureTweets, runTrending, type TrendingRun } from './floe-process';
import { median } from './stats';

const PARALLELISM = 2;

export const benchModule: BenchModule = {
  name: 'memory-topics',
  title: 'peak RSS against distinct topics per window',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const topicCounts = ctx.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
    // ~0.95 hashtags a tweet: enough tweets to cover the largest vocabulary.
    const tweets = ctx.quick ? 110_000 : 1_100_000;
    const bar = ctx.progress(topicCounts.length * (1 + ctx.runs));
    const byTopics = new Map<number, TrendingRun[]>();
    const metrics: Metric[] = [];
    for (const topics of topicCounts) {
      const file = await ensureTweets(ctx.paths, tweets, {
        topics: String(topics),
        'topic-distribution': 'cycle',
        // A little after the window start, so the generator's disorder keeps every tweet in one window.
        start: '2022-01-01T00:00:05Z',
      });
      bar.tick(`${topics} topics: input ready`);
      const runs: TrendingRun[] = [];
      for (let run = 1; run <= ctx.runs; run++) {
        const r = await runTrending(ctx.paths, `file:${file}`, PARALLELISM, ['--window', '10m']);
        runs.push(r);
        bar.tick(`${topics} topics: run ${run} ${r.peakRssMb} MB`);
      }
      byTopics.set(topics, runs);
      const distinct = runs.map((r) => r.output.counts ?? 0);
      metrics.push(
        {
          key: `topics.${topics}.peak_rss_mb`,
          label: `peak RSS, ${topics.toLocaleString('en-US')} topics (${Math.max(...distinct).toLocaleString('en-US')} distinct counted)`,
          unit: 'MB',
          value: median(runs.map((r) => r.peakRssMb)),
          runs: runs.map((r) => r.peakRssMb),
        },
        {
          key: `topics.${topics}.tweets_per_s`,
          label: `tweets/s, ${topics.toLocaleString('en-US')} topics`,
          unit: 'tweets/s',
          value: median(runs.map((r) => r.tweetsPerSecond)),
          runs: runs.map((r) => r.tweetsPerSecond),
        },
      );
    }
    bar.stop();
    return {
      metrics,
      targets: [
        {
          metric: 'topics.1000000.peak_rss_mb',
          label: 'peak RSS, 1,000,000 topics in a window',
          op: '<=',
          value: 500,
          unit: 'MB',
          note: 'issue 5',
        },
      ],
      details: {
        tweets,
        parallelism: PARALLELISM,
        window: '10m',
        runs: Object.fromEntries(
          [...byTopics].map(([t, runs]) => [
            t,
            runs.map((r) => ({
              seconds: r.seconds,
              tweets: r.tweets,
              tweetsPerSecond: r.tweetsPerSecond,
              peakRssMb: r.peakRssMb,
              output: r.output,
            })),
          ]),
        ),
      },
    };
  },
};
