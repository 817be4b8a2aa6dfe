/**
 * The partials exchange: what PartialBatchBuilder packs from a pre-aggregation
 * flush and TopicWindowOperator.addBatch unpacks must be exactly the partials
 * as objects (partialsOf + addPartial): same counts, sketches, order.
 */
import { DedupePreAggregator, partialsOf } from '../../src/jobs/trending/dedupe-pre-aggregator';
import { PartialBatchBuilder } from '../../src/jobs/trending/partial-batch';
import { TopicWindowOperator, WindowCount } from '../../src/jobs/trending/topic-window-operator';
import type { PartialBatch } from '../../src/jobs/trending/trending-messages';
import { mulberry32 } from '../support/prng';
import { received, type TestTweet } from '../support/tweet-batch';

const MIN = 60_000;
const spec = { sizeMs: MIN, slideMs: MIN / 2 };

function operator(counts: WindowCount[]): TopicWindowOperator {
  return new TopicWindowOperator(
    { spec, allowedLatenessMs: MIN, minCount: 1, top: 5, trendAlpha: 0.3 },
    (c) => counts.push(c),
  );
}

describe('PartialBatchBuilder and TopicWindowOperator.addBatch', () => {
  it('carry exactly the flushed partials (inline, sparse, dense, no author, late singles)', () => {
    const rnd = mulberry32(3);
    const pre = new DedupePreAggregator({
      spec,
      allowedLatenessMs: MIN,
      dedupeHorizonMs: 60 * MIN,
      maxHeld: 1_000_000,
    });
    const viaBatch: WindowCount[] = [];
    const viaObjects: WindowCount[] = [];
    const a = operator(viaBatch);
    const b = operator(viaObjects);
    let id = 0;
    for (let round = 0; round < 6; round++) {
      const tweets: TestTweet[] = [];
      const base = round * MIN;
      for (let i = 0; i < 400; i++) {
        const topics = [`#t${Math.floor(rnd() * 20)}`];
        if (rnd() < 0.3) topics.push(`#u${Math.floor(rnd() * 5)}`);
        // Late records (before the watermark) become singles of their own.
        const ts = base + Math.floor(rnd() * MIN) - (rnd() < 0.1 ? MIN / 2 : 0);
        tweets.push({
          id: String(id++),
          ts,
          author: rnd() < 0.1 ? undefined : `a${Math.floor(rnd() * 50)}`,
          topics,
        });
      }
      // One busy topic with enough authors for a dense sketch.
      if (round === 2) {
        for (let i = 0; i < 2000; i++)
          tweets.push({ id: String(id++), ts: base + 10, author: `d${i}`, topics: ['#busy'] });
      }
      pre.addBatch(...received(tweets));
      const flushed = pre.flush();
      const builder = new PartialBatchBuilder();
      for (const s of flushed.singles) builder.addSingle(s.start, s.topic, s.hash);
      for (const { start, table } of flushed.windows) {
        for (const [topic, slot] of table.entries()) builder.addSlot(start, topic, table, slot);
      }
      const { batch, transfer } = builder.build();
      const objects = partialsOf(flushed);
      expect(batch.starts).toHaveLength(objects.length);
      // In both sliding windows containing it.
      if (round === 2) expect(batch.dense).toHaveLength(2);
      a.addBatch(structuredClone(batch, { transfer }) as PartialBatch);
      for (const p of objects) b.addPartial(p.start, p.topic, p.count, p.authors);
      const wm = base + MIN / 2 - 1;
      pre.advance(wm);
      expect(a.advance(wm)).toEqual(b.advance(wm));
      expect(viaBatch).toEqual(viaObjects);
      expect(a.snapshot(16)).toEqual(b.snapshot(16));
    }
    expect(viaBatch.length).toBeGreaterThan(100);
    expect(a.expiredPartials).toBe(b.expiredPartials);
  });

  it('keeps every hash across growth of its column, runs and singles interleaved', () => {
    const rnd = mulberry32(7);
    const builder = new PartialBatchBuilder();
    const expected: number[][] = [];
    for (let p = 0; p < 300; p++) {
      const n = Math.floor(rnd() * 40);
      const values = Float64Array.from({ length: n + 6 }, () => Math.floor(rnd() * 2 ** 52));
      if (rnd() < 0.3) {
        builder.addSingle(0, `#s${p}`, values[0]);
        expected.push([values[0]]);
        continue;
      }
      // A run out of the middle of a larger array, as a table's grouped hashes are.
      builder.addSlot(
        0,
        `#t${p}`,
        {
          count: () => n,
          appendHashesTo: (_slot, out) => {
            out.addRun(values, 3, 3 + n);
            return undefined;
          },
        },
        p,
      );
      expected.push([...values.subarray(3, 3 + n)]);
    }
    const { batch } = builder.build();
    expect(batch.hashes.length).toBe(batch.hashOffsets[batch.hashOffsets.length - 1]);
    expect(batch.hashes.length).toBeGreaterThan(1024);
    const got = expected.map((_, i) => [
      ...batch.hashes.subarray(batch.hashOffsets[i], batch.hashOffsets[i + 1]),
    ]);
    expect(got).toEqual(expected);
  });
});
