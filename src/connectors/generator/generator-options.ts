import { Schema } from '../../runtime/options';

/** generator?key=value source options, defaults in one place. */
export const generatorSourceSchema = {
  rate: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'tweets per second over all splits, wall clock; 0 = as fast as possible',
  },
  count: { type: 'int', default: 0, min: 0, doc: 'stop after this many tweets in all; 0 = no limit' },
  duration: {
    type: 'duration',
    default: 0,
    min: 0,
    doc: 'stop after this much wall-clock time; 0 = no limit',
  },
  seed: { type: 'int', default: 42, doc: 'same seed and options => same tweets' },
  'events-per-second': {
    type: 'number',
    min: 0.001,
    doc: 'event-time density: tweets per second of created_at over all splits (default: rate, or 10000 when rate is 0)',
  },
  start: {
    type: 'string',
    doc: 'created_at of the first tweet, ISO-8601 (default: now when rate > 0, else 2022-01-01T00:00:00Z)',
  },
  disorder: {
    type: 'duration',
    default: 3000,
    min: 0,
    doc: 'created_at lags its nominal time by up to this much',
  },
  duplicates: {
    type: 'number',
    default: 0.01,
    min: 0,
    max: 1,
    doc: 'share of lines that re-deliver a recent tweet',
  },
  topics: { type: 'int', default: 20000, min: 1, doc: 'hashtag vocabulary size (Zipf-distributed)' },
  'topic-distribution': {
    type: 'enum',
    values: ['zipf', 'cycle'],
    default: 'zipf',
    doc: 'zipf: realistic; cycle: each hashtag is the next topic of the vocabulary, so n hashtags cover min(n, topics) distinct topics',
  },
  authors: { type: 'int', default: 1_000_000, min: 1, doc: 'distinct authors' },
  'v1-share': { type: 'number', default: 0.1, min: 0, max: 1, doc: 'share of lines in API v1.1 format' },
} satisfies Schema;

/** What one generator split carries to its worker. */
export interface GeneratorSplitConfig {
  seed: number;
  splitIndex: number;
  splitCount: number;
  /** Tweets this split emits; 0 = unbounded. */
  count: number;
  /** Tweets per wall-clock second for this split; 0 = unthrottled. */
  rate: number;
  /** Wall-clock ms after which the split ends; 0 = never. */
  durationMs: number;
  startMs: number;
  eventsPerSecond: number;
  disorderMs: number;
  duplicateRate: number;
  topics: number;
  topicDistribution: 'zipf' | 'cycle';
  authors: number;
  v1Share: number;
}
