import { defaultGeneratorOptions, TweetGenerator } from '../../src/connectors/generator/tweet-generator';
import { decodeLine } from '../../src/jobs/trending/tweet-decoder';

function topicsOf(gen: TweetGenerator, lines: number): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < lines; i++) {
    for (const t of decodeLine(gen.nextLine(), { cashtags: false }).tweets)
      for (const topic of t.topics) seen.add(topic);
  }
  return seen;
}

describe('generator topic distribution', () => {
  const base = {
    ...defaultGeneratorOptions,
    seed: 7,
    splitIndex: 0,
    splitCount: 1,
    startMs: Date.parse('2022-01-01T00:01:00Z'),
    eventsPerSecond: 1000,
    // No burst tags: only the vocabulary's topics.
    burstShare: 0,
  };

  test('cycle covers exactly the vocabulary once enough hashtags are drawn', () => {
    const gen = new TweetGenerator({ ...base, topics: 500, topicDistribution: 'cycle' });
    expect(topicsOf(gen, 2000).size).toBe(500);
  });

  test('cycle never goes beyond the vocabulary and zipf covers far less of it', () => {
    const cycle = topicsOf(new TweetGenerator({ ...base, topics: 5000, topicDistribution: 'cycle' }), 2000);
    const zipfTopics = topicsOf(new TweetGenerator({ ...base, topics: 5000 }), 2000);
    expect(cycle.size).toBeLessThanOrEqual(5000);
    // ~0.95 hashtags a tweet, each a new topic until the vocabulary wraps.
    expect(cycle.size).toBeGreaterThan(1500);
    expect(zipfTopics.size).toBeLessThan(cycle.size);
  });

  test('rejects an unknown distribution', () => {
    expect(() => new TweetGenerator({ ...base, topicDistribution: 'uniform' as unknown as 'zipf' })).toThrow(
      RangeError,
    );
  });
});
