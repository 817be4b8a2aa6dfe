import type { CodedTopics } from './topic-dictionary';
import type { FiredWindow } from './trend-candidates';

/**
 * Decoded tweets routed by id to the worker owning their key group (local
 * stage -> dedupe stage). Columns, not objects, and numbers, not strings:
 * the numeric columns are views of one ArrayBuffer, transferred, not cloned
 * (tweet-batch.ts builds them and reads the rare string forms back).
 */
export interface TweetBatch extends CodedTopics {
  /**
   * Tweet ids packed as tweet-id-table.ts packs them (all but the last 9
   * digits, the last 9); idHighs[i] is -1 when the id does not pack, and
   * then it is the next of `otherIds` (in tweet order).
   */
  idHighs: Float64Array;
  idLows: Uint32Array;
  otherIds: string[];
  timestamps: Float64Array;
  /**
   * The author id, packed like tweet ids, for the late dead letter of the
   * dedupe stage; authorHighs[i] is NO_AUTHOR when the tweet names none
   * (or names ''), OTHER_AUTHOR when the id does not pack and is the next of
   * `otherAuthors`.
   */
  authorHighs: Float64Array;
  authorLows: Uint32Array;
  otherAuthors: string[];
  /** hashKeyH1 and hashKeyH2 of the author, computed where the tweet was read (0 without an author). */
  authorH1: Uint32Array;
  authorH2: Uint32Array;
  /**
   * The topics of tweet i are topicCodes[topicOffsets[i] .. topicOffsets[i + 1]):
   * codes of the sender's topic dictionary, whose strings the receiver keeps
   * per sender (TopicMirror in topic-dictionary.ts: a code's string comes once).
   */
  topicOffsets: Uint32Array;
  /**
   * Per tweet: the watermark it was judged against for lateness where it was
   * read; windows whose lateness deadline is not after it are skipped, so every
   * stage agrees on what is late.
   */
  lateThresholds: Float64Array;
}

/** TweetBatch.authorHighs of a tweet without an author. */
export const NO_AUTHOR = -1;
/** TweetBatch.authorHighs of an author id that does not pack (held in otherAuthors). */
export const OTHER_AUTHOR = -2;

/**
 * Partial (window, topic) aggregates routed by topic to the owning window
 * stage, as columns (the typed arrays are transferred, not cloned; built by
 * PartialBatchBuilder). Partial i: window starts[i], topic topics[i],
 * counts[i] tweets, and as author sketch the encoded hashes (HyperLogLog
 * sparse values, see encodeHashes) hashes[hashOffsets[i] .. hashOffsets[i + 1]),
 * merged with the dense registers dense[j] when denseIndex[j] === i.
 * A partial's hashes are distinct (a pre-aggregation table holds each
 * author once per slot), which the window stage relies on when a partial
 * is the first for its (window, topic).
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
