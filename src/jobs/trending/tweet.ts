/** What the trending job needs of a tweet, whatever format it arrived in. */
export interface Tweet {
  /** Tweet id as a decimal string (64-bit ids do not fit a JS number). */
  id: string;
  /** Event time, ms since the epoch (UTC). */
  timestampMs: number;
  /** Author id as a decimal string; undefined when the record names no author. */
  authorId: string | undefined;
  /** Normalised topics ("#tag", "$cashtag"), each at most once. */
  topics: string[];
}

/** Why a record went to the dead-letter output. */
export type DeadLetterReason =
  'invalid-json' | 'not-a-tweet' | 'no-id' | 'no-time' | 'wrong-type' | 'oversize' | 'late';

export interface DecodeFailure {
  reason: DeadLetterReason;
  /** Human-readable detail: which field, what was found. */
  detail: string;
}

export interface DecodeOptions {
  /** Extract cashtags ($AAPL -> "$aapl") as topics too. */
  cashtags: boolean;
}

export interface DecodeResult {
  tweets: Tweet[];
  /** One entry per tweet (or whole line) that could not be used. */
  failures: DecodeFailure[];
}
