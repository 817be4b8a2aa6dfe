import type { TweetBatch } from '../../src/jobs/trending/trending-messages';

/** A tweet as tests write it; absent author = none, absent threshold = no lateness judged yet. */
export interface TestTweet {
  id: string;
  ts: number;
  author?: string;
  topics: string[];
  threshold?: number;
}

/** The columnar batch the local stage sends to the de-duplication stage. */
export function tweetBatch(tweets: TestTweet[]): TweetBatch {
  const offsets = [0];
  const topics: string[] = [];
  for (const t of tweets) {
    topics.push(...t.topics);
    offsets.push(topics.length);
  }
  return {
    ids: tweets.map((t) => t.id),
    timestamps: Float64Array.from(tweets.map((t) => t.ts)),
    authors: tweets.map((t) => t.author ?? ''),
    topicOffsets: Uint32Array.from(offsets),
    topics,
    lateThresholds: Float64Array.from(tweets.map((t) => t.threshold ?? Number.NEGATIVE_INFINITY)),
  };
}
