import { packed, PackedIdList, PackedIdSet, packId, unpackId } from '../../src/jobs/trending/tweet-id-table';
import { mulberry32 as prng } from '../support/prng';

describe('packId / unpackId', () => {
  it.each([
    '0',
    '7',
    '999999999',
    '1000000000',
    '1000000001',
    '1212092628029698048',
    '9223372036854775807',
    '18446744073709551615',
    '99999999999999999999',
  ])('round-trips the canonical id %s', (id) => {
    expect(packId(id)).toBe(true);
    expect(unpackId(packed.high, packed.low)).toBe(id);
  });

  it.each(['', '01', '00', '12a4', '-1', '1.5', ' 1', '123456789012345678901', '１２'])(
    'does not pack %j (kept as a string)',
    (id) => expect(packId(id)).toBe(false),
  );

  it('distinct ids pack differently', () => {
    const seen = new Set<string>();
    for (const id of ['1000000000', '100000000', '10000000000', '1', '10']) {
      expect(packId(id)).toBe(true);
      const key = `${packed.high}/${packed.low}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  });
});

describe('PackedIdSet', () => {
  it('agrees with a Set over random adds and deletes, through growth and clustered probes', () => {
    const rnd = prng(7);
    const set = new PackedIdSet();
    const ref = new Set<string>();
    // A narrow id range makes collisions and long probe runs, which deletion must keep reachable.
    const pick = (): string => String(1_500_000_000_000_000_000 + Math.floor(rnd() * 20_000) * 4096);
    for (let i = 0; i < 200_000; i++) {
      const id = pick();
      expect(packId(id)).toBe(true);
      const { high, low } = packed;
      if (rnd() < 0.6) {
        expect(set.add(high, low)).toBe(!ref.has(id));
        ref.add(id);
      } else {
        expect(set.delete(high, low)).toBe(ref.has(id));
        ref.delete(id);
      }
      if (i % 997 === 0) {
        for (const other of [pick(), pick(), pick()]) {
          packId(other);
          expect(set.has(packed.high, packed.low)).toBe(ref.has(other));
        }
      }
    }
    expect(set.size).toBe(ref.size);
    for (const id of ref) {
      packId(id);
      expect(set.has(packed.high, packed.low)).toBe(true);
    }
  });
});

describe('PackedIdList', () => {
  it('a view taken before growth keeps its contents while the list grows', () => {
    const list = new PackedIdList();
    for (let i = 0; i < 50; i++) list.push(i, i * 2);
    const highs = list.highs.subarray(10, 50);
    const lows = list.lows.subarray(10, 50);
    for (let i = 50; i < 5000; i++) list.push(i, i * 2);
    expect(list.length).toBe(5000);
    expect(Array.from(highs)).toEqual(Array.from({ length: 40 }, (_, i) => i + 10));
    expect(Array.from(lows)).toEqual(Array.from({ length: 40 }, (_, i) => (i + 10) * 2));
    expect(list.highs[4999]).toBe(4999);
  });
});
