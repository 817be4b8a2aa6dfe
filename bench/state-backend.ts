/**
 * Keyed state backend benchmark (LevelDB): for each key count, ~40-byte keys
 * and ~60-byte values spread over 128 key groups by murmur3, measures
 *   - put (staging) and flush (one batch),
 *   - a full checkpoint: the synchronous part of snapshot() (what pauses
 *     processing), the time until snapshot() resolves, and writing every
 *     key group's blob (asynchronous; processing may continue), with the
 *     longest event-loop stall seen meanwhile,
 *   - restoring every blob into a fresh database,
 *   - point reads (get, getSync, getMany) on the loaded database.
 *
 *   npm run build && node dist/bench/state-backend.js [--keys 100000,1000000] [--concurrency 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { keyGroupOf } from '../src/runtime/key-groups';
import { LevelDbKeyedStateBackend } from '../src/state/leveldb-keyed-state-backend';

const MAX_PARALLELISM = 128;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

export interface Result {
  keys: number;
  putMs: number;
  flushMs: number;
  snapshotSyncMs: number;
  snapshotResolvedMs: number;
  blobsMs: number;
  checkpointMs: number;
  maxStallMs: number;
  blobBytes: number;
  keyGroups: number;
  restoreMs: number;
  restoredEntries: number;
  diskBytes: number;
  getPerSec: number;
  getSyncPerSec: number;
  getManyPerSec: number;
}

/** Deterministic xorshift32 so runs are comparable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function makeData(n: number): { keys: string[]; groups: Uint16Array; values: Buffer[] } {
  const next = rng(42);
  const keys = new Array<string>(n);
  const groups = new Uint16Array(n);
  const values = new Array<Buffer>(n);
  const slab = Buffer.allocUnsafe(n * 60);
  for (let i = 0; i < n; i++) {
    // e.g. "w:1700000000000:#topic-00001a2b:author-17" padded to 40 bytes
    const key =
      `w:${1_700_000_000_000 + (i % 60) * 10_000}:#topic-${i.toString(36).padStart(8, '0')}:`.padEnd(40, 'a');
    keys[i] = key;
    groups[i] = keyGroupOf(key, MAX_PARALLELISM);
    const v = slab.subarray(i * 60, i * 60 + 60);
    // A serialised aggregate: some structure, some entropy.
    v.writeUInt32BE(i, 0);
    for (let j = 4; j < 60; j += 4) v.writeUInt32BE(j < 32 ? next() : j, j);
    values[i] = v;
  }
  return { keys, groups, values };
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

export async function runOnce(n: number, concurrency: number): Promise<Result> {
  const root = mkdtempSync(path.join(tmpdir(), 'floe-state-bench-'));
  try {
    const { keys, groups, values } = makeData(n);
    const source = await LevelDbKeyedStateBackend.open(path.join(root, 'worker-0'));

    let t = performance.now();
    for (let i = 0; i < n; i++) source.put(groups[i], 'window', keys[i], values[i]);
    const putMs = performance.now() - t;
    t = performance.now();
    await source.flush();
    const flushMs = performance.now() - t;

    // Checkpoint.
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    const t0 = performance.now();
    const pending = source.snapshot();
    const snapshotSyncMs = performance.now() - t0;
    const snap = await pending;
    const snapshotResolvedMs = performance.now() - t0;
    const blobs = new Map<number, Buffer>();
    let blobBytes = 0;
    const t1 = performance.now();
    await pool(snap.dirtyKeyGroups, concurrency, async (kg) => {
      const blob = await snap.writeKeyGroup(kg);
      blobs.set(kg, blob);
      blobBytes += blob.length;
    });
    const blobsMs = performance.now() - t1;
    const checkpointMs = performance.now() - t0;
    stalls.disable();
    const maxStallMs = stalls.max / 1e6;
    snap.complete();
    await snap.release();

    // Point reads on the loaded database (cold: not staged).
    const pick = rng(7);
    const sample = (count: number) => Array.from({ length: count }, () => pick() % n);
    let idx = sample(5_000);
    t = performance.now();
    for (const i of idx) await source.get(groups[i], 'window', keys[i]);
    const getPerSec = idx.length / ((performance.now() - t) / 1000);
    idx = sample(100_000);
    t = performance.now();
    for (const i of idx) source.getSync(groups[i], 'window', keys[i]);
    const getSyncPerSec = idx.length / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let s = 0; s < idx.length; s += 1000) {
      await source.getMany(
        idx.slice(s, s + 1000).map((i) => ({ keyGroup: groups[i], state: 'window', key: keys[i] })),
      );
    }
    const getManyPerSec = idx.length / ((performance.now() - t) / 1000);
    const diskBytes = await source.diskBytes();
    await source.close();

    // Restore into a fresh database.
    const target = await LevelDbKeyedStateBackend.open(path.join(root, 'worker-1'));
    t = performance.now();
    const restored = await Promise.all([...blobs].map(([kg, blob]) => target.restoreKeyGroup(blob, kg)));
    const restoreMs = performance.now() - t;
    const restoredEntries = restored.reduce((sum, r) => sum + r.entries, 0);
    for (const i of sample(1000)) {
      const got = target.getSync(groups[i], 'window', keys[i]);
      if (got === undefined || !got.equals(values[i])) throw new Error(`restore lost ${keys[i]}`);
    }
    await target.close();
    if (restoredEntries !== n) throw new Error(`restored ${restoredEntries} entries, expected ${n}`);

    return {
      keys: n,
      putMs,
      flushMs,
      snapshotSyncMs,
      snapshotResolvedMs,
      blobsMs,
      checkpointMs,
      maxStallMs,
      blobBytes,
      keyGroups: blobs.size,
      restoreMs,
      restoredEntries,
      diskBytes,
      getPerSec,
      getSyncPerSec,
      getManyPerSec,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0)) + ' ms';
const mb = (x: number) => (x / 1e6).toFixed(1) + ' MB';
const rate = (x: number) => Math.round(x).toLocaleString('en-US') + '/s';

async function main(): Promise<void> {
  const counts = arg('keys', '100000,1000000').split(',').map(Number);
  const concurrency = Number(arg('concurrency', '4'));
  const results: Result[] = [];
  for (const n of counts) {
    process.stderr.write(`running ${n} keys...\n`);
    results.push(await runOnce(n, concurrency));
  }
  const rows: [string, (r: Result) => string][] = [
    ['put (staging, sync)', (r) => ms(r.putMs)],
    ['flush (one batch)', (r) => ms(r.flushMs)],
    ['put + flush', (r) => ms(r.putMs + r.flushMs)],
    ['snapshot(): sync part (pause)', (r) => ms(r.snapshotSyncMs)],
    ['snapshot(): until resolved', (r) => ms(r.snapshotResolvedMs)],
    [`write all blobs (async, ${concurrency} at once)`, (r) => ms(r.blobsMs)],
    ['checkpoint total', (r) => ms(r.checkpointMs)],
    ['longest event-loop stall in it', (r) => ms(r.maxStallMs)],
    ['key groups / blob bytes', (r) => `${r.keyGroups} / ${mb(r.blobBytes)}`],
    ['restore all blobs (fresh db)', (r) => ms(r.restoreMs)],
    ['db files on disk', (r) => mb(r.diskBytes)],
    ['get (awaited, cold)', (r) => rate(r.getPerSec)],
    ['getSync (cold)', (r) => rate(r.getSyncPerSec)],
    ['getMany (1000 per call)', (r) => rate(r.getManyPerSec)],
  ];
  const head = ['', ...results.map((r) => `${r.keys.toLocaleString('en-US')} keys`)];
  const table = [head, ...rows.map(([label, f]) => [label, ...results.map(f)])];
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(`state backend (LevelDB), ${cpus().length} CPUs, node ${process.version}`);
  console.log(line(table[0]));
  for (const row of table.slice(1)) console.log(line(row));
  console.log('targets: 1M-key checkpoint < 2000 ms with processing paused < 100 ms; restore < 5000 ms');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
