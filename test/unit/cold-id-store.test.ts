import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { ColdIdStore, FingerprintTable } from '../../src/jobs/trending/cold-id-store';
import { DedupeState, type DedupeDelta } from '../../src/jobs/trending/dedupe';
import { packId, packed, unpackId } from '../../src/jobs/trending/tweet-id-table';
import { openLocalStateDir } from '../../src/state/local-state-dir';
import { mulberry32 } from '../support/prng';

const MIN = 60_000;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-cold-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const dbDir = (): string => path.join(tmp, `db-${seq++}`);

function decodeDeltaIds(delta: DedupeDelta): string[] {
  return delta.slices.flatMap((s) => [
    ...Array.from(s.lows, (low, i) => unpackId(s.highs[i], low)),
    ...s.strings,
  ]);
}

function packedColumns(ids: string[]): { highs: Float64Array; lows: Uint32Array } {
  const highs = new Float64Array(ids.length);
  const lows = new Uint32Array(ids.length);
  ids.forEach((id, i) => {
    if (!packId(id)) throw new Error(`not numeric: ${id}`);
    highs[i] = packed.high;
    lows[i] = packed.low;
  });
  return { highs, lows };
}

describe('FingerprintTable', () => {
  it('finds every bucket a fingerprint was added with, and forgets a bucket at once', () => {
    const t = new FingerprintTable();
    t.add(7, 100);
    t.add(7, 101);
    t.add(9, 100);
    const out: number[] = [];
    t.bucketsOf(7, out);
    expect(out.sort()).toEqual([100, 101]);
    out.length = 0;
    t.bucketsOf(8, out);
    expect(out).toEqual([]);
    expect(t.dropBucket(100)).toBe(2);
    t.bucketsOf(7, out);
    expect(out).toEqual([101]);
    expect(t.size).toBe(1);
  });

  it('grows and shrinks with its contents, and keeps every entry through both', () => {
    const t = new FingerprintTable();
    const rand = mulberry32(5);
    const entries: [number, number][] = [];
    for (let i = 0; i < 20_000; i++) entries.push([Math.floor(rand() * 0xffffffff) >>> 0 || 1, i % 10]);
    for (const [fp, b] of entries) t.add(fp, b);
    const grown = t.bytes;
    expect(grown).toBeGreaterThan(20_000 * 8);
    for (let b = 0; b < 9; b++) t.dropBucket(b);
    expect(t.size).toBe(2_000);
    expect(t.bytes).toBeLessThan(grown / 4);
    const out: number[] = [];
    for (const [fp, b] of entries) {
      out.length = 0;
      t.bucketsOf(fp, out);
      expect(out.includes(9)).toBe(b === 9 || out.length > 0);
      if (b === 9) expect(out).toContain(9);
    }
  });
});

describe('ColdIdStore (real LevelDB)', () => {
  it('answers for spilled ids, reading the disk only on a fingerprint match, and forgets dropped buckets', async () => {
    const store = await ColdIdStore.open(dbDir(), 128);
    try {
      const ids = Array.from({ length: 2000 }, (_, i) =>
        String(1_500_000_000_000_000_000n + BigInt(i * 7919)),
      );
      const { highs, lows } = packedColumns(ids);
      const first = store.move(5, highs, lows, 1000, ['not-a-number', 'x']);
      // Not visible before the write ends: the caller still holds the ids.
      expect(store.hasPacked(highs[0], lows[0])).toBe(false);
      await first;
      await store.move(6, highs.subarray(1000), lows.subarray(1000), 1000, []);
      expect(store.size).toBe(2002);
      for (let i = 0; i < ids.length; i += 97) expect(store.hasPacked(highs[i], lows[i])).toBe(true);
      expect(store.hasString('not-a-number')).toBe(true);
      expect(store.hasString('y')).toBe(false);
      const fresh = packedColumns(['42', '1500000000000000001', '99999999999999999']);
      for (let i = 0; i < 3; i++) expect(store.hasPacked(fresh.highs[i], fresh.lows[i])).toBe(false);
      // Fingerprints keep fresh ids off the disk (a match among 2,002 fingerprints is ~5e-7 likely).
      const reads = store.stats().diskReads;
      expect(store.stats().diskHits).toBe(reads);

      expect(store.drop(5)).toBe(1002);
      expect(store.hasPacked(highs[0], lows[0])).toBe(false);
      expect(store.hasString('not-a-number')).toBe(false);
      expect(store.hasPacked(highs[1500], lows[1500])).toBe(true);
      expect(store.stats()).toMatchObject({ ids: 1000, buckets: 1, spilled: 2002 });
    } finally {
      await store.close();
    }
  });

  it('created lazily: no database until ids move; a drop asked for while it opens follows the write', async () => {
    const dir = dbDir();
    const unused = ColdIdStore.create(dir, 128);
    expect(unused.hasPacked(1, 2)).toBe(false);
    await unused.close();
    expect(existsSync(dir)).toBe(false);

    const store = ColdIdStore.create(dir, 128);
    try {
      const ids = Array.from({ length: 500 }, (_, i) => String(1_600_000_000_000_000_000n + BigInt(i)));
      const { highs, lows } = packedColumns(ids);
      const kept = store.move(8, highs.subarray(250), lows.subarray(250), 250, ['s-8']);
      const gone = store.move(7, highs, lows, 250, ['s-7']);
      // Still opening: bucket 7's range deletes must land after its keys.
      expect(store.drop(7)).toBe(0);
      await Promise.all([kept, gone]);
      await store.settled();
      expect(existsSync(dir)).toBe(true);
      expect(store.size).toBe(251);
      expect(store.spilledBuckets()).toEqual([8]);
      expect(store.hasPacked(highs[0], lows[0])).toBe(false);
      expect(store.hasPacked(highs[300], lows[300])).toBe(true);
      expect(store.hasString('s-7')).toBe(false);
      expect(store.hasString('s-8')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('finds an id in whichever bucket holds it (a re-delivery may carry another time)', async () => {
    const store = await ColdIdStore.open(dbDir(), 128);
    try {
      const a = packedColumns(['111111111111']);
      await store.move(3, a.highs, a.lows, 1, []);
      const b = packedColumns(['222222222222']);
      await store.move(9, b.highs, b.lows, 1, []);
      expect(store.hasPacked(a.highs[0], a.lows[0])).toBe(true);
      expect(store.hasPacked(b.highs[0], b.lows[0])).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('DedupeState with a cold store', () => {
  const ids = (from: number, n: number): string[] =>
    Array.from({ length: n }, (_, i) => String(1_600_000_000_000_000_000n + BigInt(from + i)));

  it('moves buckets past the memory horizon to disk and still finds their ids', async () => {
    const store = await ColdIdStore.open(dbDir(), 128);
    try {
      const d = new DedupeState(60 * MIN, MIN, { store, memoryHorizonMs: 2 * MIN, spillUncaptured: true });
      const minute0 = ids(0, 100);
      const minute5 = ids(1000, 100);
      for (const id of minute0) expect(d.checkAndAdd(id, 30_000)).toBe(false);
      for (const id of minute5) expect(d.checkAndAdd(id, 5 * MIN + 1)).toBe(false);
      d.checkAndAdd('word-id', 10);
      d.expire(3 * MIN - 2); // bucket 0 ends at 1m - 1: not yet 2m behind
      expect(d.inMemory).toBe(201);
      d.expire(3 * MIN - 1);
      // Still in memory until the move is written.
      expect(d.checkAndAdd(minute0[0], 30_000)).toBe(true);
      await store.settled();
      expect(d.inMemory).toBe(100);
      expect(d.size).toBe(201);
      expect(store.size).toBe(101);
      for (const id of minute0) expect(d.checkAndAdd(id, 30_000)).toBe(true);
      // The packed path (ids as the local stage sends them) looks on disk too.
      for (const id of minute0) {
        packId(id);
        expect(d.checkAndAddPacked(packed.high, packed.low, 30_000)).toBe(true);
      }
      expect(d.checkAndAdd('word-id', 10)).toBe(true);
      for (const id of minute5) expect(d.checkAndAdd(id, 5 * MIN + 1)).toBe(true);
      // A new id for the spilled bucket goes to memory first, and is found too.
      expect(d.checkAndAdd(ids(5000, 1)[0], 20_000)).toBe(false);
      expect(d.checkAndAdd(ids(5000, 1)[0], 20_000)).toBe(true);
      // Past the horizon the cold bucket is dropped like a hot one (and minute 5 moves to disk).
      expect(d.expire(MIN - 1 + 60 * MIN)).toBe(102);
      await store.settled();
      expect(store.size).toBe(100);
      expect(d.size).toBe(100);
      expect(d.checkAndAdd(minute0[0], 30_000)).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('with checkpoints, keeps a bucket in memory until a delta has captured all of it', async () => {
    const store = await ColdIdStore.open(dbDir(), 128);
    try {
      const d = new DedupeState(60 * MIN, MIN, { store, memoryHorizonMs: MIN, spillUncaptured: false });
      for (const id of ids(0, 10)) d.checkAndAdd(id, 1000);
      d.expire(10 * MIN);
      await store.settled();
      expect(store.size).toBe(0);
      const first = d.takeDelta();
      expect(first.ids).toBe(10);
      d.checkAndAdd(ids(10, 1)[0], 2000); // arrives after the capture: the bucket waits again
      d.expire(10 * MIN + 1);
      await store.settled();
      expect(store.size).toBe(0);
      const second = d.takeDelta();
      expect(decodeDeltaIds(second)).toEqual(ids(10, 1));
      d.expire(10 * MIN + 2);
      await store.settled();
      expect(store.size).toBe(11);
      expect(d.inMemory).toBe(0);
      // Nothing new since: the next delta is empty although the ids left memory.
      expect(d.takeDelta().ids).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe('openLocalStateDir', () => {
  it('gives each run its own directory and removes those of processes that are gone', async () => {
    const root = path.join(tmp, 'state');
    const deadPid = Number(
      execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']),
    );
    mkdirSync(path.join(root, `run-${deadPid}-0badc0de`), { recursive: true });
    mkdirSync(path.join(root, `run-${process.pid}-12345678`));
    mkdirSync(path.join(root, 'not-a-run'));
    const a = await openLocalStateDir(root);
    const b = await openLocalStateDir(root);
    expect(a.path).not.toBe(b.path);
    expect(readdirSync(root).sort()).toEqual(
      ['not-a-run', `run-${process.pid}-12345678`, path.basename(a.path), path.basename(b.path)].sort(),
    );
    await a.remove();
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(true);
    await b.remove();
  });

  it('names the option when the directory cannot be used', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, '');
    await expect(openLocalStateDir(path.join(file, 'state'))).rejects.toThrow(/option state-dir/);
  });
});
