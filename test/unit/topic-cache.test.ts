import { copyOf } from '../../src/jobs/trending/string-copy';
import { TopicCache } from '../../src/jobs/trending/topic-cache';

describe('TopicCache', () => {
  it('gives the normalised topic, the same string for the same tag, hashtags and cashtags apart', () => {
    const cache = new TopicCache(8);
    const line = '{"a":"NowPlaying","b":"nowplaying","c":"NowPlaying","d":"AAPL"}';
    const at = (word: string, from = 0): [number, number] => {
      const start = line.indexOf(word, from);
      return [start, start + word.length];
    };
    const [s1, e1] = at('NowPlaying');
    const [s2, e2] = at('nowplaying');
    const [s3, e3] = at('NowPlaying', e1);
    const first = cache.get(line, s1, e1, false);
    expect(first).toBe('#nowplaying');
    expect(cache.get(line, s2, e2, false)).toBe('#nowplaying');
    expect(cache.get(line, s3, e3, false)).toBe(first);
    const [s4, e4] = at('AAPL');
    expect(cache.get(line, s4, e4, true)).toBe('$aapl');
    expect(cache.get(line, s4, e4, false)).toBe('#aapl');
  });

  it('stays right when it fills up and starts over', () => {
    const cache = new TopicCache(4);
    const words = Array.from({ length: 50 }, (_, i) => `Tag${i}X`);
    const line = words.join(' ');
    for (let round = 0; round < 3; round++) {
      let from = 0;
      for (const w of words) {
        const start = line.indexOf(w, from);
        from = start + w.length;
        expect(cache.get(line, start, from, round === 1)).toBe((round === 1 ? '$' : '#') + w.toLowerCase());
      }
    }
  });
});

describe('copyOf', () => {
  it('copies any range, short, long and longer than its reusable arrays', () => {
    const s = 'x'.repeat(5) + '1234567890123456789' + 'y'.repeat(100);
    for (const [a, b] of [
      [0, 0],
      [0, 5],
      [5, 24],
      [3, 30],
      [0, s.length],
    ])
      expect(copyOf(s, a, b)).toBe(s.slice(a, b));
  });
});
