import { Schema, Parsed } from '../../runtime/options';

/** Options of the trending-topics job; defaults in one place. */
export const trendingSchema = {
  window: { type: 'duration', default: 60_000, min: 1, doc: 'window size' },
  slide: {
    type: 'duration',
    min: 1,
    doc: 'slide of sliding windows (default: the window size, i.e. tumbling)',
  },
  'allowed-lateness': {
    type: 'duration',
    default: 0,
    min: 0,
    doc: 'keep fired windows this long in event time and emit updated counts for late records',
  },
  top: { type: 'int', default: 10, min: 1, max: 10_000, doc: 'trends per window' },
  'min-count': {
    type: 'int',
    default: 3,
    min: 1,
    doc: 'a topic needs this many tweets in a window to trend',
  },
  'trend-alpha': {
    type: 'number',
    default: 0.3,
    min: 0.001,
    max: 1,
    doc: "weight of the newest window in a topic's exponentially weighted history",
  },
  cashtags: { type: 'boolean', default: false, doc: 'count cashtags ($AAPL -> $aapl) as topics' },
  'dedupe-horizon': {
    type: 'duration',
    default: 24 * 3_600_000,
    min: 0,
    doc: 'a tweet id seen within this much event time never counts again',
  },
  'dedupe-memory-horizon': {
    type: 'duration',
    default: 3_600_000,
    min: 0,
    doc: 'ids within this much event time of the watermark stay in memory; older ones (up to dedupe-horizon) move to LevelDB under --state-dir, keeping a 4-byte fingerprint each in memory',
  },
} satisfies Schema;

export type TrendingOptions = Parsed<typeof trendingSchema>;

/** The options after defaults that depend on others are resolved. */
export interface ResolvedTrendingOptions {
  windowMs: number;
  slideMs: number;
  allowedLatenessMs: number;
  top: number;
  minCount: number;
  trendAlpha: number;
  cashtags: boolean;
  dedupeHorizonMs: number;
  dedupeMemoryHorizonMs: number;
}

export function resolveTrendingOptions(o: TrendingOptions): ResolvedTrendingOptions {
  return {
    windowMs: o.window,
    slideMs: o.slide ?? o.window,
    allowedLatenessMs: o['allowed-lateness'],
    top: o.top,
    minCount: o['min-count'],
    trendAlpha: o['trend-alpha'],
    cashtags: o.cashtags,
    dedupeHorizonMs: o['dedupe-horizon'],
    dedupeMemoryHorizonMs: o['dedupe-memory-horizon'],
  };
}
