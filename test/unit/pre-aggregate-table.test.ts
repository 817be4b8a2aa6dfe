import { PreAggregateTable } from '../../src/jobs/trending/pre-aggregate-table';
import { encodeHashes, HLL_SPARSE_LIMIT, HyperLogLog } from '../../src/state/hyperloglog';
import { mulberry32 } from '../support/prng';

describe('PreAggregateTable', () => {
  it('holds per topic exactly what a sketch per topic would hand on: sparse values, or registers past the limit', () => {
    const random = mulberry32(21);
    const table = new PreAggregateTable();
    const reference: HyperLogLog[] = [];
    const counts: number[] = [];
    // Topics from one author to well past the sparse limit, hashes re-added often, interleaved.
    const authorsOf = [
      0,
      1,
      2,
      15,
      16,
      17,
      300,
      HLL_SPARSE_LIMIT - 1,
      HLL_SPARSE_LIMIT,
      HLL_SPARSE_LIMIT + 1,
      5000,
    ];
    for (let t = 0; t < authorsOf.length; t++) {
      expect(table.insert(`#t${t}`)).toBe(t);
      reference.push(new HyperLogLog());
      counts.push(0);
    }
    const pool = authorsOf.map((n) =>
      Array.from({ length: n }, () =>
        encodeHashes(Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32)),
      ),
    );
    const add = (slot: number, v: number | undefined): void => {
      table.addCount(slot, 1);
      counts[slot]++;
      if (v === undefined) return;
      table.addEncoded(slot, v);
      reference[slot].addEncoded(v);
    };
    // Every author of every topic once (topics interleaved), then random re-adds.
    for (let i = 0; i < 5000; i++)
      for (let slot = 0; slot < pool.length; slot++) if (i < pool[slot].length) add(slot, pool[slot][i]);
    for (let i = 0; i < 20_000; i++) {
      const slot = Math.floor(random() * pool.length);
      add(slot, pool[slot].length === 0 ? undefined : pool[slot][Math.floor(random() * pool[slot].length)]);
    }
    expect(table.size).toBe(authorsOf.length);
    expect([...table.entries()].map(([topic]) => topic)).toEqual(authorsOf.map((_, t) => `#t${t}`));
    for (let slot = 0; slot < authorsOf.length; slot++) {
      expect(table.count(slot)).toBe(counts[slot]);
      const out: number[] = [];
      const regs = table.appendHashes(slot, out);
      const expected = reference[slot].toSerialized();
      if ('dense' in expected) {
        expect(out).toEqual([]);
        expect(regs).toEqual(expected.dense);
      } else {
        expect(regs).toBeUndefined();
        expect(out.sort((a, b) => a - b)).toEqual(expected.sparse);
      }
      expect(table.sketch(slot).toBytes()).toEqual(reference[slot].toBytes());
    }
    // The topic at the limit stays sparse; one more distinct author turns it dense, as a sketch does.
    expect(reference[8].isDense()).toBe(false);
    expect(reference[9].isDense()).toBe(true);
  });

  it('a topic unseen has no slot; adds after a look at the hashes are seen by the next look', () => {
    const table = new PreAggregateTable();
    expect(table.slotOf('#x')).toBeUndefined();
    const x = table.insert('#x');
    expect(table.slotOf('#x')).toBe(x);
    table.addEncoded(x, 7);
    expect(table.appendHashes(x, [])).toBeUndefined();
    table.addEncoded(x, 9);
    table.addEncoded(x, 7);
    const out: number[] = [];
    table.appendHashes(x, out);
    expect(out.sort()).toEqual([7, 9]);
  });

  it('drops an author seen again after the log was compacted, and turns a topic dense once its distinct authors pass the limit over several compactions', () => {
    const random = mulberry32(5);
    const hash = (): number => encodeHashes(Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32));
    const table = new PreAggregateTable();
    const again = table.insert('#again');
    const growing = table.insert('#growing');
    const filler = table.insert('#filler');
    const reference = [new HyperLogLog(), new HyperLogLog(), new HyperLogLog()];
    const add = (slot: number, v: number): void => {
      table.addEncoded(slot, v);
      reference[slot].addEncoded(v);
    };
    const repeated = Array.from({ length: 700 }, hash);
    // Rounds of: the same 700 authors again, 200 new ones for a topic that passes 1536 in round 8,
    // and 3000 distinct fillers, so that the 1024-entry log is compacted (and grown) many times in between.
    for (let round = 0; round < 10; round++) {
      for (const v of repeated) add(again, v);
      for (let i = 0; i < 200; i++) add(growing, hash());
      for (let i = 0; i < 3000; i++) add(filler, hash());
      if (round === 3) {
        // A look in between compacts the log; the adds after it are still de-duplicated against it.
        const out: number[] = [];
        expect(table.appendHashes(again, out)).toBeUndefined();
        expect(out.sort((a, b) => a - b)).toEqual([...repeated].sort((a, b) => a - b));
      }
    }
    const out: number[] = [];
    expect(table.appendHashes(again, out)).toBeUndefined();
    expect(out.sort((a, b) => a - b)).toEqual([...repeated].sort((a, b) => a - b));
    expect(table.appendHashes(growing, [])).toEqual(
      (reference[1].toSerialized() as { dense: Uint8Array }).dense,
    );
    expect(table.sketch(filler).toBytes()).toEqual(reference[2].toBytes());
    // Read, the log holds the distinct pairs of the sparse topics only.
    expect(table.pairs).toBe(700);
  });
});
