import { copyOf } from '../../src/jobs/trending/string-copy';

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
