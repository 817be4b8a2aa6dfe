import { columnSketchBytes, TopicTable } from '../../src/jobs/trending/topic-table';
import { encodeHashes, hashKeyH1, hashKeyH2, HyperLogLog } from '../../src/state/hyperloglog';
import { mulberry32 } from '../support/prng';

const enc = (author: string): number => encodeHashes(hashKeyH1(author), hashKeyH2(author));

function sketchOf(authors: string[]): HyperLogLog {
  const h = new HyperLogLog();
  for (const a of authors) h.add(a);
  return h;
}

describe('TopicTable', () => {
  it('keeps topics in arrival order with their counts, across growth', () => {
    const t = new TopicTable();
    const topics = Array.from({ length: 100 }, (_, i) => `#t${(i * 37) % 100}`);
    for (const topic of topics) t.addCount(t.slotFor(topic), 2);
    t.addCount(t.slotFor('#t37'), 1);
    expect([...t.topics()]).toEqual(topics);
    expect(t.size).toBe(100);
    expect(t.count(t.slotOf('#t37') as number)).toBe(3);
    expect(t.count(t.slotOf('#t0') as number)).toBe(2);
    expect(t.slotOf('#absent')).toBeUndefined();
  });

  it('holds exactly the sketch a HyperLogLog would, inline or as an object', () => {
    const rnd = mulberry32(7);
    for (let round = 0; round < 200; round++) {
      const t = new TopicTable();
      const slot = t.slotFor('#x');
      const seen: string[] = [];
      // 0..4 authors from a pool of 3 (repeats on purpose), sometimes a merged sketch too.
      const n = Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) {
        const a = `u${Math.floor(rnd() * 3)}`;
        seen.push(a);
        if (rnd() < 0.5) t.addEncoded(slot, enc(a));
        else t.mergeSketch(slot, sketchOf([a]));
      }
      if (rnd() < 0.3) {
        const more = Array.from({ length: Math.floor(rnd() * 4) }, () => `v${Math.floor(rnd() * 3)}`);
        seen.push(...more);
        t.mergeSketch(slot, sketchOf(more));
      }
      const expected = sketchOf(seen);
      expect(t.distinct(slot)).toBe(expected.estimate());
      expect(t.sketch(slot).toBytes()).toEqual(expected.toBytes());
      expect(columnSketchBytes(t.copyColumns(), slot)).toEqual(expected.toBytes());
    }
  });

  it('takes a run of distinct hashes into an empty slot as adding them one by one would, at every size', () => {
    // List, open-addressed table (around its growth points) and dense registers; then more authors
    // and a merge, which must find the adopted form intact.
    for (const n of [0, 1, 2, 16, 17, 24, 25, 48, 49, 1536, 1537, 4000]) {
      const authors = Array.from({ length: n }, (_, i) => `a${i}`);
      const values = new Float64Array(n + 2);
      authors.forEach((a, i) => (values[i + 1] = enc(a)));
      const t = new TopicTable();
      const slot = t.slotFor('#x');
      t.addDistinctRun(slot, values, 1, n + 1);
      const expected = sketchOf(authors);
      expect(t.distinct(slot)).toBe(expected.estimate());
      expect(t.sketch(slot).toBytes()).toEqual(expected.toBytes());
      t.addEncodedRun(slot, [enc('a0'), enc('late')], 0, 2);
      t.mergeSketch(slot, sketchOf(['a1', 'other']));
      const after = sketchOf([...authors, 'a0', 'late', 'a1', 'other']);
      expect(t.distinct(slot)).toBe(after.estimate());
      expect(t.sketch(slot).toBytes()).toEqual(after.toBytes());
    }
  });

  it('merges a distinct run into a slot holding authors already, duplicates dropped', () => {
    const t = new TopicTable();
    const slot = t.slotFor('#x');
    t.addEncoded(slot, enc('a1'));
    const run = ['a1', 'a2', 'a3'].map(enc);
    t.addDistinctRun(slot, run, 0, 3);
    t.addDistinctRun(slot, run, 0, 3);
    expect(t.distinct(slot)).toBe(3);
    expect(t.sketch(slot).toBytes()).toEqual(sketchOf(['a1', 'a2', 'a3']).toBytes());
  });

  it('merges dense sketches losslessly', () => {
    const t = new TopicTable();
    const slot = t.slotFor('#busy');
    const many = Array.from({ length: 3000 }, (_, i) => `a${i}`);
    t.addEncoded(slot, enc('first'));
    t.mergeSketch(slot, sketchOf(many));
    const expected = sketchOf(['first', ...many]);
    expect(t.sketch(slot).isDense()).toBe(true);
    expect(t.sketch(slot).toBytes()).toEqual(expected.toBytes());
    expect(t.distinct(slot)).toBe(expected.estimate());
  });

  it('appendHashes gives the sparse values, or a copy of dense registers', () => {
    const t = new TopicTable();
    const none = t.slotFor('#none');
    const one = t.slotFor('#one');
    const two = t.slotFor('#two');
    const dense = t.slotFor('#dense');
    t.addEncoded(one, enc('a'));
    t.addEncodedRun(two, [enc('b'), enc('a'), enc('b')], 0, 3);
    t.mergeSketch(dense, sketchOf(Array.from({ length: 2000 }, (_, i) => `d${i}`)));
    const out: number[] = [];
    expect(t.appendHashes(none, out)).toBeUndefined();
    expect(out).toEqual([]);
    expect(t.appendHashes(one, out)).toBeUndefined();
    expect(out).toEqual([enc('a')]);
    expect(t.appendHashes(two, out)).toBeUndefined();
    // A sketch's hashes come in no particular order.
    expect(out[0]).toBe(enc('a'));
    expect(out.slice(1).sort((x, y) => x - y)).toEqual([enc('a'), enc('b')].sort((x, y) => x - y));
    const regs = t.appendHashes(dense, out) as Uint8Array;
    expect(regs).toHaveLength(16384);
    expect(HyperLogLog.fromSerialized({ dense: regs }).toBytes()).toEqual(t.sketch(dense).toBytes());
    regs.fill(0);
    expect(t.sketch(dense).estimate()).toBeGreaterThan(1900);
  });

  it('a capture keeps its contents while the table changes (copy on write)', () => {
    const t = new TopicTable();
    const a = t.slotFor('#a');
    const b = t.slotFor('#b');
    t.addCount(a, 1);
    t.addEncoded(a, enc('u1'));
    t.addCount(b, 2);
    t.addEncodedRun(b, [enc('u1'), enc('u2')], 0, 2);
    t.freeze();
    const captured = t.copyColumns();
    const before = [columnSketchBytes(captured, a), columnSketchBytes(captured, b)];
    t.addCount(a, 1);
    t.addEncoded(a, enc('u3'));
    t.addCount(b, 1);
    t.addEncoded(b, enc('u3'));
    t.mergeSketch(b, sketchOf(['u4']));
    t.addCount(t.slotFor('#c'), 1);
    expect(captured.topics).toEqual(['#a', '#b']);
    expect([...captured.counts]).toEqual([1, 2]);
    expect([columnSketchBytes(captured, a), columnSketchBytes(captured, b)]).toEqual(before);
    expect(t.distinct(a)).toBe(2);
    expect(t.distinct(b)).toBe(4);
    expect(t.count(b)).toBe(3);
  });
});
