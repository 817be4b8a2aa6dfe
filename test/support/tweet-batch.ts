import { TopicMirror } from '../../src/jobs/trending/topic-dictionary';
import type { TweetBatch } from '../../src/jobs/trending/trending-messages';
import { TweetBatchBuilder } from '../../src/jobs/trending/tweet-batch';

/** A tweet as tests write it; absent author = none, absent threshold = no lateness judged yet. */
export interface TestTweet {
  id: string;
  ts: number;
  author?: string;
  topics: string[];
  threshold?: number;
}

/** The columnar batch the local stage sends to the de-duplication stage; it stands alone (every topic string in it). */
export function tweetBatch(tweets: TestTweet[]): TweetBatch {
  const builder = new TweetBatchBuilder(tweets.length);
  for (const t of tweets)
    builder.add(t.id, t.ts, t.author, t.topics, t.threshold ?? Number.NEGATIVE_INFINITY);
  return builder.build().batch;
}

/** A batch as the de-duplication stage takes it: with its sender's topic dictionary applied. */
export function received(tweets: TestTweet[]): [TweetBatch, TopicMirror] {
  const batch = tweetBatch(tweets);
  const topics = new TopicMirror();
  topics.apply(batch);
  return [batch, topics];
}
