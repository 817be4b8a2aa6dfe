import type { JobMainContext, JobMainSide } from '../../runtime/job-runner';
import { isoTime, stringifyTrends } from './records';
import { TrendAggregator, WindowTrends } from './trend-aggregator';
import type { FiredMessage } from './trending-messages';
import type { ResolvedTrendingOptions } from './trending-options';

/** Main-thread side of the trending job: global top K per window, written as trends records. */
export function createTrendingMain(
  opts: ResolvedTrendingOptions,
  ctx: JobMainContext,
  onWindowTrends?: (w: WindowTrends) => void,
): JobMainSide {
  const aggregator = new TrendAggregator(ctx.parallelism, opts.top);
  const write = (windows: WindowTrends[]): void => {
    for (const w of windows) {
      const start = isoTime(w.start);
      const end = isoTime(w.end);
      let lines = '';
      w.trends.forEach((t, i) => {
        lines +=
          stringifyTrends({
            window_start: start,
            window_end: end,
            topic: t.topic,
            count: t.count,
            distinct_authors: t.distinctAuthors,
            rank: i + 1,
            score: t.score,
          }) + '\n';
      });
      ctx.sink.write('trends', lines);
      onWindowTrends?.(w);
    }
  };
  return {
    onJobMessage(worker, payload) {
      const msg = payload as FiredMessage;
      write(aggregator.add(worker, msg.fired, msg.watermark));
    },
    finish() {
      const left = aggregator.watermark();
      if (left !== Number.POSITIVE_INFINITY)
        ctx.log.warn({ watermark: left }, 'job ended before the final watermark');
    },
  };
}
