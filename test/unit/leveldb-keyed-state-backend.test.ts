import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Level } from 'level';
import { FloeError } from '../../src/runtime/errors';
import {
  BLOB_MAGIC,
  decodeKeyGroupBlob,
  DEFAULT_STATE_IDS,
  KeyedStateSnapshot,
  StateBackendError,
  StateEntry,
} from '../../src/state/keyed-state-backend';
import {
  LevelDbKeyedStateBackend,
  LevelDbStateBackendOptions,
} from '../../src/state/leveldb-keyed-state-backend';

let root: string;
const opened: LevelDbKeyedStateBackend[] = [];

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'floe-state-'));
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const b of opened.splice(0)) await b.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function openBackend(
  name = 'worker-0',
  options?: LevelDbStateBackendOptions,
): Promise<LevelDbKeyedStateBackend> {
  const b = await LevelDbKeyedStateBackend.open(path.join(root, name), options);
  opened.push(b);
  return b;
}

const v = (s: string): Buffer => Buffer.from(s);
const str = (b: Buffer | undefined): string | undefined => b?.toString();

async function collect(it: AsyncIterable<StateEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.keyGroup}/${e.state}/${e.key.toString()}=${e.value.toString()}`);
  return out;
}

/** A blob's entries as "state/key=value" strings, via the public decoder. */
function blobEntries(blob: Buffer): string[] {
  const d = decodeKeyGroupBlob(blob);
  const out: string[] = [];
  for (let i = 0; i < d.count; i++) {
    const key = blob.subarray(d.keyStart[i], d.keyStart[i] + d.keyLength[i]);
    const value = blob.subarray(d.valueStart[i], d.valueStart[i] + d.valueLength[i]);
    out.push(`${d.states.get(key[0])}/${key.subarray(1).toString()}=${value.toString()}`);
  }
  return out;
}

function expectCorrupt(fn: () => Promise<unknown>, message: RegExp): Promise<void> {
  return fn().then(
    () => {
      throw new Error('expected the blob to be rejected');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(StateBackendError);
      expect(err).toBeInstanceOf(FloeError);
      expect((err as StateBackendError).reason).toBe('corrupt-blob');
      expect((err as StateBackendError).code).toBe('STATE_CORRUPT');
      expect((err as Error).message).toMatch(message);
    },
  );
}

describe('LevelDbKeyedStateBackend', () => {
  it('registers the default states and custom ones, rejecting conflicts and unknown names', async () => {
    const b = await openBackend('w', { states: { sessions: 9 } });
    expect(b.stateId('window')).toBe(DEFAULT_STATE_IDS.window);
    expect(b.stateId('dedupe')).toBe(2);
    expect(b.stateId('history')).toBe(3);
    expect(b.stateId('sessions')).toBe(9);
    expect(b.registerState('sessions')).toBe(9);
    expect(b.registerState('extra')).toBe(4);
    expect(() => b.registerState('other', 9)).toThrow(/taken by 'sessions'/);
    expect(() => b.registerState('window', 7)).toThrow(/registered with id 1/);
    expect(() => b.put(0, 'nope', 'k', v('x'))).toThrow(StateBackendError);
    expect(() => b.put(0x10000, 'window', 'k', v('x'))).toThrow(/key group 65536/);
    expect(() => b.put(-1, 'window', 'k', v('x'))).toThrow(/key group -1/);
  });

  it('makes staged writes and deletes visible to get, getSync and getMany before any flush', async () => {
    const b = await openBackend();
    const batchSpy = jest.spyOn(Level.prototype, 'batch');
    b.put(5, 'window', 'a', v('1'));
    b.put(5, 'window', 'b', v('2'));
    b.put(5, 'window', 'a', v('3')); // last write wins
    expect(str(await b.get(5, 'window', 'a'))).toBe('3');
    expect(str(b.getSync(5, 'window', 'b'))).toBe('2');
    expect(b.stats()).toMatchObject({ staged: 2, batchesWritten: 0 });
    expect(batchSpy).not.toHaveBeenCalled();

    await b.flush();
    b.delete(5, 'window', 'a'); // staged delete hides a flushed value
    b.put(5, 'window', 'c', v('4'));
    expect(await b.get(5, 'window', 'a')).toBeUndefined();
    expect(b.getSync(5, 'window', 'a')).toBeUndefined();
    const many = await b.getMany([
      { keyGroup: 5, state: 'window', key: 'a' },
      { keyGroup: 5, state: 'window', key: 'b' }, // from the store
      { keyGroup: 5, state: 'window', key: 'c' }, // staged
      { keyGroup: 5, state: 'window', key: 'zz' }, // nowhere
    ]);
    expect(many.map(str)).toEqual([undefined, '2', '4', undefined]);
  });

  it('flush writes all staged changes as one batch, and they are durable', async () => {
    const b = await openBackend();
    for (let i = 0; i < 200; i++) b.put(i % 7, 'dedupe', `id-${i}`, v(`t${i}`));
    b.delete(3, 'dedupe', 'id-3');
    b.deleteRange(4, 'dedupe', { prefix: 'id-1' });
    await b.flush(); // an initial batch so the range delete below has stored keys to remove
    const batchSpy = jest.spyOn(Level.prototype, 'batch');
    for (let i = 200; i < 1200; i++) b.put(i % 7, 'dedupe', `id-${i}`, v(`t${i}`));
    b.deleteRange(0, 'dedupe');
    b.delete(1, 'dedupe', 'id-1');
    const before = b.stats().batchesWritten;
    await b.flush();
    expect(batchSpy).toHaveBeenCalledTimes(1);
    expect(b.stats().batchesWritten - before).toBe(1);
    expect(b.stats()).toMatchObject({ staged: 0, pendingWrites: 0 });
    // Flushing nothing writes nothing.
    await b.flush();
    expect(batchSpy).toHaveBeenCalledTimes(1);

    await b.close();
    const again = await openBackend('worker-0');
    expect(str(await again.get(2, 'dedupe', 'id-2'))).toBe('t2');
    expect(str(await again.get(2, 'dedupe', 'id-1199'))).toBe('t1199');
    expect(await again.get(3, 'dedupe', 'id-3')).toBeUndefined();
    expect(await again.get(1, 'dedupe', 'id-1')).toBeUndefined();
    expect(await again.get(4, 'dedupe', 'id-18')).toBeUndefined(); // id-18 % 7 == 4, prefix id-1
    expect(str(await again.get(4, 'dedupe', 'id-200'))).toBe('t200'); // put after nothing in range
    expect(await collect(again.scan(0, 'dedupe'))).toEqual([]);
  });

  it('isolates key groups and states by their key prefix', async () => {
    const b = await openBackend();
    b.put(1, 'window', 'k', v('w1'));
    b.put(2, 'window', 'k', v('w2'));
    b.put(1, 'history', 'k', v('h1'));
    b.put(256, 'window', 'k', v('w256')); // 0x0100: differs from 1 only in the high byte
    await b.flush();
    expect(str(await b.get(1, 'window', 'k'))).toBe('w1');
    expect(str(await b.get(2, 'window', 'k'))).toBe('w2');
    expect(str(await b.get(1, 'history', 'k'))).toBe('h1');
    expect(await b.get(1, 'dedupe', 'k')).toBeUndefined();
    b.clearKeyGroup(1);
    expect(await b.get(1, 'window', 'k')).toBeUndefined();
    expect(await b.get(1, 'history', 'k')).toBeUndefined();
    await b.flush();
    expect(await b.get(1, 'window', 'k')).toBeUndefined();
    expect(str(await b.get(2, 'window', 'k'))).toBe('w2');
    expect(str(await b.get(256, 'window', 'k'))).toBe('w256');
    expect(await collect(b.scan({ start: 0, end: 300 }))).toEqual(['2/window/k=w2', '256/window/k=w256']);
  });

  it('scans in key order (key group, state id, key bytes), seeing staged changes as of the call', async () => {
    const b = await openBackend();
    const puts: [number, string, string][] = [
      [3, 'history', 'b'],
      [1, 'window', 'b'],
      [3, 'window', 'a'],
      [2, 'dedupe', 'z'],
      [1, 'window', 'a'],
      [1, 'window', 'ab'],
      [1, 'dedupe', 'a'],
      [1, 'window', '\u00e9'], // UTF-8 c3 a9: after every ASCII key
      [1, 'window', 'B'],
    ];
    for (const [kg, state, key] of puts.slice(0, 5)) b.put(kg, state, key, v(`${kg}${state[0]}${key}`));
    await b.flush();
    for (const [kg, state, key] of puts.slice(5)) b.put(kg, state, key, v(`${kg}${state[0]}${key}`));
    b.delete(3, 'window', 'a');

    const all = b.scan({ start: 0, end: 10 });
    const window1 = b.scan(1, 'window');
    const windows = b.scan({ start: 1, end: 3 }, 'window');
    // Changes after the calls are not seen by them, even before they are iterated.
    b.put(1, 'window', 'aa', v('late'));
    b.delete(1, 'window', 'b');
    await b.flush();

    expect(await collect(all)).toEqual([
      '1/window/B=1wB',
      '1/window/a=1wa',
      '1/window/ab=1wab',
      '1/window/b=1wb',
      '1/window/\u00e9=1w\u00e9',
      '1/dedupe/a=1da',
      '2/dedupe/z=2dz',
      '3/history/b=3hb',
    ]);
    expect(await collect(window1)).toEqual([
      '1/window/B=1wB',
      '1/window/a=1wa',
      '1/window/ab=1wab',
      '1/window/b=1wb',
      '1/window/\u00e9=1w\u00e9',
    ]);
    expect((await collect(windows)).length).toBe(5);
    // One state over many key groups: a single filtered pass.
    expect(await collect(b.scan({ start: 0, end: 5000 }, 'dedupe'))).toEqual([
      '1/dedupe/a=1da',
      '2/dedupe/z=2dz',
    ]);
    expect(await collect(b.scan(1, 'window'))).toEqual([
      '1/window/B=1wB',
      '1/window/a=1wa',
      '1/window/aa=late',
      '1/window/ab=1wab',
      '1/window/\u00e9=1w\u00e9',
    ]);
  });

  it('tracks dirty key groups across snapshots, relative to the last completed one', async () => {
    const b = await openBackend();
    for (const kg of [0, 1, 2, 3]) b.put(kg, 'window', 'k', v(`v${kg}`));
    const s1 = await b.snapshot();
    expect(s1.incremental).toBe(false);
    expect(s1.keyGroups).toEqual([0, 1, 2, 3]);
    expect(s1.dirtyKeyGroups).toEqual([0, 1, 2, 3]);
    s1.complete();
    await s1.release();

    const s2 = await b.snapshot();
    expect(s2.incremental).toBe(true);
    expect(s2.dirtyKeyGroups).toEqual([]);
    s2.complete();
    await s2.release();

    b.put(2, 'window', 'k2', v('x'));
    b.delete(3, 'window', 'k'); // key group 3 is now empty but changed
    b.deleteRange(9, 'window'); // nothing there, but a change all the same
    const s3 = await b.snapshot();
    expect(s3.dirtyKeyGroups).toEqual([2, 3, 9]);
    expect(s3.keyGroups).toEqual([0, 1, 2]);
    expect(blobEntries(await s3.writeKeyGroup(3))).toEqual([]);
    await s3.release(); // a failed checkpoint: never completed

    b.put(7, 'history', 'h', v('y'));
    const s4 = await b.snapshot();
    expect(s4.dirtyKeyGroups).toEqual([2, 3, 7, 9]); // still includes s3's changes
    s4.complete();
    await s4.release();

    b.put(1, 'window', 'k', v('changed'));
    const s5 = await b.snapshot();
    expect(s5.dirtyKeyGroups).toEqual([1]);
    await s5.release();
  });

  it('a snapshot keeps the state as of the call while writes, deletes and flushes continue', async () => {
    const b = await openBackend();
    for (let i = 0; i < 3000; i++) b.put(5, 'window', `k${String(i).padStart(4, '0')}`, v(`old${i}`));
    b.put(6, 'dedupe', 'id', v('keep'));
    await b.flush();
    b.put(5, 'window', 'k0001', v('staged-before')); // staged, unflushed: belongs in the snapshot

    const pending = b.snapshot(); // not awaited: processing goes on at once
    b.put(5, 'window', 'k0000', v('new'));
    b.delete(5, 'window', 'k0002');
    b.put(5, 'window', 'zzz', v('added'));
    const flushed = b.flush();
    const snap = await pending;
    await flushed;
    b.deleteRange(5, 'window', { gte: 'k1000', lt: 'k2000' });
    b.clearKeyGroup(6);
    await b.flush();
    b.put(5, 'window', 'k0003', v('newer'));

    // The live state moved on...
    expect(str(await b.get(5, 'window', 'k0000'))).toBe('new');
    expect(await b.get(5, 'window', 'k0002')).toBeUndefined();
    expect(await b.get(5, 'window', 'k1500')).toBeUndefined();
    expect(await b.get(6, 'dedupe', 'id')).toBeUndefined();
    // ...the snapshot did not.
    const blob = await snap.writeKeyGroup(5);
    const entries = blobEntries(blob);
    expect(entries.length).toBe(3000);
    expect(entries[0]).toBe('window/k0000=old0');
    expect(entries[1]).toBe('window/k0001=staged-before');
    expect(entries[2]).toBe('window/k0002=old2');
    expect(entries[3]).toBe('window/k0003=old3');
    expect(entries[1500]).toBe('window/k1500=old1500');
    expect(entries).not.toContain('window/zzz=added');
    expect(blobEntries(await snap.writeKeyGroup(6))).toEqual(['dedupe/id=keep']);
    expect(snap.keyGroups).toEqual([5, 6]);

    // Streaming in small chunks gives the same bytes.
    const chunks: Buffer[] = [];
    for await (const c of snap.streamKeyGroup(5, 4096)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);

    await snap.release();
    await expect(snap.writeKeyGroup(5)).rejects.toThrow(/released/);
  });

  it('round-trips blobs into fresh databases, split as when rescaling from 1 to 2 workers', async () => {
    const source = await openBackend('source');
    const expected = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const kg = (i * 37) % 128;
      const state = ['window', 'dedupe', 'history'][i % 3];
      const key = `key-${i}`;
      source.put(kg, state, key, v(`value-${i}`));
      expected.set(`${kg}/${state}/${key}`, `value-${i}`);
    }
    const snap = await source.snapshot();
    expect(snap.keyGroups.length).toBe(128);
    const blobs = new Map<number, Buffer>();
    for (const kg of snap.keyGroups) blobs.set(kg, await snap.writeKeyGroup(kg));
    await snap.release();
    expect(blobs.get(0)?.subarray(0, 4).equals(BLOB_MAGIC)).toBe(true);

    const low = await openBackend('worker-0');
    const high = await openBackend('worker-1');
    // The target already holds stale data for a key group: restore replaces it.
    low.put(10, 'window', 'stale', v('x'));
    low.put(10, 'window', 'key-0', v('stale'));
    await low.flush();
    low.put(11, 'window', 'staged-stale', v('x'));
    const restores: Promise<unknown>[] = [];
    for (const [kg, blob] of blobs) restores.push((kg < 64 ? low : high).restoreKeyGroup(blob, kg));
    // Readable at once, from the staged restore, before it is written.
    const anyLow = [...expected].find(([k]) => Number(k.split('/')[0]) < 64) as [string, string];
    const [kg0, state0, key0] = anyLow[0].split('/');
    expect(str(await low.get(Number(kg0), state0, key0))).toBe(anyLow[1]);
    expect(await low.get(10, 'window', 'stale')).toBeUndefined();
    await Promise.all(restores);

    const seenLow = await collect(low.scan({ start: 0, end: 127 }));
    const seenHigh = await collect(high.scan({ start: 0, end: 127 }));
    const asMap = (lines: string[]) => new Map(lines.map((l) => l.split('=') as [string, string]));
    const lowMap = asMap(seenLow);
    const highMap = asMap(seenHigh);
    expect(lowMap.size + highMap.size).toBe(expected.size);
    for (const [k, val] of expected) {
      const kg = Number(k.split('/')[0]);
      expect((kg < 64 ? lowMap : highMap).get(k)).toBe(val);
    }
    expect([...lowMap.keys()].every((k) => Number(k.split('/')[0]) < 64)).toBe(true);
    expect(lowMap.has('10/window/stale')).toBe(false);
    expect(lowMap.has('11/window/staged-stale')).toBe(false);
    // Restored key groups are dirty for the next checkpoint.
    const s = await high.snapshot();
    expect(s.dirtyKeyGroups).toEqual(Array.from({ length: 64 }, (_, i) => 64 + i));
    await s.release();
  });

  it('orders a restore with the writes staged before and after it', async () => {
    const a = await openBackend('a');
    a.put(3, 'window', 'x', v('from-blob'));
    a.put(3, 'window', 'z', v('from-blob'));
    const snap = await a.snapshot();
    const blob = await snap.writeKeyGroup(3);
    await snap.release();

    const b = await openBackend('b');
    b.put(3, 'window', 'x', v('before'));
    b.put(3, 'window', 'w', v('before'));
    const restoring = b.restoreKeyGroup(blob);
    b.put(3, 'window', 'y', v('after'));
    b.delete(3, 'window', 'z');
    expect(str(b.getSync(3, 'window', 'x'))).toBe('from-blob');
    expect(b.getSync(3, 'window', 'w')).toBeUndefined();
    await restoring;
    await b.flush();
    expect(await collect(b.scan(3))).toEqual(['3/window/x=from-blob', '3/window/y=after']);
  });

  it('maps state ids by name on restore', async () => {
    const a = await openBackend('a', { states: { sessions: 10 } });
    a.put(4, 'sessions', 's1', v('one'));
    a.put(4, 'window', 'w1', v('two'));
    const snap = await a.snapshot();
    const blob = await snap.writeKeyGroup(4);
    await snap.release();

    const b = await openBackend('b', { states: { sessions: 4, other: 10 } });
    await b.restoreKeyGroup(blob);
    expect(str(await b.get(4, 'sessions', 's1'))).toBe('one');
    expect(str(await b.get(4, 'window', 'w1'))).toBe('two');
    expect(await b.get(4, 'other', 's1')).toBeUndefined();
    expect(await collect(b.scan(4))).toEqual(['4/window/w1=two', '4/sessions/s1=one']);
  });

  it('rejects corrupted, truncated and foreign blobs with a clear error, changing nothing', async () => {
    const a = await openBackend('a');
    for (let i = 0; i < 100; i++) a.put(7, 'window', `k${i}`, v(`v${i}`));
    const snap = await a.snapshot();
    const blob = await snap.writeKeyGroup(7);
    await snap.release();

    const b = await openBackend('b');
    b.put(7, 'window', 'mine', v('kept'));
    await b.flush();

    const flipped = Buffer.from(blob);
    flipped[Math.floor(blob.length / 2)] ^= 0x01;
    await expectCorrupt(() => b.restoreKeyGroup(flipped), /CRC32 mismatch/);
    const flippedCrc = Buffer.from(blob);
    flippedCrc[blob.length - 1] ^= 0x80;
    await expectCorrupt(() => b.restoreKeyGroup(flippedCrc), /CRC32 mismatch/);
    await expectCorrupt(
      () => b.restoreKeyGroup(blob.subarray(0, blob.length - 10)),
      /CRC32 mismatch|truncated/,
    );
    await expectCorrupt(() => b.restoreKeyGroup(blob.subarray(0, 12)), /shorter than any valid blob/);
    await expectCorrupt(() => b.restoreKeyGroup(Buffer.alloc(0)), /shorter/);
    const magic = Buffer.from(blob);
    magic[0] = 0x58;
    await expectCorrupt(() => b.restoreKeyGroup(magic), /bad magic/);
    const version = Buffer.from(blob);
    version[4] = 2;
    await expectCorrupt(() => b.restoreKeyGroup(version), /unsupported version 2/);
    await expectCorrupt(() => b.restoreKeyGroup(Buffer.concat([blob, Buffer.from([0])])), /CRC32 mismatch/);
    await expectCorrupt(() => b.restoreKeyGroup(blob, 8), /key group 7, expected 8/);

    expect(str(await b.get(7, 'window', 'mine'))).toBe('kept');
    expect(await b.get(7, 'window', 'k1')).toBeUndefined();
    // The intact blob still restores.
    await expect(b.restoreKeyGroup(blob, 7)).resolves.toEqual({ keyGroup: 7, entries: 100 });
    expect(await b.get(7, 'window', 'mine')).toBeUndefined();
    expect(str(await b.get(7, 'window', 'k42'))).toBe('v42');
  });

  it('deleteRange removes a whole state, a key prefix or a [gte, lt) range within one key group', async () => {
    const b = await openBackend();
    const fill = () => {
      for (const kg of [1, 2]) {
        for (const state of ['window', 'dedupe']) {
          for (const bucket of ['0001', '0002', '0003']) {
            for (const id of ['a', 'b'])
              b.put(kg, state, `${bucket}:${id}`, v(`${kg}${state}${bucket}${id}`));
          }
        }
      }
    };
    const keys = async (kg: number, state: string) =>
      (await collect(b.scan(kg, state))).map((l) => l.split('/')[2].split('=')[0]);

    fill();
    await b.flush();
    b.deleteRange(1, 'dedupe', { lt: '0003' }); // TTL: buckets before 0003
    b.deleteRange(1, 'window', { prefix: '0002:' });
    b.deleteRange(2, 'window');
    b.deleteRange(2, 'dedupe', { gte: '0002:b', lt: '0003:b' });
    expect(await b.get(1, 'dedupe', '0001:a')).toBeUndefined();
    expect(str(await b.get(1, 'dedupe', '0003:a'))).toBe('1dedupe0003a');
    // A put after a range delete survives it; one before it does not.
    b.put(1, 'dedupe', '0001:new', v('after'));
    expect(str(await b.get(1, 'dedupe', '0001:new'))).toBe('after');
    b.put(1, 'window', '0001:z', v('before'));
    b.deleteRange(1, 'window', { gte: '0001:z', lt: '0001:zz' });
    expect(b.getSync(1, 'window', '0001:z')).toBeUndefined();
    await b.flush();

    expect(await keys(1, 'dedupe')).toEqual(['0001:new', '0003:a', '0003:b']);
    expect(await keys(1, 'window')).toEqual(['0001:a', '0001:b', '0003:a', '0003:b']);
    expect(await keys(2, 'window')).toEqual([]);
    expect(await keys(2, 'dedupe')).toEqual(['0001:a', '0001:b', '0002:a', '0003:b']);
    expect(str(await b.get(1, 'dedupe', '0001:new'))).toBe('after');

    // Range deletes of staged, never-flushed keys.
    b.put(3, 'history', 'x1', v('1'));
    b.put(3, 'history', 'y1', v('2'));
    b.deleteRange(3, 'history', { prefix: 'x' });
    expect(await keys(3, 'history')).toEqual(['y1']);
  });

  it('reports its size, refuses a second open of a directory and work after close', async () => {
    const b = await openBackend();
    for (let i = 0; i < 20_000; i++) b.put(i % 128, 'window', `key-${i}`, randomBytes(100));
    await b.compact();
    expect(await b.approximateSize()).toBeGreaterThan(100_000);
    expect(await b.approximateSize({ start: 0, end: 63 })).toBeLessThan(await b.approximateSize());
    expect(await b.diskBytes()).toBeGreaterThan(100_000);

    const err = await LevelDbKeyedStateBackend.open(b.location as string).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateBackendError);
    expect((err as StateBackendError).reason).toBe('locked');
    expect((err as StateBackendError).retriable).toBe(true);

    b.put(1, 'window', 'last', v('written by close'));
    await b.close();
    expect(() => b.put(1, 'window', 'k', v('x'))).toThrow(/not open/);
    await expect(b.get(1, 'window', 'k')).rejects.toThrow(/not open/);
    const again = await openBackend('worker-0');
    expect(str(await again.get(1, 'window', 'last'))).toBe('written by close');
  });

  it('refuses further work after a failed write, with an io error', async () => {
    const b = await openBackend();
    const realBatch = Level.prototype.batch;
    jest.spyOn(Level.prototype, 'batch').mockImplementation(function (this: Level<Buffer, Buffer>) {
      const batch = (realBatch as () => ReturnType<Level<Buffer, Buffer>['batch']>).call(this);
      batch.write = () => Promise.reject(new Error('No space left on device'));
      return batch;
    } as never);
    b.put(1, 'window', 'k', v('x'));
    const err = await b.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateBackendError);
    expect((err as StateBackendError).reason).toBe('io');
    expect((err as Error).message).toMatch(/No space left/);
    expect(() => b.put(1, 'window', 'k2', v('y'))).toThrow(/No space left/);
    await expect(b.snapshot()).rejects.toThrow(/No space left/);
  });

  it('hands every change to exactly one batch when flushes overlap with staging', async () => {
    const b = await openBackend();
    const flushes: Promise<void>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) b.put(round % 4, 'window', `k${i}`, v(`r${round}`));
      if (round % 5 === 4) b.deleteRange(round % 4, 'window', { prefix: 'k1' });
      flushes.push(b.flush());
      // Reads during in-flight writes see the newest staged value.
      expect(str(b.getSync(round % 4, 'window', 'k7'))).toBe(`r${round}`);
    }
    await Promise.all(flushes);
    const snap: KeyedStateSnapshot = await b.snapshot();
    const entries = blobEntries(await snap.writeKeyGroup(3));
    await snap.release();
    // Key group 3 was last written in round 19, which range-deleted its k1* keys.
    expect(entries.length).toBe(500 - 111);
    expect(entries.every((e) => e.endsWith('=r19'))).toBe(true);
  });
});
