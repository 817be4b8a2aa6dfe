import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FloeError } from '../../src/runtime/errors';
import {
  canonicalJson,
  checkpointDirName,
  CheckpointError,
  crc32Hex,
  dataFileEntry,
  metadataProblems,
  parseCheckpointDirName,
  parseMetadata,
  serializeMetadata,
  type CheckpointMetadata,
} from '../../src/state/checkpoint-metadata';
import { openCheckpointStorage, type CheckpointWarning } from '../../src/state/checkpoint-storage';
import { LocalCheckpointStorage } from '../../src/state/local-checkpoint-storage';
import { S3CheckpointStorage } from '../../src/state/s3-checkpoint-storage';
import { checkpointStorageContract, type StorageUnderTest } from '../support/checkpoint-storage-contract';

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'floe-chk-'));
  tmpDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(root, key)));
    else out.push(key);
  }
  return out.sort();
}

async function localStorage(): Promise<StorageUnderTest & { root: string }> {
  const root = path.join(await tmpDir(), 'checkpoints'); // created on first write
  const warnings: CheckpointWarning[] = [];
  return {
    root,
    storage: new LocalCheckpointStorage(root, { onWarning: (w) => warnings.push(w) }),
    warnings,
    putRaw: async (key, data) => {
      await fs.mkdir(path.dirname(path.join(root, key)), { recursive: true });
      await fs.writeFile(path.join(root, key), data);
    },
    deleteRaw: (key) => fs.unlink(path.join(root, key)),
    // Empty folders are no objects (as on S3).
    listRaw: () => walk(root),
    pathOf: (key) => path.join(root, key),
  };
}

describe('LocalCheckpointStorage: the checkpoint storage contract', () => {
  checkpointStorageContract(localStorage);
});

describe('LocalCheckpointStorage specifics', () => {
  const meta = (id: number, data: Buffer): CheckpointMetadata => ({
    id,
    time: new Date().toISOString(),
    kind: 'checkpoint',
    jobName: 'j',
    parallelism: 1,
    maxParallelism: 4,
    sourcePositions: {},
    files: [dataFileEntry('state', data, [{ start: 0, end: 3 }])],
    sharedFiles: [],
  });

  it('leaves no temporary files behind, and ignores and cleans up stray ones', async () => {
    const t = await localStorage();
    const data = Buffer.from('abc');
    await t.storage.writeFile(1, 'state', data);
    await t.storage.commit(meta(1, data));
    expect(await walk(t.root)).toEqual([
      `${checkpointDirName(1)}/_metadata`,
      `${checkpointDirName(1)}/state`,
    ]);

    // A crash during a write leaves a temp file; it is never taken for data.
    await t.putRaw(`${checkpointDirName(2)}/._metadata.123.abcd.tmp`, Buffer.from('{"partial'));
    await t.putRaw(`${checkpointDirName(2)}/.state.123.abcd.tmp`, Buffer.from('partial'));
    expect((await t.storage.listCompleted()).map((m) => m.id)).toEqual([1]);
    await t.storage.writeFile(3, 'state', data);
    await t.storage.commit(meta(3, data));
    await t.storage.retain(1);
    expect(await walk(t.root)).toEqual([
      `${checkpointDirName(3)}/_metadata`,
      `${checkpointDirName(3)}/state`,
    ]);
  });

  it('ignores folders and files that are not checkpoints', async () => {
    const t = await localStorage();
    await t.putRaw('chk-7/_metadata', Buffer.from('not padded: not ours'));
    await t.putRaw('shared/something', Buffer.from('x'));
    await t.putRaw('README', Buffer.from('x'));
    const data = Buffer.from('abc');
    await t.storage.writeFile(8, 'state', data);
    await t.storage.commit(meta(8, data));
    expect((await t.storage.listCompleted()).map((m) => m.id)).toEqual([8]);
    await t.storage.retain(1);
    expect(await walk(t.root)).toContain('chk-7/_metadata');
    expect(await walk(t.root)).toContain('shared/something');
    expect(t.warnings).toEqual([]);
  });

  it('loads a checkpoint from a path under another root', async () => {
    const a = await localStorage();
    const data = Buffer.from('moved');
    await a.storage.writeFile(5, 'state', data);
    await a.storage.commit(meta(5, data));
    const b = await localStorage();
    const loaded = await b.storage.load(path.join(a.root, checkpointDirName(5)));
    expect(loaded.files[0].data.toString()).toBe('moved');
    expect(loaded.location).toBe(path.join(a.root, checkpointDirName(5)));
    const viaUrl = await b.storage.load(
      pathToFileURL(path.join(a.root, checkpointDirName(5), '_metadata')).href,
    );
    expect(viaUrl.metadata.id).toBe(5);
  });

  it('a missing root is an empty storage', async () => {
    const storage = new LocalCheckpointStorage(path.join(await tmpDir(), 'nope'));
    expect(await storage.listCompleted()).toEqual([]);
    expect(await storage.latest()).toBeUndefined();
    expect((await storage.retain(3)).retained).toEqual([]);
  });
});

describe('openCheckpointStorage', () => {
  it('opens directories by path, file:PATH and file:// URL', async () => {
    const dir = await tmpDir();
    for (const uri of [dir, `file:${dir}`, pathToFileURL(dir).href]) {
      const s = openCheckpointStorage(uri);
      expect(s).toBeInstanceOf(LocalCheckpointStorage);
      expect(s.location).toBe(dir);
    }
    expect(openCheckpointStorage('relative/dir').location).toBe(path.resolve('relative/dir'));
  });

  it('opens s3://bucket/prefix with options in the query', async () => {
    const s = openCheckpointStorage(
      's3://floe-test/jobs/trending/?endpoint=http://127.0.0.1:1&region=eu-west-1',
    );
    expect(s).toBeInstanceOf(S3CheckpointStorage);
    expect(s.location).toBe('s3://floe-test/jobs/trending/');
    expect((s as S3CheckpointStorage).prefix).toBe('jobs/trending/');
    await s.close();
    const bare = openCheckpointStorage('s3://floe-test');
    expect(bare.location).toBe('s3://floe-test/');
    await bare.close();
  });

  it('rejects unknown schemes and bad S3 URIs with typed errors', () => {
    const codeOf = (uri: string): string => {
      try {
        openCheckpointStorage(uri);
      } catch (err) {
        expect(err).toBeInstanceOf(FloeError);
        return (err as FloeError).code;
      }
      return 'none';
    };
    expect(codeOf('ftp://host/dir')).toBe('INVALID_URI');
    expect(codeOf('')).toBe('INVALID_URI');
    expect(codeOf('s3://Bad_Bucket/x')).toBe('INVALID_URI');
    expect(codeOf('s3://floe-test/x?colour=red')).toBe('UNKNOWN_OPTION');
  });
});

describe('checkpoint metadata', () => {
  const m: CheckpointMetadata = {
    id: 42,
    time: '2024-05-01T12:00:00.000Z',
    kind: 'checkpoint',
    jobName: 'trending',
    parallelism: 2,
    maxParallelism: 8,
    sourcePositions: { 'file-0': { offset: 1234 }, 'gen-0': [1, 'a', null, true] },
    files: [dataFileEntry('kg-0', Buffer.from('x'), [{ start: 0, end: 3 }])],
    sharedFiles: [{ ...dataFileEntry('kg-1', Buffer.from('yy'), [{ start: 4, end: 7 }]), checkpointId: 40 }],
  };

  it('CRC32 is the standard one', () => {
    expect(crc32Hex(Buffer.from('123456789'))).toBe('cbf43926');
    expect(crc32Hex(Buffer.alloc(0))).toBe('00000000');
  });

  it('folder names are zero-padded and parsed back strictly', () => {
    expect(checkpointDirName(7)).toBe('chk-0000000007');
    expect(parseCheckpointDirName('chk-0000000007')).toBe(7);
    expect(parseCheckpointDirName('chk-12345678901')).toBe(12345678901);
    expect(parseCheckpointDirName('chk-7')).toBeUndefined();
    expect(parseCheckpointDirName('chk-00000000007')).toBeUndefined();
    expect(parseCheckpointDirName('chk-0000000000')).toBeUndefined();
    expect(() => checkpointDirName(0)).toThrow(CheckpointError);
  });

  it('round-trips through the file format, with format version and checksum', () => {
    const bytes = serializeMetadata(m);
    const doc = JSON.parse(bytes.toString());
    expect(doc).toMatchObject({ format: 'floe-checkpoint-metadata', formatVersion: 1 });
    expect(doc.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parseMetadata(bytes, 'x')).toEqual(m);
    // Whitespace and key order do not matter, content does.
    const reordered = Buffer.from(JSON.stringify({ checkpoint: doc.checkpoint, ...doc }));
    expect(parseMetadata(reordered, 'x')).toEqual(m);
  });

  it('detects edits, truncation, other versions and a different id', () => {
    const doc = JSON.parse(serializeMetadata(m).toString());
    const tampered = Buffer.from(
      JSON.stringify({ ...doc, checkpoint: { ...doc.checkpoint, parallelism: 1 } }),
    );
    expect(() => parseMetadata(tampered, 'f')).toThrow(/checksum mismatch/);
    expect(() => parseMetadata(serializeMetadata(m).subarray(0, 50), 'f')).toThrow(/not valid JSON/);
    expect(() => parseMetadata(Buffer.from([0xff, 0xfe, 0x00]), 'f')).toThrow(/not valid JSON/);
    expect(() => parseMetadata(Buffer.from('{"a":1}'), 'f')).toThrow(/not a Floe checkpoint metadata file/);
    const body = { ...doc, formatVersion: 2 };
    delete body.checksum;
    const resealed = {
      ...body,
      checksum: `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`,
    };
    expect(() => parseMetadata(Buffer.from(JSON.stringify(resealed)), 'f')).toThrow(
      /format version 2 is not supported/,
    );
    expect(() => parseMetadata(serializeMetadata(m), 'f', 43)).toThrow(/describes checkpoint 42, not 43/);
    try {
      parseMetadata(tampered, 'chk-0000000042/_metadata', 42);
    } catch (err) {
      expect(err).toMatchObject({ code: 'CHECKPOINT_CORRUPT', problem: 'corrupt', checkpointId: 42 });
    }
  });

  it('validation lists every problem', () => {
    expect(metadataProblems(m)).toEqual([]);
    const bad = {
      ...m,
      id: -1,
      kind: 'snapshot',
      extra: 1,
      sourcePositions: { s: Number.NaN },
      files: [{ name: 'kg-0', size: -1, crc32: 'XYZ', keyGroups: [{ start: 5, end: 2 }] }],
    };
    const problems = metadataProblems(bad);
    for (const text of [
      'unknown field "extra"',
      'id must be',
      'kind must be',
      'sourcePositions',
      'size',
      'crc32',
    ]) {
      expect(problems.some((p) => p.includes(text))).toBe(true);
    }
    expect(problems.some((p) => p.includes('keyGroups[0]'))).toBe(true);
    expect(() => serializeMetadata(bad as unknown as CheckpointMetadata)).toThrow(CheckpointError);
  });
});
