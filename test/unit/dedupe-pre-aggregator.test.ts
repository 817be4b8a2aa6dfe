import { DedupePreAggregator, partialsOf } from '../../src/jobs/trending/dedupe-pre-aggregator';
import { TopicDictionary, TopicMirror, TopicSendState } from '../../src/jobs/trending/topic-dictionary';
import { TweetBatchBuilder } from '../../src/jobs/trending/tweet-batch';
import { mulberry32 } from '../support/prng';
import { received } from '../support/tweet-batch';

const MIN = 60_000;

const make = (allowedLatenessMs = 0, slideMs = MIN) =>
  new DedupePreAggregator({
    spec: { sizeMs: MIN, slideMs },
    allowedLatenessMs,
    dedupeHorizonMs: 24 * 60 * MIN,
    maxHeld: 1000,
  });

const summary = (ps: ReturnType<DedupePreAggregator['flush']>) =>
  partialsOf(ps)
    .map((p) => `${p.start} ${p.topic} ${p.count} ${p.authors.estimate()}`)
    .sort();

describe('DedupePreAggregator', () => {
  it('merges a batch into one partial per (window, topic) and drops re-delivered ids', () => {
    const op = make();
    const out = op.addBatch(
      ...received([
        { id: '1', ts: 1000, author: 'a', topics: ['#x', '#y'] },
        { id: '2', ts: 2000, author: 'b', topics: ['#x'] },
        { id: '1', ts: 1000, author: 'a', topics: ['#x', '#y'] },
        { id: '3', ts: MIN + 5, author: 'a', topics: ['#x'] },
      ]),
    );
    expect(out).toEqual({ duplicates: 1, late: [] });
    expect(summary(op.flush())).toEqual(['0 #x 2 2', '0 #y 1 1', `${MIN} #x 1 1`]);
    expect(partialsOf(op.flush())).toEqual([]);
    // Still a duplicate in a later batch.
    expect(op.addBatch(...received([{ id: '2', ts: 2000, topics: ['#x'] }])).duplicates).toBe(1);
  });

  it('on a watermark hands out only the windows complete at it, keeping open ones to aggregate on', () => {
    const op = make();
    op.addBatch(
      ...received([
        { id: '1', ts: 10, author: 'a', topics: ['#x'] },
        { id: '2', ts: MIN + 10, author: 'a', topics: ['#x'] },
      ]),
    );
    op.advance(MIN - 2); // [0, 1m) is not complete until the watermark reaches 1m - 1
    expect(partialsOf(op.flushComplete(MIN - 2))).toEqual([]);
    op.advance(MIN - 1);
    expect(summary(op.flushComplete(MIN - 1))).toEqual(['0 #x 1 1']);
    op.addBatch(...received([{ id: '3', ts: MIN + 20, author: 'b', topics: ['#x'] }]));
    // The open window kept aggregating: one partial with both tweets.
    expect(summary(op.flushComplete(2 * MIN - 1))).toEqual([`${MIN} #x 2 2`]);
    expect(partialsOf(op.flush())).toEqual([]);
  });

  it('flushDue hands out everything once maxHeld partials are held', () => {
    const op = new DedupePreAggregator({
      spec: { sizeMs: MIN, slideMs: MIN },
      allowedLatenessMs: 0,
      dedupeHorizonMs: MIN,
      maxHeld: 2,
    });
    op.addBatch(...received([{ id: '1', ts: 10, topics: ['#x'] }]));
    expect(op.shouldFlush()).toBe(false);
    op.addBatch(...received([{ id: '2', ts: 10, topics: ['#y'] }]));
    expect(op.shouldFlush()).toBe(true);
    expect(summary(op.flushDue())).toEqual(['0 #x 1 0', '0 #y 1 0']);
    expect(op.shouldFlush()).toBe(false);
  });

  it('counts a tweet without an author but adds nothing to the author sketch', () => {
    const op = make();
    op.addBatch(
      ...received([
        { id: '1', ts: 1, topics: ['#x'] },
        { id: '2', ts: 2, author: 'z', topics: ['#x'] },
      ]),
    );
    expect(summary(op.flush())).toEqual(['0 #x 2 1']);
  });

  it('sends records for already fired windows one by one (each emits its own update)', () => {
    const op = make(10 * MIN);
    op.advance(MIN + 10); // window [0, 1m) has fired
    expect(op.shouldFlush()).toBe(false);
    op.addBatch(
      ...received([
        { id: '1', ts: 5, topics: ['#x'] },
        { id: '2', ts: 6, topics: ['#x'] },
        { id: '3', ts: MIN + 20, topics: ['#x'] },
      ]),
    );
    expect(op.shouldFlush()).toBe(true);
    expect(summary(op.flush())).toEqual(['0 #x 1 0', '0 #x 1 0', `${MIN} #x 1 0`]);
  });

  it('judges lateness by its own watermark too (a split that was idle), and by the local threshold', () => {
    const op = make();
    op.advance(2 * MIN);
    const out = op.addBatch(
      ...received([
        { id: '1', ts: 10, topics: ['#x'] }, // window [0,1m) expired by our watermark
        { id: '2', ts: 2 * MIN + 1, topics: ['#x'], threshold: 3 * MIN }, // expired by the threshold from the local stage
        { id: '3', ts: 2 * MIN + 2, topics: ['#x'] },
      ]),
    );
    expect(out.late.map((l) => l.index)).toEqual([0, 1]);
    expect(summary(op.flush())).toEqual([`${2 * MIN} #x 1 0`]);
  });

  it('with sliding windows, drops only the windows that are late', () => {
    const op = make(0, 20_000);
    op.addBatch(...received([{ id: '1', ts: 50_000, topics: ['#x'], threshold: 59_999 }]));
    // Windows containing 50s: [0,60s) (late: deadline 59,999), [20s,80s), [40s,100s).
    expect(summary(op.flush())).toEqual(['20000 #x 1 0', '40000 #x 1 0']);
  });

  it('forgets ids once the watermark is past the horizon', () => {
    const op = new DedupePreAggregator({
      spec: { sizeMs: MIN, slideMs: MIN },
      allowedLatenessMs: 0,
      dedupeHorizonMs: MIN,
      maxHeld: 10,
    });
    op.addBatch(...received([{ id: '1', ts: 1000, topics: [] }]));
    expect(op.dedupeSize()).toBe(1);
    op.advance(2 * MIN);
    expect(op.dedupeSize()).toBe(0);
  });
});

describe('DedupePreAggregator with topic codes', () => {
  it('aggregates by topic whatever the senders’ dictionaries do: two senders, dictionaries starting over every few batches', () => {
    const random = mulberry32(3);
    // Sliding windows too: a tweet's codes then go into several windows' caches.
    const op = make(0, MIN / 2);
    const senders = [0, 1].map(() => {
      const dictionary = new TopicDictionary(4, 4);
      return { dictionary, sent: new TopicSendState(), mirror: new TopicMirror() };
    });
    const expected = new Map<string, { count: number; authors: Set<string> }>();
    let id = 0;
    for (let batch = 0; batch < 60; batch++) {
      const s = senders[batch % 2];
      s.dictionary.startBatch();
      const builder = new TweetBatchBuilder(8, s.dictionary, s.sent);
      for (let i = 0; i < 8; i++) {
        const ts = Math.floor(random() * 3 * MIN);
        const author = `a${Math.floor(random() * 5)}`;
        const topics = [...new Set([`#t${Math.floor(random() * 9)}`, `#t${Math.floor(random() * 9)}`])];
        builder.add(String(++id), ts, author, topics, Number.NEGATIVE_INFINITY);
        for (const start of [ts - (ts % (MIN / 2)) - MIN / 2, ts - (ts % (MIN / 2))]) {
          for (const t of topics) {
            const key = `${start} ${t}`;
            const e = expected.get(key) ?? { count: 0, authors: new Set<string>() };
            e.count++;
            e.authors.add(author);
            expected.set(key, e);
          }
        }
      }
      const { batch: b, transfer } = builder.build();
      const got = structuredClone(b, { transfer });
      s.mirror.apply(got);
      op.addBatch(got, s.mirror);
    }
    expect(senders.every((s) => s.dictionary.epoch > 5)).toBe(true);
    expect(summary(op.flush())).toEqual(
      [...expected].map(([key, e]) => `${key} ${e.count} ${e.authors.size}`).sort(),
    );
  });
});
