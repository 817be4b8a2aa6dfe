import type { JobMainContext, JobMainSide } from '../../runtime/job-runner';
import type { JsonValue } from '../../state/checkpoint-metadata';
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
      ctx.output('trends', lines);
      ctx.windowWritten?.(w.start, w.end);
      onWindowTrends?.(w);
    }
  };
  return {
    onJobMessage(worker, payload) {
      const msg = payload as FiredMessage;
      write(aggregator.add(worker, msg.fired, msg.watermark));
    },
    snapshot() {
      return aggregator.snapshot() as unknown as JsonValue;
    },
    restore(state) {
      aggregator.restore(state as unknown as ReturnType<TrendAggregator['snapshot']>);
    },
    finish() {
      const left = aggregator.watermark();
      if (left !== Number.POSITIVE_INFINITY)
        ctx.log.warn({ watermark: left }, 'job ended before the final watermark');
    },
  };
}
