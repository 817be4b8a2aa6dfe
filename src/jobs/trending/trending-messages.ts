import type { SerializedHll } from '../../state/hyperloglog';
import type { FiredWindow } from './topic-window-operator';

/** Decoded tweets routed by id to the worker owning their key group (local stage -> dedupe stage). Columns, not objects: cheaper to clone. */
export interface TweetBatch {
  ids: string[];
  timestamps: Float64Array;
  /** '' when the tweet names no author. */
  authors: string[];
  /** topics of tweet i are topics[topicOffsets[i] .. topicOffsets[i + 1]). */
  topicOffsets: Uint32Array;
  topics: string[];
  /**
   * Per tweet: the watermark it was judged against for lateness where it was
   * read; windows whose lateness deadline is not after it are skipped, so every
   * stage agrees on what is late.
   */
  lateThresholds: Float64Array;
}

/** Partial (window, topic) aggregates routed by topic to the owning window stage. */
export interface PartialBatch {
  starts: number[];
  topics: string[];
  counts: number[];
  authors: SerializedHll[];
}

/** Worker -> main payload of the trending job. */
export interface FiredMessage {
  fired: FiredWindow[];
  /** The window stage's watermark after firing. */
  watermark: number;
}
