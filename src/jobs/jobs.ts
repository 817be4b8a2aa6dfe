import type { JobMainContext, JobMainSide } from '../runtime/job-runner';
import { OptionError } from '../runtime/errors';
import { Schema, parseOptions } from '../runtime/options';
import { validateWindowSpec } from '../runtime/windows';
import type { WindowTrends } from './trending/trend-aggregator';
import { ResolvedTrendingOptions, resolveTrendingOptions, trendingSchema } from './trending/trending-options';

/** Main-thread side of every job, by name: its option schema and how to build it. */
export interface JobDefinition {
  name: string;
  description: string;
  schema: Schema;
  /** Validates raw options (strings from the CLI) into the plain data posted to workers. */
  resolve(raw: Record<string, unknown>): unknown;
  createMain(options: unknown, ctx: JobMainContext, hooks: JobHooks): JobMainSide;
}

export interface JobHooks {
  onWindowTrends?(w: WindowTrends): void;
}

export const trendingJob: JobDefinition = {
  name: 'trending',
  description:
    'trending topics in tweets: counts, distinct authors and top-K trend scores per event-time window',
  schema: trendingSchema,
  resolve(raw) {
    const o = resolveTrendingOptions(parseOptions(trendingSchema, raw));
    try {
      validateWindowSpec({ sizeMs: o.windowMs, slideMs: o.slideMs });
    } catch (err) {
      throw new OptionError('slide', (err as Error).message);
    }
    if (o.dedupeHorizonMs < o.windowMs + o.allowedLatenessMs) {
      throw new OptionError(
        'dedupe-horizon',
        'must cover at least window + allowed-lateness, or a re-delivery into a still-open window could count twice',
      );
    }
    return o;
  },
  createMain(options, ctx, hooks) {
    // Loaded here, not with the CLI: the worker threads boot while it loads (see WorkerSlots).
    const { createTrendingMain } =
      require('./trending/trending-main') as typeof import('./trending/trending-main');
    return createTrendingMain(options as ResolvedTrendingOptions, ctx, hooks.onWindowTrends);
  },
};

export const jobs: Record<string, JobDefinition> = { trending: trendingJob };
