import { murmur3 } from '../../src/runtime/hash';
import { KeyGroupRouter, keyGroupRangeForWorker, workerForKeyGroup } from '../../src/runtime/key-groups';

describe('murmur3', () => {
  // Reference values of MurmurHash3_x86_32 (UTF-8 bytes), as published with the algorithm.
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 1234, 0xfaf6cdb3],
  ])('murmur3(%j, %d)', (key, seed, expected) => expect(murmur3(key, seed)).toBe(expected));

  it('hashes non-ASCII by its UTF-8 bytes', () => {
    expect(murmur3('東京')).toBe(murmur3(Buffer.from('東京').toString('utf8')));
    expect(murmur3('😀')).not.toBe(murmur3('?'));
  });
});

describe('key groups', () => {
  it('ranges cover every key group exactly once, contiguous per worker', () => {
    for (const p of [1, 2, 3, 4, 7, 128]) {
      const seen = new Array<number>(128).fill(0);
      for (let w = 0; w < p; w++) {
        const r = keyGroupRangeForWorker(w, p, 128);
        for (let kg = r.start; kg <= r.end; kg++) {
          seen[kg]++;
          expect(workerForKeyGroup(kg, p, 128)).toBe(w);
        }
      }
      expect(seen.every((n) => n === 1)).toBe(true);
    }
  });

  it('the router agrees with the ranges and spreads keys', () => {
    const router = new KeyGroupRouter(4, 128);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[router.workerFor(`#topic${i}`)]++;
    for (const c of counts) expect(c).toBeGreaterThan(2000);
  });

  it('routes a key inside a line as it routes the key itself', () => {
    const router = new KeyGroupRouter(3, 128);
    for (let i = 0; i < 2_000; i++) {
      const id = String(1477067041797046272n + BigInt(i * 7919));
      const line = `{"id":"${id}","x":1}`;
      expect(router.workerForKeyIn(line, 7, 7 + id.length)).toBe(router.workerFor(id));
      expect(router.workerForKeyBytes(Buffer.from(line), 7, 7 + id.length)).toBe(router.workerFor(id));
    }
  });
});
