import { TopicHistoryTable } from '../../src/jobs/trending/history-table';
import type { TopicHistory } from '../../src/jobs/trending/trend-score';
import { mulberry32 } from '../support/prng';

function contents(t: TopicHistoryTable): [string, TopicHistory][] {
  const out: [string, TopicHistory][] = [];
  t.forEach((topic, mean, variance, lastWindowStart) =>
    out.push([topic, { mean, variance, lastWindowStart }]),
  );
  return out;
}

describe('TopicHistoryTable', () => {
  it('behaves like a Map of histories (values and insertion order) under sets and pruning', () => {
    const rnd = mulberry32(11);
    const t = new TopicHistoryTable();
    const m = new Map<string, TopicHistory>();
    for (let step = 0; step < 5000; step++) {
      const r = rnd();
      if (r < 0.9) {
        const topic = `#t${Math.floor(rnd() * 300)}`;
        const h = { mean: rnd() * 10, variance: rnd() * 5, lastWindowStart: Math.floor(rnd() * 100) };
        if (rnd() < 0.5) t.set(topic, h);
        else {
          const slot = t.slotOf(topic);
          if (slot === undefined) t.set(topic, h);
          else t.store(slot, h);
        }
        m.set(topic, h);
      } else {
        const horizon = Math.floor(rnd() * 60);
        t.deleteOlderThan(horizon);
        for (const [topic, h] of m) if (h.lastWindowStart < horizon) m.delete(topic);
      }
      if (step % 500 === 0) expect(contents(t)).toEqual([...m]);
    }
    expect(contents(t)).toEqual([...m]);
    expect(t.size).toBe(m.size);
    for (const [topic, h] of m) expect(t.get(topic)).toEqual(h);
    expect(t.get('#never')).toBeUndefined();
  });

  it('load copies into the given object', () => {
    const t = new TopicHistoryTable();
    t.set('#a', { mean: 1, variance: 2, lastWindowStart: 3 });
    const into = { mean: 0, variance: 0, lastWindowStart: 0 };
    expect(t.load(t.slotOf('#a') as number, into)).toBe(into);
    expect(into).toEqual({ mean: 1, variance: 2, lastWindowStart: 3 });
  });

  it('reserve() makes room up front and keeps contents and order', () => {
    const t = new TopicHistoryTable();
    t.set('#first', { mean: 1, variance: 1, lastWindowStart: 1 });
    t.reserve(1000);
    for (let i = 0; i < 1000; i++) t.set(`#t${i}`, { mean: i, variance: i / 2, lastWindowStart: i });
    t.reserve(10);
    t.set('#last', { mean: 2, variance: 2, lastWindowStart: 2 });
    const c = contents(t);
    expect(c).toHaveLength(1002);
    expect(c[0]).toEqual(['#first', { mean: 1, variance: 1, lastWindowStart: 1 }]);
    expect(c[500]).toEqual(['#t499', { mean: 499, variance: 249.5, lastWindowStart: 499 }]);
    expect(c[1001][0]).toBe('#last');
  });
});
