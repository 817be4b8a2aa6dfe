import { median, percentile } from '../../bench/stats';

describe('bench statistics', () => {
  test('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  test('nearest-rank percentiles are always measured values', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, reversed
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 1)).toBe(1);
  });

  test('p99 of a handful of windows is their maximum', () => {
    expect(percentile([12, 40, 7], 99)).toBe(40);
    expect(percentile([12], 99)).toBe(12);
    expect(percentile([], 99)).toBeNaN();
  });

  test('rejects a percentile outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});
