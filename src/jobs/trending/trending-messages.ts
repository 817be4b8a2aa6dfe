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

/**
 * Partial (window, topic) aggregates routed by topic to the owning window
 * stage, as columns (the typed arrays are transferred, not cloned; built by
 * PartialBatchBuilder). Partial i: window starts[i], topic topics[i],
 * counts[i] tweets, and as author sketch the encoded hashes (HyperLogLog
 * sparse values, see encodeHashes) hashes[hashOffsets[i] .. hashOffsets[i + 1]),
 * merged with the dense registers dense[j] when denseIndex[j] === i.
 */
export interface PartialBatch {
  starts: Float64Array;
  topics: string[];
  counts: Float64Array;
  /** Length starts.length + 1. */
  hashOffsets: Uint32Array;
  hashes: Float64Array;
  /** Ascending partial indexes whose sketch is dense, and their registers (HLL_PRECISION 14: 16384 bytes). */
  denseIndex: number[];
  dense: Uint8Array[];
}

/** Worker -> main payload of the trending job. */
export interface FiredMessage {
  fired: FiredWindow[];
  /** The window stage's watermark after firing. */
  watermark: number;
}
