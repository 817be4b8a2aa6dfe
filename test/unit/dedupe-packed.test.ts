import { DedupeState } from '../../src/jobs/trending/dedupe';
import { packed, packId } from '../../src/jobs/trending/tweet-id-table';
import { mulberry32 as prng } from '../support/prng';

describe('DedupeState.checkAndAddPacked', () => {
  it('answers as checkAndAdd does for the same ids, through expiry, and holds the same state', () => {
    const rnd = prng(21);
    const byString = new DedupeState(120_000);
    const byPacked = new DedupeState(120_000);
    const answers: [boolean, boolean][] = [];
    let wm = 0;
    for (let i = 0; i < 20_000; i++) {
      const id = String(1477067041797046272n + BigInt(Math.floor(rnd() * 8000)));
      const ts = wm + Math.floor(rnd() * 60_000) - 20_000;
      expect(packId(id)).toBe(true);
      answers.push([byString.checkAndAdd(id, ts), byPacked.checkAndAddPacked(packed.high, packed.low, ts)]);
      if (i % 1000 === 999) {
        wm += 30_000;
        expect(byPacked.expire(wm)).toBe(byString.expire(wm));
      }
    }
    expect(answers.filter(([a, b]) => a !== b)).toEqual([]);
    // Both duplicates and expiries happened, or the comparison proves little.
    expect(answers.filter(([a]) => a).length).toBeGreaterThan(1000);
    expect(byPacked.size).toBe(byString.size);
    expect(byPacked.snapshot(128)).toEqual(byString.snapshot(128));
  });
});
