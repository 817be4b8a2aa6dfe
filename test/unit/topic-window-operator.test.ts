/**
 * Operator harness: drives one TopicWindowOperator directly with partial
 * aggregates (as if from several workers' pre-aggregation stages) and
 * watermarks, and checks what it fires and which count records it emits.
 */
import { WindowSpec } from '../../src/runtime/windows';
import { HyperLogLog } from '../../src/state/hyperloglog';
import {
  TopicWindowOperator,
  TopicWindowOptions,
  WindowCount,
} from '../../src/jobs/trending/topic-window-operator';
import {
  compareCandidates,
  FiredWindow,
  TopCandidates,
  TrendCandidate,
} from '../../src/jobs/trending/trend-candidates';
import {
  decayHistory,
  MAX_GAP_WINDOWS,
  trendScore,
  updateHistory,
} from '../../src/jobs/trending/trend-score';

const MIN = 60_000;
const tumbling: WindowSpec = { sizeMs: MIN, slideMs: MIN };

function hll(...authors: string[]): HyperLogLog {
  const h = new HyperLogLog();
  for (const a of authors) h.add(a);
  return h;
}

/** `n` distinct authors with a prefix, for partials whose author sets should not overlap. */
function authors(prefix: string, n: number): HyperLogLog {
  return hll(...Array.from({ length: n }, (_, i) => `${prefix}${i}`));
}

interface Harness {
  op: TopicWindowOperator;
  counts: WindowCount[];
}

function harness(options: Partial<TopicWindowOptions> = {}): Harness {
  const counts: WindowCount[] = [];
  const op = new TopicWindowOperator(
    { spec: tumbling, allowedLatenessMs: 0, minCount: 1, top: 10, trendAlpha: 0.5, ...options },
    (c) => counts.push(c),
  );
  return { op, counts };
}

const topics = (w: FiredWindow): string[] => w.candidates.map((c) => c.topic);
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

describe('TopicWindowOperator: firing', () => {
  it('fires a window exactly when the watermark reaches end - 1, not at end - 2', () => {
    const { op, counts } = harness();
    op.addPartial(0, '#a', 3, hll('u1', 'u2'));
    expect(op.advance(59_998)).toEqual([]);
    expect(counts).toEqual([]);
    const fired = op.advance(59_999);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ start: 0, end: 60_000 });
    expect(fired[0].candidates).toEqual([{ topic: '#a', count: 3, distinctAuthors: 2, score: 3 }]);
    expect(counts).toEqual([{ start: 0, end: 60_000, topic: '#a', count: 3, distinctAuthors: 2 }]);
    expect(op.watermark()).toBe(59_999);
  });

  it('fires once only: advancing further does not re-emit', () => {
    const { op, counts } = harness({ allowedLatenessMs: 120_000 });
    op.addPartial(0, '#a', 1, hll('u1'));
    expect(op.advance(59_999)).toHaveLength(1);
    expect(op.advance(60_000)).toEqual([]);
    expect(op.advance(100_000)).toEqual([]);
    expect(op.advance(Number.POSITIVE_INFINITY)).toEqual([]);
    expect(counts).toHaveLength(1);
  });

  it('ignores watermarks that do not advance', () => {
    const { op } = harness();
    op.addPartial(60_000, '#a', 1, hll('u1'));
    op.advance(100_000);
    expect(op.advance(100_000)).toEqual([]);
    expect(op.advance(50_000)).toEqual([]);
    expect(op.watermark()).toBe(100_000);
    expect(op.advance(119_999).map((w) => w.start)).toEqual([60_000]);
  });

  it('fires windows oldest first, counts in the same order', () => {
    const { op, counts } = harness();
    op.addPartial(120_000, '#c', 1, hll('u'));
    op.addPartial(-60_000, '#neg', 1, hll('u'));
    op.addPartial(0, '#a', 1, hll('u'));
    op.addPartial(60_000, '#b', 1, hll('u'));
    const fired = op.advance(Number.POSITIVE_INFINITY);
    expect(fired.map((w) => w.start)).toEqual([-60_000, 0, 60_000, 120_000]);
    expect(counts.map((c) => c.start)).toEqual([-60_000, 0, 60_000, 120_000]);
  });

  it('at the final watermark scores each window against the ones before and keeps no history of the last', () => {
    const final = harness();
    const stepwise = harness();
    for (const { op } of [final, stepwise]) {
      op.addPartial(0, '#a', 4, hll('u'));
      op.addPartial(60_000, '#a', 9, hll('u'));
      op.addPartial(60_000, '#b', 2, hll('u'));
    }
    const all = final.op.advance(Number.POSITIVE_INFINITY);
    const one = [...stepwise.op.advance(MIN - 1), ...stepwise.op.advance(Number.POSITIVE_INFINITY)];
    expect(all).toEqual(one);
    expect(final.counts).toEqual(stepwise.counts);
    // Window 0's history scored window 60_000; window 60_000's would never be read.
    expect(all[1].candidates.find((c) => c.topic === '#a')?.score).not.toBe(9);
    expect(final.op.historySize()).toBe(1);
  });

  it('fires only the windows the watermark completed', () => {
    const { op } = harness();
    op.addPartial(0, '#a', 1, hll('u'));
    op.addPartial(60_000, '#a', 1, hll('u'));
    op.addPartial(120_000, '#a', 1, hll('u'));
    expect(op.advance(119_999).map((w) => w.start)).toEqual([0, 60_000]);
    expect(op.openWindows()).toBe(1);
    expect(op.advance(179_999).map((w) => w.start)).toEqual([120_000]);
    expect(op.openWindows()).toBe(0);
  });

  it('fires sliding windows at their own ends', () => {
    const { op } = harness({ spec: { sizeMs: MIN, slideMs: 20_000 } });
    // One record at ts 50_000 as pre-aggregation would send it: one partial per window.
    for (const start of [40_000, 20_000, 0]) op.addPartial(start, '#a', 1, hll('u'));
    expect(op.advance(59_998)).toEqual([]);
    expect(op.advance(59_999).map((w) => [w.start, w.end])).toEqual([[0, 60_000]]);
    expect(op.advance(79_999).map((w) => [w.start, w.end])).toEqual([[20_000, 80_000]]);
    expect(op.advance(99_999).map((w) => [w.start, w.end])).toEqual([[40_000, 100_000]]);
  });
});

describe('TopicWindowOperator: merging partials', () => {
  it('sums counts and merges distinct authors across partials from different workers', () => {
    const { op, counts } = harness();
    op.addPartial(0, '#a', 3, hll('alice', 'bob', 'carol')); // worker 0
    op.addPartial(0, '#a', 2, hll('carol', 'dave')); // worker 1, carol again
    op.addPartial(0, '#b', 4, hll('erin')); // worker 2
    op.addPartial(0, '#a', 1, hll()); // worker 2, no author
    const [w] = op.advance(59_999);
    expect(w.candidates).toEqual([
      { topic: '#a', count: 6, distinctAuthors: 4, score: 6 },
      { topic: '#b', count: 4, distinctAuthors: 1, score: 4 },
    ]);
    expect(counts).toEqual(
      expect.arrayContaining([
        { start: 0, end: 60_000, topic: '#a', count: 6, distinctAuthors: 4 },
        { start: 0, end: 60_000, topic: '#b', count: 4, distinctAuthors: 1 },
      ]),
    );
    expect(counts).toHaveLength(2);
  });

  it('out-of-order partials within the bound land in their own windows', () => {
    const { op } = harness();
    op.addPartial(60_000, '#a', 5, authors('x', 5));
    op.addPartial(0, '#a', 2, authors('y', 2)); // older window, still open
    op.advance(30_000);
    op.addPartial(60_000, '#a', 1, authors('z', 1));
    op.addPartial(0, '#a', 1, authors('y', 1)); // y0 again
    const first = op.advance(59_999);
    expect(first).toHaveLength(1);
    expect(first[0].start).toBe(0);
    expect(first[0].candidates[0]).toMatchObject({ topic: '#a', count: 3, distinctAuthors: 2 });
    const second = op.advance(119_999);
    expect(second[0].start).toBe(60_000);
    expect(second[0].candidates[0]).toMatchObject({ topic: '#a', count: 6, distinctAuthors: 6 });
  });
});

describe('TopicWindowOperator: allowed lateness', () => {
  it('a partial for a fired window within lateness emits an updated count; after it, the window is gone', () => {
    const { op, counts } = harness({ allowedLatenessMs: 30_000 });
    op.addPartial(0, '#a', 3, hll('u1', 'u2', 'u3'));
    op.addPartial(0, '#b', 1, hll('u1'));
    expect(op.advance(59_999)).toHaveLength(1);
    expect(counts).toHaveLength(2);
    expect(op.openWindows()).toBe(1);

    op.addPartial(0, '#a', 1, hll('u4'));
    expect(counts).toHaveLength(3);
    expect(counts[2]).toEqual({ start: 0, end: 60_000, topic: '#a', count: 4, distinctAuthors: 4 });

    // A new topic for the fired window is a count of its own.
    op.addPartial(0, '#c', 1, hll('u9'));
    expect(counts[3]).toEqual({ start: 0, end: 60_000, topic: '#c', count: 1, distinctAuthors: 1 });

    // Still within lateness at end - 1 + lateness - 1.
    expect(op.advance(89_998)).toEqual([]);
    op.addPartial(0, '#a', 1, hll('u1'));
    expect(counts[4]).toEqual({ start: 0, end: 60_000, topic: '#a', count: 5, distinctAuthors: 4 });
    expect(op.expiredPartials).toBe(0);

    // The lateness passes: state dropped, later partials are counted as expired and emit nothing.
    expect(op.advance(89_999)).toEqual([]);
    expect(op.openWindows()).toBe(0);
    op.addPartial(0, '#a', 1, hll('u5'));
    op.addPartial(0, '#d', 1, hll('u5'));
    expect(counts).toHaveLength(5);
    expect(op.expiredPartials).toBe(2);
  });

  it('late updates do not fire the window again', () => {
    const { op } = harness({ allowedLatenessMs: 30_000 });
    op.addPartial(0, '#a', 1, hll('u1'));
    op.advance(59_999);
    op.addPartial(0, '#a', 1, hll('u2'));
    expect(op.advance(70_000)).toEqual([]);
    expect(op.advance(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('a late partial for a completed window this operator held no state for is emitted at once, not fired later', () => {
    const { op, counts } = harness({ allowedLatenessMs: 30_000 });
    op.addPartial(60_000, '#on-time', 1, hll('u1'));
    // Window 0 had no partials here; the watermark passes its end - 1 (it is complete everywhere).
    expect(op.advance(60_500)).toEqual([]);
    op.addPartial(0, '#late', 2, hll('u1', 'u2'));
    expect(counts).toEqual([{ start: 0, end: 60_000, topic: '#late', count: 2, distinctAuthors: 2 }]);
    expect(op.expiredPartials).toBe(0);
    // The next watermark fires only window 60_000: window 0 was complete already and must not fire late.
    const fired = op.advance(119_999);
    expect(fired.map((w) => w.start)).toEqual([60_000]);
    expect(counts.filter((c) => c.start === 0)).toHaveLength(1);
    // The late partial did not enter the history as a (backdated) window either.
    op.addPartial(120_000, '#late', 2, hll('u1'));
    const [w] = op.advance(179_999);
    expect(w.candidates[0]).toMatchObject({ topic: '#late', score: 2 });
  });

  it('with lateness 0 no (window, topic) is emitted twice', () => {
    const { op, counts } = harness({ allowedLatenessMs: 0 });
    op.addPartial(0, '#a', 1, hll('u1'));
    op.addPartial(0, '#b', 1, hll('u1'));
    op.advance(59_999);
    expect(op.openWindows()).toBe(0);
    op.addPartial(0, '#a', 1, hll('u2'));
    op.addPartial(0, '#c', 1, hll('u2'));
    op.addPartial(60_000, '#a', 1, hll('u2'));
    op.advance(119_999);
    op.addPartial(60_000, '#a', 1, hll('u3'));
    op.advance(Number.POSITIVE_INFINITY);
    const keys = counts.map((c) => `${c.start}/${c.topic}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(['0/#a', '0/#b', '60000/#a']);
    expect(op.expiredPartials).toBe(3);
  });
});

describe('TopicWindowOperator: trend scores and top K', () => {
  it('a new topic with a burst scores higher than a steady topic of the same count', () => {
    const { op } = harness({ trendAlpha: 0.3 });
    for (let i = 0; i < 6; i++) {
      op.addPartial(i * MIN, '#steady', 10, authors('s', 10));
      op.advance(i * MIN + MIN - 1);
    }
    op.addPartial(6 * MIN, '#steady', 10, authors('s', 10));
    op.addPartial(6 * MIN, '#burst', 10, authors('b', 10));
    const [w] = op.advance(7 * MIN - 1);
    expect(topics(w)).toEqual(['#burst', '#steady']);
    const [burst, steady] = w.candidates;
    expect(burst.count).toBe(steady.count);
    expect(burst.score).toBe(10);
    expect(steady.score).toBeLessThan(1);
    expect(steady.score).toBeGreaterThanOrEqual(0);
  });

  it('minCount filters candidates but not counts, and the history still learns the topic', () => {
    const { op, counts } = harness({ minCount: 3 });
    op.addPartial(0, '#rare', 2, hll('u1', 'u2'));
    op.addPartial(0, '#often', 3, hll('u1'));
    const [w] = op.advance(59_999);
    expect(topics(w)).toEqual(['#often']);
    expect(counts.map((c) => c.topic).sort()).toEqual(['#often', '#rare']);
    expect(op.historySize()).toBe(2);
    // #rare was seen (count 2): its next window is scored against that history, not as new.
    op.addPartial(MIN, '#rare', 3, hll('u1'));
    const [w2] = op.advance(2 * MIN - 1);
    expect(w2.candidates[0].topic).toBe('#rare');
    expect(w2.candidates[0].score).toBeLessThan(3);
  });

  it('truncates to the top K, ties broken by count then topic (code-unit order)', () => {
    const { op } = harness({ top: 3 });
    // New topics score their count; equal counts tie on score.
    op.addPartial(0, '#b', 5, hll('u'));
    op.addPartial(0, '#a', 5, hll('u'));
    op.addPartial(0, '#c', 5, hll('u'));
    op.addPartial(0, '#B', 5, hll('u'));
    op.addPartial(0, '#top', 7, hll('u'));
    op.addPartial(0, '#low', 2, hll('u'));
    const [w] = op.advance(59_999);
    expect(topics(w)).toEqual(['#top', '#B', '#a']);
  });

  it('compareCandidates: higher score, then higher count, then topic in code-unit order', () => {
    const c = (topic: string, score: number, count: number): TrendCandidate => ({
      topic,
      score,
      count,
      distinctAuthors: 1,
    });
    const list = [
      c('#b', 1, 5),
      c('#a', 1, 5),
      c('#z', 2, 1),
      c('#y', 1, 9),
      c('#Z', 1, 5),
      c('#é', 1, 5),
      c('#neg', -1, 100),
    ];
    expect(list.sort(compareCandidates).map((x) => x.topic)).toEqual([
      '#z',
      '#y',
      '#Z',
      '#a',
      '#b',
      '#é',
      '#neg',
    ]);
    expect(compareCandidates(c('#a', 1, 1), c('#a', 1, 1))).toBe(0);
  });

  it('history decays over windows where the topic is absent', () => {
    const alpha = 0.5;
    // With a gap: present in window 0, absent in windows 1 and 2, present in window 3.
    const gap = harness({ trendAlpha: alpha });
    gap.op.addPartial(0, '#t', 10, hll('u'));
    gap.op.advance(MIN - 1);
    for (let i = 1; i < 3; i++) {
      gap.op.addPartial(i * MIN, '#other', 1, hll('u'));
      gap.op.advance(i * MIN + MIN - 1);
    }
    gap.op.addPartial(3 * MIN, '#t', 10, hll('u'));
    const [wGap] = gap.op.advance(4 * MIN - 1);
    // History after window 0: mean 5, variance 25; two zero windows: mean 1.25, variance 10.9375.
    expect(wGap.candidates[0]).toMatchObject({ topic: '#t', score: round4(8.75 / Math.sqrt(11.9375)) });

    // Without the gap the same count scores lower: mean 5, variance 25.
    const noGap = harness({ trendAlpha: alpha });
    noGap.op.addPartial(0, '#t', 10, hll('u'));
    noGap.op.advance(MIN - 1);
    noGap.op.addPartial(MIN, '#t', 10, hll('u'));
    const [wNoGap] = noGap.op.advance(2 * MIN - 1);
    expect(wNoGap.candidates[0].score).toBe(round4(5 / Math.sqrt(26)));
    expect(wGap.candidates[0].score).toBeGreaterThan(wNoGap.candidates[0].score);
  });

  it('counts gaps in slides for sliding windows, even when no window fired in between', () => {
    const spec: WindowSpec = { sizeMs: MIN, slideMs: 20_000 };
    const { op } = harness({ spec, trendAlpha: 0.5 });
    op.addPartial(0, '#t', 10, hll('u'));
    op.advance(59_999);
    // Next appearance in the window starting at 80_000: windows 20_000, 40_000, 60_000 lacked it.
    op.addPartial(80_000, '#t', 10, hll('u'));
    const [w] = op.advance(139_999);
    // After window 0: mean 5, variance 25; then three zero folds.
    let mean = 5;
    let variance = 25;
    for (let i = 0; i < 3; i++) {
      const diff = 0 - mean;
      mean += 0.5 * diff;
      variance = 0.5 * (variance + diff * 0.5 * diff);
    }
    expect(w.start).toBe(80_000);
    expect(w.candidates[0].score).toBe(round4((10 - mean) / Math.sqrt(Math.max(variance, mean) + 1)));
  });

  it('drops histories of topics absent for more than MAX_GAP_WINDOWS windows', () => {
    const { op } = harness();
    op.addPartial(0, '#old', 10, hll('u'));
    op.advance(MIN - 1);
    expect(op.historySize()).toBe(1);
    op.addPartial(MAX_GAP_WINDOWS * MIN, '#new', 1, hll('u'));
    op.advance((MAX_GAP_WINDOWS + 1) * MIN - 1);
    expect(op.historySize()).toBe(2);
    op.addPartial((MAX_GAP_WINDOWS + 1) * MIN, '#new', 1, hll('u'));
    op.advance((MAX_GAP_WINDOWS + 2) * MIN - 1);
    expect(op.historySize()).toBe(1);
    // #old comes back as a new topic: scored against no history.
    op.addPartial((MAX_GAP_WINDOWS + 2) * MIN, '#old', 10, hll('u'));
    const [w] = op.advance((MAX_GAP_WINDOWS + 3) * MIN - 1);
    expect(w.candidates[0]).toMatchObject({ topic: '#old', score: 10 });
  });
});

describe('updateHistory / trendScore', () => {
  it('a new topic scores its count', () => {
    expect(trendScore(10, undefined)).toBe(10);
    expect(trendScore(0, undefined)).toBe(0);
  });

  it('folds one zero per missing window', () => {
    const a = updateHistory(undefined, 0, 10, MIN, 0.5);
    const withGap = updateHistory({ ...a }, 3 * MIN, 10, MIN, 0.5);
    let b = updateHistory(undefined, 0, 10, MIN, 0.5);
    b = updateHistory(b, MIN, 0, MIN, 0.5);
    b = updateHistory(b, 2 * MIN, 0, MIN, 0.5);
    b = updateHistory(b, 3 * MIN, 10, MIN, 0.5);
    expect(withGap.mean).toBeCloseTo(b.mean, 12);
    expect(withGap.variance).toBeCloseTo(b.variance, 12);
    expect(withGap.lastWindowStart).toBe(3 * MIN);
  });

  it('decayHistory folds the absent windows once; a following updateHistory does not fold them again', () => {
    const a = updateHistory(undefined, 0, 10, MIN, 0.5);
    decayHistory(a, MIN, MIN, 0.5); // the next window: nothing missing
    expect(a).toEqual({ mean: 5, variance: 25, lastWindowStart: 0 });
    decayHistory(a, 3 * MIN, MIN, 0.5);
    expect(a.mean).toBe(1.25);
    expect(a.variance).toBe(10.9375);
    decayHistory(a, 3 * MIN, MIN, 0.5); // idempotent
    expect(a.mean).toBe(1.25);
    updateHistory(a, 3 * MIN, 10, MIN, 0.5);
    const b = updateHistory(updateHistory(undefined, 0, 10, MIN, 0.5), 3 * MIN, 10, MIN, 0.5);
    expect(a).toEqual(b);
  });

  it('a gap of MAX_GAP_WINDOWS windows or more starts over', () => {
    const alpha = 0.01;
    const h = updateHistory(undefined, 0, 100, MIN, alpha);
    const fresh = updateHistory(undefined, (MAX_GAP_WINDOWS + 1) * MIN, 7, MIN, alpha);
    const after = updateHistory({ ...h }, (MAX_GAP_WINDOWS + 1) * MIN, 7, MIN, alpha);
    expect(after.mean).toBe(fresh.mean);
    expect(after.variance).toBe(fresh.variance);
    const justBefore = updateHistory({ ...h }, MAX_GAP_WINDOWS * MIN, 7, MIN, alpha);
    expect(justBefore.mean).toBeGreaterThan(fresh.mean);
  });
});

describe('TopCandidates', () => {
  it('keeps what sorting every candidate and taking the first k keeps, ties included', () => {
    let seed = 11;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const k of [1, 3, 10, 50]) {
      // Few distinct scores and counts, so the tie-breaks decide often.
      const all: TrendCandidate[] = Array.from({ length: 400 }, (_, i) => ({
        topic: `#t${Math.floor(rnd() * 1000)}-${i}`,
        count: 3 + Math.floor(rnd() * 4),
        distinctAuthors: 1,
        score: Math.floor(rnd() * 5) / 4,
      }));
      const top = new TopCandidates(k);
      for (const c of all) top.offer(c);
      expect(top.best).toEqual([...all].sort(compareCandidates).slice(0, k));
    }
  });

  it('holds fewer than k when fewer are offered', () => {
    const top = new TopCandidates(10);
    top.offer({ topic: '#b', count: 3, distinctAuthors: 1, score: 1 });
    top.offer({ topic: '#a', count: 3, distinctAuthors: 1, score: 1 });
    expect(top.best.map((c) => c.topic)).toEqual(['#a', '#b']);
  });
});
