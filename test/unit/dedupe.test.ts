import { DedupeState } from '../../src/jobs/trending/dedupe';

const HORIZON = 120_000;

describe('DedupeState', () => {
  it('detects duplicates', () => {
    const d = new DedupeState(HORIZON);
    expect(d.checkAndAdd('1', 30_000)).toBe(false);
    expect(d.checkAndAdd('2', 30_000)).toBe(false);
    expect(d.checkAndAdd('1', 30_000)).toBe(true);
    // Re-delivered with another timestamp: still the same tweet.
    expect(d.checkAndAdd('1', 90_000)).toBe(true);
    expect(d.size).toBe(2);
  });

  it('keeps ids until the watermark passes their bucket end by the horizon, not before', () => {
    const d = new DedupeState(HORIZON, 60_000);
    d.checkAndAdd('a', 0);
    d.checkAndAdd('b', 59_999);
    // Bucket [0, 60_000): last ts 59_999; expires when the watermark reaches 59_999 + horizon.
    expect(d.expire(59_999 + HORIZON - 1)).toBe(0);
    expect(d.checkAndAdd('a', 0)).toBe(true);
    expect(d.checkAndAdd('b', 59_999)).toBe(true);
    expect(d.expire(59_999 + HORIZON)).toBe(2);
    expect(d.size).toBe(0);
    expect(d.checkAndAdd('a', 0)).toBe(false);
  });

  it('never forgets an id while the watermark is within the horizon of its timestamp', () => {
    const d = new DedupeState(HORIZON, 60_000);
    for (let ts = 0; ts < 180_000; ts += 7_001) d.checkAndAdd(`id${ts}`, ts);
    for (let wm = 0; wm < 400_000; wm += 997) {
      d.expire(wm);
      for (let ts = 0; ts < 180_000; ts += 7_001) {
        if (wm < ts + HORIZON) expect(d.checkAndAdd(`id${ts}`, ts)).toBe(true);
      }
    }
  });

  it('expires bucket by bucket', () => {
    const d = new DedupeState(HORIZON, 60_000);
    d.checkAndAdd('early', 10_000);
    d.checkAndAdd('late', 70_000);
    expect(d.expire(59_999 + HORIZON)).toBe(1);
    expect(d.checkAndAdd('late', 70_000)).toBe(true);
    // Beyond the horizon already: it counts, and is not held (it would be forgotten at the next expire).
    expect(d.checkAndAdd('early', 10_000)).toBe(false);
    expect(d.size).toBe(1);
    expect(d.expire(119_999 + HORIZON)).toBe(1);
    expect(d.size).toBe(0);
  });

  it('keeps each id in its own time bucket when consecutive ids alternate between buckets', () => {
    // bucket() remembers the last bucket it found: an id must still land in the bucket of its time.
    const d = new DedupeState(HORIZON, 60_000);
    const early: string[] = [];
    const late: string[] = [];
    for (let i = 0; i < 50; i++) {
      const e = String(1_600_000_000_000_000_000n + BigInt(2 * i));
      const l = String(1_600_000_000_000_000_000n + BigInt(2 * i + 1));
      early.push(e);
      late.push(l);
      expect(d.checkAndAdd(e, 10_000 + i)).toBe(false);
      expect(d.checkAndAdd(l, 70_000 + i)).toBe(false);
      if (i % 7 === 0) expect(d.checkAndAdd(e, 10_000)).toBe(true);
    }
    // Bucket [0, 60_000) expires alone: its 50 ids go, bucket [60_000, 120_000)'s stay.
    expect(d.expire(59_999 + HORIZON)).toBe(50);
    for (const l of late) expect(d.checkAndAdd(l, 70_000)).toBe(true);
    expect(d.size).toBe(50);
    // A new id after the expiry goes to its own (live) bucket, and expires with it.
    expect(d.checkAndAdd('1600000000000000999', 100_000)).toBe(false);
    expect(d.expire(119_999 + HORIZON)).toBe(51);
    expect(d.size).toBe(0);
    for (const e of early) expect(d.checkAndAdd(e, 10_000)).toBe(false);
  });

  it('handles negative timestamps', () => {
    const d = new DedupeState(HORIZON, 60_000);
    d.checkAndAdd('n', -1);
    // Bucket [-60_000, 0): last ts -1.
    expect(d.expire(-1 + HORIZON - 1)).toBe(0);
    expect(d.checkAndAdd('n', -1)).toBe(true);
    expect(d.expire(-1 + HORIZON)).toBe(1);
  });
});
