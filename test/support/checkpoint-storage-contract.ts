import { randomBytes } from 'node:crypto';
import {
  allDataFiles,
  CheckpointError,
  dataFileEntry,
  type CheckpointMetadata,
  type DataFileEntry,
  type SharedFileEntry,
} from '../../src/state/checkpoint-metadata';
import type { CheckpointStorage, CheckpointWarning } from '../../src/state/checkpoint-storage';

/**
 * The behaviour every checkpoint storage backend must show, run against each
 * (local directory in test/unit, S3 via s3rver in test/integration).
 */
export interface StorageUnderTest {
  storage: CheckpointStorage;
  /** What the storage reported through onWarning. */
  warnings: CheckpointWarning[];
  /** Bypasses the storage, to damage things: key relative to the root, e.g. "chk-0000000001/kg-0". */
  putRaw(key: string, data: Buffer): Promise<void>;
  deleteRaw(key: string): Promise<void>;
  /** Every object under the root, relative keys, sorted. */
  listRaw(): Promise<string[]>;
  /** A path or URI of something under the root, as a user would pass to load(). */
  pathOf(key: string): string;
}

export type StorageFactory = () => Promise<StorageUnderTest>;

const MAX_PARALLELISM = 8;
const dir = (id: number): string => `chk-${String(id).padStart(10, '0')}`;

/** Key groups 0..7 in four files of two groups each: kg-0 holds 0-1, kg-1 holds 2-3, ... */
const kgRange = (file: number): { start: number; end: number } => ({ start: file * 2, end: file * 2 + 1 });

function metadata(
  id: number,
  files: DataFileEntry[],
  extra: Partial<CheckpointMetadata> = {},
): CheckpointMetadata {
  return {
    id,
    time: new Date(Date.UTC(2024, 0, 1, 0, 0, id)).toISOString(),
    kind: 'checkpoint',
    jobName: 'trending',
    parallelism: 2,
    maxParallelism: MAX_PARALLELISM,
    sourcePositions: { 'file-0': { offset: id * 100, line: id }, 'gen-1': id },
    files,
    sharedFiles: [],
    ...extra,
  };
}

const content = (id: number, file: number): Buffer =>
  Buffer.from(
    `state of key groups ${kgRange(file).start}-${kgRange(file).end} at checkpoint ${id}\n`.repeat(3),
  );

/**
 * Writes data files `kg-<n>` for the given file numbers and commits. `reuse`
 * takes the other key groups' files from an earlier checkpoint (incremental).
 */
async function checkpoint(
  storage: CheckpointStorage,
  id: number,
  fileNumbers: number[] = [0, 1, 2, 3],
  extra: Partial<CheckpointMetadata> & { reuse?: CheckpointMetadata } = {},
): Promise<CheckpointMetadata> {
  const { reuse, ...rest } = extra;
  const files: DataFileEntry[] = [];
  for (const n of fileNumbers) {
    const data = content(id, n);
    await storage.writeFile(id, `kg-${n}`, data);
    files.push(dataFileEntry(`kg-${n}`, data, [kgRange(n)]));
  }
  const written = new Set(fileNumbers.map((n) => kgRange(n).start));
  const sharedFiles: SharedFileEntry[] = reuse
    ? allDataFiles(reuse).filter((f) => f.keyGroups.every((r) => !written.has(r.start)))
    : [];
  const m = metadata(id, files, { sharedFiles, ...rest });
  await storage.commit(m);
  return m;
}

async function rejection(p: Promise<unknown>): Promise<CheckpointError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    return err as CheckpointError;
  }
  throw new Error('expected a rejection');
}

const ids = (list: CheckpointMetadata[]): number[] => list.map((m) => m.id);

export function checkpointStorageContract(factory: StorageFactory): void {
  let t: StorageUnderTest;
  let storage: CheckpointStorage;

  beforeEach(async () => {
    t = await factory();
    storage = t.storage;
  });

  afterEach(async () => {
    await storage.close();
  });

  it('round trip: data files and metadata come back as written', async () => {
    const m = await checkpoint(storage, 1);
    expect(await storage.listCompleted()).toEqual([m]);
    expect(await storage.latest()).toEqual(m);
    expect(await storage.readFile(1, 'kg-2')).toEqual(content(1, 2));
    const loaded = await storage.load(1);
    expect(loaded.metadata).toEqual(m);
    expect(loaded.location).toContain(dir(1));
    expect(loaded.files.map((f) => [f.checkpointId, f.name, f.data.toString()])).toEqual(
      [0, 1, 2, 3].map((n) => [1, `kg-${n}`, content(1, n).toString()]),
    );
    expect(loaded.metadata.sourcePositions).toEqual({ 'file-0': { offset: 100, line: 1 }, 'gen-1': 1 });
    expect(t.warnings).toEqual([]);
  });

  it('stores binary data byte for byte', async () => {
    const data = randomBytes(300_000);
    await storage.writeFile(1, 'blob', data);
    await storage.commit(metadata(1, [dataFileEntry('blob', data, [{ start: 0, end: 7 }])]));
    expect((await storage.readFile(1, 'blob')).equals(data)).toBe(true);
    expect((await storage.load(1)).files[0].data.equals(data)).toBe(true);
  });

  it('a folder without _metadata is incomplete: not listed, not loadable', async () => {
    await storage.writeFile(1, 'kg-0', content(1, 0));
    expect(await storage.listCompleted()).toEqual([]);
    expect(await storage.latest()).toBeUndefined();
    expect(await storage.loadLatest()).toBeUndefined();
    const err = await rejection(storage.load(1));
    expect(err.code).toBe('CHECKPOINT_MISSING');
    expect(err.message).toContain(`${dir(1)}/_metadata`);
    expect(err.message).toContain('checkpoint 1');
    const missing = await rejection(storage.readFile(1, 'kg-9'));
    expect(missing.problem).toBe('missing');
  });

  it('commit writes _metadata last, after checking every listed file is there', async () => {
    await storage.writeFile(1, 'kg-0', content(1, 0));
    const lacking = metadata(1, [
      dataFileEntry('kg-0', content(1, 0), [kgRange(0)]),
      dataFileEntry('kg-1', content(1, 1), [kgRange(1)]),
    ]);
    const err = await rejection(storage.commit(lacking));
    expect(err.problem).toBe('missing');
    expect(err.message).toContain(`${dir(1)}/kg-1`);
    expect(await t.listRaw()).toEqual([`${dir(1)}/kg-0`]);

    await storage.writeFile(1, 'kg-1', Buffer.from('short'));
    const short = await rejection(storage.commit(lacking));
    expect(short.problem).toBe('corrupt');
    expect(short.message).toMatch(/kg-1 is 5 bytes/);
    expect(await storage.listCompleted()).toEqual([]);

    await storage.writeFile(1, 'kg-1', content(1, 1));
    await storage.commit(lacking);
    expect(await t.listRaw()).toEqual([`${dir(1)}/_metadata`, `${dir(1)}/kg-0`, `${dir(1)}/kg-1`]);
    const twice = await rejection(storage.commit(lacking));
    expect(twice.message).toContain('already committed');
  });

  it('lists completed checkpoints newest first, by number', async () => {
    for (const id of [2, 10, 9, 1, 11]) await checkpoint(storage, id, [0]);
    await storage.writeFile(12, 'kg-0', content(12, 0)); // in progress
    expect(ids(await storage.listCompleted())).toEqual([11, 10, 9, 2, 1]);
    expect((await storage.latest())?.id).toBe(11);
  });

  it('load names a truncated data file', async () => {
    await checkpoint(storage, 1);
    await t.putRaw(`${dir(1)}/kg-1`, content(1, 1).subarray(0, 10));
    const err = await rejection(storage.load(1));
    expect(err.code).toBe('CHECKPOINT_CORRUPT');
    expect(err.checkpointId).toBe(1);
    expect(err.file).toBe(`${dir(1)}/kg-1`);
    expect(err.message).toContain('checkpoint 1');
    expect(err.message).toContain(`${dir(1)}/kg-1 is 10 bytes`);
  });

  it('load names a data file whose bytes changed (CRC32)', async () => {
    await checkpoint(storage, 1);
    const flipped = Buffer.from(content(1, 3));
    flipped[7] ^= 0x01;
    await t.putRaw(`${dir(1)}/kg-3`, flipped);
    const err = await rejection(storage.load(1));
    expect(err.code).toBe('CHECKPOINT_CORRUPT');
    expect(err.file).toBe(`${dir(1)}/kg-3`);
    expect(err.message).toMatch(/CRC32 [0-9a-f]{8}, the metadata says [0-9a-f]{8}/);
  });

  it('load names a missing data file, also one reused from an older checkpoint', async () => {
    const first = await checkpoint(storage, 1);
    await checkpoint(storage, 2, [1], { reuse: first });
    await t.deleteRaw(`${dir(1)}/kg-2`);
    const err = await rejection(storage.load(2));
    expect(err.code).toBe('CHECKPOINT_MISSING');
    expect(err.checkpointId).toBe(2);
    expect(err.file).toBe(`${dir(1)}/kg-2`);
    expect(err.message).toContain('reused from checkpoint 1');
  });

  it('a corrupt _metadata is named by load, skipped and reported by listCompleted', async () => {
    await checkpoint(storage, 1);
    await checkpoint(storage, 2);
    await checkpoint(storage, 3);
    const raw = await storage.readFile(2, '_metadata');
    await t.putRaw(`${dir(2)}/_metadata`, raw.subarray(0, raw.length >> 1)); // truncated
    // Edited but still valid JSON: only the checksum notices.
    const edited = (await storage.readFile(3, '_metadata'))
      .toString()
      .replace('"parallelism": 2', '"parallelism": 1');
    await t.putRaw(`${dir(3)}/_metadata`, Buffer.from(edited));

    expect(ids(await storage.listCompleted())).toEqual([1]);
    expect(t.warnings.map((w) => [w.checkpointId, w.file])).toEqual([
      [3, `${dir(3)}/_metadata`],
      [2, `${dir(2)}/_metadata`],
    ]);
    expect(t.warnings[0].message).toContain('checksum mismatch');
    expect(t.warnings[1].message).toContain('not valid JSON');
    expect((await storage.latest())?.id).toBe(1);

    const err = await rejection(storage.load(2));
    expect(err.code).toBe('CHECKPOINT_CORRUPT');
    expect(err.file).toBe(`${dir(2)}/_metadata`);
    expect(err.message).toContain(`${dir(2)}/_metadata`);
  });

  it('loadLatest falls back past a checkpoint with a damaged data file', async () => {
    await checkpoint(storage, 1);
    await checkpoint(storage, 2);
    await t.putRaw(`${dir(2)}/kg-0`, Buffer.from('garbage'));
    const loaded = await storage.loadLatest();
    expect(loaded?.metadata.id).toBe(1);
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]).toMatchObject({ checkpointId: 2, file: `${dir(2)}/kg-0` });
  });

  it('retain keeps the newest n checkpoints and every savepoint', async () => {
    for (let id = 1; id <= 6; id++)
      await checkpoint(storage, id, [0, 1, 2, 3], id === 2 ? { kind: 'savepoint' } : {});
    const result = await storage.retain(2);
    expect(result).toEqual({
      retained: [6, 5, 2],
      deleted: [4, 3, 1],
      removedIncomplete: [],
      keptReferenced: [],
    });
    expect(ids(await storage.listCompleted())).toEqual([6, 5, 2]);
    const folders = new Set((await t.listRaw()).map((k) => k.split('/')[0]));
    expect([...folders].sort()).toEqual([dir(2), dir(5), dir(6)]);
    await storage.load(2);
    // Savepoints do not count towards n, and retain is idempotent.
    await checkpoint(storage, 7, [0, 1, 2, 3], { kind: 'savepoint' });
    expect((await storage.retain(2)).deleted).toEqual([]);
    expect((await storage.retain(1)).deleted).toEqual([5]);
    expect(ids(await storage.listCompleted())).toEqual([7, 6, 2]);
  });

  it('retain keeps files that retained incremental checkpoints reference', async () => {
    const c1 = await checkpoint(storage, 1); // kg-0..3
    const c2 = await checkpoint(storage, 2, [1], { reuse: c1 }); // new kg-1; kg-0,2,3 from 1
    const c3 = await checkpoint(storage, 3, [1, 2], { reuse: c2 }); // new kg-1,2; kg-0,3 from 1
    expect(c3.sharedFiles.map((f) => `${f.checkpointId}/${f.name}`)).toEqual(['1/kg-0', '1/kg-3']);

    const result = await storage.retain(1);
    expect(result.deleted).toEqual([2, 1]);
    expect(result.keptReferenced).toEqual([`${dir(1)}/kg-0`, `${dir(1)}/kg-3`]);
    expect(ids(await storage.listCompleted())).toEqual([3]);
    expect(await t.listRaw()).toEqual([
      `${dir(1)}/kg-0`,
      `${dir(1)}/kg-3`,
      `${dir(3)}/_metadata`,
      `${dir(3)}/kg-1`,
      `${dir(3)}/kg-2`,
    ]);
    const loaded = await storage.load(3);
    expect(loaded.files.map((f) => f.data.toString())).toEqual([
      content(3, 1).toString(),
      content(3, 2).toString(),
      content(1, 0).toString(),
      content(1, 3).toString(),
    ]);

    // chk-1 is now an incomplete folder older than the newest completed one:
    // a second retain must still spare the referenced files.
    await storage.retain(1);
    await storage.load(3);
    expect(await t.listRaw()).toContain(`${dir(1)}/kg-0`);

    // Once nothing references them, they go.
    await checkpoint(storage, 4);
    const later = await storage.retain(1);
    expect(later.deleted).toEqual([3]);
    expect(later.removedIncomplete).toEqual([1]);
    expect((await t.listRaw()).every((k) => k.startsWith(`${dir(4)}/`))).toBe(true);
  });

  it('retain removes incomplete folders older than the newest completed one only', async () => {
    await checkpoint(storage, 1);
    await storage.writeFile(2, 'kg-0', content(2, 0)); // abandoned
    await checkpoint(storage, 3);
    await storage.writeFile(4, 'kg-0', content(4, 0)); // in progress
    const result = await storage.retain(5);
    expect(result.removedIncomplete).toEqual([2]);
    expect(result.deleted).toEqual([]);
    const keys = await t.listRaw();
    expect(keys.some((k) => k.startsWith(dir(2)))).toBe(false);
    expect(keys).toContain(`${dir(4)}/kg-0`);
    expect(ids(await storage.listCompleted())).toEqual([3, 1]);
  });

  it('retain leaves a folder with corrupt metadata alone, and reports it', async () => {
    await checkpoint(storage, 1);
    await checkpoint(storage, 2);
    await checkpoint(storage, 3);
    await t.putRaw(`${dir(1)}/_metadata`, Buffer.from('{"format":'));
    const result = await storage.retain(1);
    expect(result).toMatchObject({ retained: [3], deleted: [2] });
    expect(await t.listRaw()).toContain(`${dir(1)}/_metadata`);
    expect(t.warnings.map((w) => w.checkpointId)).toEqual([1]);
    const zero = await rejection(storage.retain(0));
    expect(zero.problem).toBe('invalid');
  });

  it('delete removes a checkpoint but keeps files other checkpoints reference', async () => {
    const c1 = await checkpoint(storage, 1);
    await checkpoint(storage, 2, [0], { reuse: c1 });
    await storage.delete(1);
    expect(ids(await storage.listCompleted())).toEqual([2]);
    expect(await t.listRaw()).not.toContain(`${dir(1)}/kg-0`);
    expect(await t.listRaw()).toContain(`${dir(1)}/kg-1`);
    await storage.load(2);
    await storage.delete(2);
    await storage.delete(2); // idempotent
    expect(await storage.listCompleted()).toEqual([]);
  });

  it('load accepts an id, a folder name, or a path/URI of the folder or its _metadata', async () => {
    const m = await checkpoint(storage, 7);
    for (const ref of [
      7,
      '7',
      dir(7),
      t.pathOf(dir(7)),
      `${t.pathOf(dir(7))}/`,
      t.pathOf(`${dir(7)}/_metadata`),
    ]) {
      expect((await storage.load(ref)).metadata).toEqual(m);
    }
    const err = await rejection(storage.load('not-a-checkpoint'));
    expect(err.problem).toBe('invalid');
  });

  it('rejects bad ids, file names and metadata before writing anything', async () => {
    for (const [id, name] of [
      [0, 'kg-0'],
      [1.5, 'kg-0'],
      [1, '../escape'],
      [1, 'a/b'],
      [1, '_metadata'],
      [1, '.hidden'],
      [1, ''],
    ] as const) {
      const err = await rejection(storage.writeFile(id, name, Buffer.from('x')));
      expect(err.code).toBe('CHECKPOINT_INVALID');
    }
    const data = content(1, 0);
    await storage.writeFile(1, 'kg-0', data);
    await storage.writeFile(1, 'kg-0b', data);
    const overlap = metadata(1, [
      dataFileEntry('kg-0', data, [
        { start: 0, end: 3 },
        { start: 3, end: 4 },
      ]),
    ]);
    expect((await rejection(storage.commit(overlap))).message).toContain('key group 3 is listed twice');
    const outOfRange = metadata(1, [dataFileEntry('kg-0', data, [{ start: 0, end: MAX_PARALLELISM }])]);
    expect((await rejection(storage.commit(outOfRange))).code).toBe('CHECKPOINT_INVALID');
    const forward = metadata(1, [], {
      sharedFiles: [{ ...dataFileEntry('kg-0', data, []), checkpointId: 2 }],
    });
    expect((await rejection(storage.commit(forward))).message).toContain('not older than 1');
    const savepoint = metadata(2, [], {
      kind: 'savepoint',
      sharedFiles: [{ ...dataFileEntry('kg-0', data, []), checkpointId: 1 }],
    });
    expect((await rejection(storage.commit(savepoint))).message).toContain('self-contained');
    const badTime = { ...metadata(1, []), time: 'yesterday' };
    expect((await rejection(storage.commit(badTime))).message).toContain('time');
    expect(await storage.listCompleted()).toEqual([]);
  });
}
