import { FiredWindow, TrendCandidate } from '../../src/jobs/trending/trend-candidates';
import { TrendAggregator } from '../../src/jobs/trending/trend-aggregator';

const MIN = 60_000;

function cand(topic: string, score: number, count = 1): TrendCandidate {
  return { topic, score, count, distinctAuthors: 1 };
}

function fired(start: number, ...candidates: TrendCandidate[]): FiredWindow {
  return { start, end: start + MIN, candidates };
}

describe('TrendAggregator', () => {
  it('releases a window only when every worker watermark reached its end - 1', () => {
    const agg = new TrendAggregator(3, 10);
    expect(agg.add(0, [fired(0, cand('#a', 5))], 59_999)).toEqual([]);
    expect(agg.add(1, [fired(0, cand('#b', 7))], 59_999)).toEqual([]);
    expect(agg.add(2, [], 59_998)).toEqual([]);
    expect(agg.watermark()).toBe(59_998);
    const out = agg.add(2, [], 59_999);
    expect(out).toEqual([{ start: 0, end: MIN, trends: [cand('#b', 7), cand('#a', 5)] }]);
    expect(agg.watermark()).toBe(59_999);
  });

  it('releases each window once', () => {
    const agg = new TrendAggregator(2, 10);
    agg.add(0, [fired(0, cand('#a', 1))], 59_999);
    expect(agg.add(1, [], 59_999)).toHaveLength(1);
    expect(agg.add(1, [], 100_000)).toEqual([]);
    expect(agg.add(0, [], Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('merges the local top K of every worker into the global top K', () => {
    const agg = new TrendAggregator(3, 3);
    agg.add(0, [fired(0, cand('#a', 9), cand('#b', 4))], 59_999);
    agg.add(1, [fired(0, cand('#c', 8), cand('#d', 4, 5))], 59_999);
    const [w] = agg.add(2, [fired(0, cand('#e', 1), cand('#f', 0.5))], 59_999);
    expect(w.trends.map((c) => c.topic)).toEqual(['#a', '#c', '#d']);
  });

  it('orders ties as compareCandidates does: count, then topic', () => {
    const agg = new TrendAggregator(2, 4);
    agg.add(0, [fired(0, cand('#b', 2, 3), cand('#y', 2, 9))], 59_999);
    const [w] = agg.add(1, [fired(0, cand('#a', 2, 3), cand('#B', 2, 3))], 59_999);
    expect(w.trends.map((c) => c.topic)).toEqual(['#y', '#B', '#a', '#b']);
  });

  it('releases windows oldest first, whatever order they were fired in', () => {
    const agg = new TrendAggregator(2, 10);
    expect(agg.add(0, [fired(MIN, cand('#x', 1)), fired(0, cand('#w', 1))], 2 * MIN - 1)).toEqual([]);
    const out = agg.add(1, [fired(2 * MIN, cand('#z', 1)), fired(0, cand('#v', 1))], 3 * MIN - 1);
    expect(out.map((w) => w.start)).toEqual([0, MIN]);
    expect(out.map((w) => w.trends.map((c) => c.topic).sort())).toEqual([['#v', '#w'], ['#x']]);
    const last = agg.add(0, [fired(2 * MIN, cand('#u', 1))], Number.POSITIVE_INFINITY);
    expect(last.map((w) => w.start)).toEqual([2 * MIN]);
    expect(last[0].trends.map((c) => c.topic).sort()).toEqual(['#u', '#z']);
  });

  it('releases only the windows the slowest worker completed', () => {
    const agg = new TrendAggregator(2, 10);
    agg.add(0, [fired(0, cand('#a', 1)), fired(MIN, cand('#b', 1))], 2 * MIN - 1);
    const first = agg.add(1, [], MIN);
    expect(first.map((w) => w.start)).toEqual([0]);
    const second = agg.add(1, [], 2 * MIN - 1);
    expect(second.map((w) => w.start)).toEqual([MIN]);
  });

  it('a worker watermark never goes backwards', () => {
    const agg = new TrendAggregator(2, 10);
    agg.add(0, [], 100);
    agg.add(0, [], 50);
    agg.add(1, [], 200);
    expect(agg.watermark()).toBe(100);
  });

  it('a window with no candidates anywhere is released with an empty list', () => {
    const agg = new TrendAggregator(2, 10);
    agg.add(0, [fired(0)], 59_999);
    expect(agg.add(1, [fired(0)], 59_999)).toEqual([{ start: 0, end: MIN, trends: [] }]);
  });
});
