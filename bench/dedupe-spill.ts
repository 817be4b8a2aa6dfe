/**
 * De-duplication ids in memory against ids moved to LevelDB
 * (cold-id-store.ts): memory per id, insert rate with the moves, and lookup
 * rates for fresh ids (fingerprint misses) and for re-deliveries of ids on
 * disk (each a LevelDB point read). One DedupeState, no job around it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { ColdIdStore } from '../src/jobs/trending/cold-id-store';
import { DedupeState } from '../src/jobs/trending/dedupe';
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { median } from './stats';

const MIN = 60_000;
const HOURS = 6;
const BASE_ID = 1_700_000_000_000_000_000n;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function usedBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Result {
  bytesPerId: number;
  insertPerSec: number;
  freshLookupPerSec: number;
  coldHitPerSec: number;
  onDisk: number;
}

/** `ids` tweets spread evenly over 6 h of event time, the watermark following; spill: memory horizon 1 h. */
async function runOnce(ids: number, spill: boolean): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-bench-spill-'));
  const store = spill ? await ColdIdStore.open(path.join(dir, 'db'), 128) : undefined;
  try {
    const step = (HOURS * 60 * MIN) / ids;
    const idOf = (i: number): string => String(BASE_ID + BigInt(i) * 7919n);
    const names = Array.from({ length: ids }, (_, i) => idOf(i));
    const before = usedBytes();
    const d = new DedupeState(
      24 * 60 * MIN,
      MIN,
      store && { store, memoryHorizonMs: 60 * MIN, spillUncaptured: true },
    );
    let t = performance.now();
    for (let i = 0; i < ids; i++) {
      const ts = i * step;
      d.checkAndAdd(names[i], ts);
      if (i % 1000 === 999) d.expire(ts - 5000);
      // Let moves to disk finish as they do between a job's batches.
      if (i % 10_000 === 9_999) await new Promise(setImmediate);
    }
    d.expire(HOURS * 60 * MIN - 5000);
    await store?.settled();
    const insertPerSec = ids / ((performance.now() - t) / 1000);
    const bytesPerId = (usedBytes() - before) / ids;
    const probes = Math.min(ids, 200_000);
    t = performance.now();
    for (let i = 0; i < probes; i++) d.checkAndAdd(idOf(ids + 1 + i), HOURS * 60 * MIN);
    const freshLookupPerSec = probes / ((performance.now() - t) / 1000);
    // Re-deliveries of the first hour's ids: on disk when spilling.
    const hits = Math.min(ids / HOURS, 50_000);
    t = performance.now();
    for (let i = 0; i < hits; i++)
      if (!d.checkAndAdd(names[i], i * step)) throw new Error('missed a duplicate');
    const coldHitPerSec = hits / ((performance.now() - t) / 1000);
    return { bytesPerId, insertPerSec, freshLookupPerSec, coldHitPerSec, onDisk: store?.size ?? 0 };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchModule: BenchModule = {
  name: 'dedupe-spill',
  title: 'De-duplication ids: in memory against moved to LevelDB (--dedupe-memory-horizon)',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const ids = ctx.quick ? 500_000 : 3_000_000;
    const bar = ctx.progress(2 * ctx.runs);
    const results: Record<'memory' | 'spill', Result[]> = { memory: [], spill: [] };
    for (let run = 1; run <= ctx.runs; run++) {
      for (const mode of ['memory', 'spill'] as const) {
        results[mode].push(await runOnce(ids, mode === 'spill'));
        bar.tick(`${mode}: run ${run}`);
      }
    }
    bar.stop();
    const metrics: Metric[] = [];
    const m = ids / 1_000_000;
    for (const mode of ['memory', 'spill'] as const) {
      const rs = results[mode];
      const label =
        mode === 'memory' ? `${m}M ids over 6 h, all in memory` : `${m}M ids over 6 h, memory horizon 1 h`;
      const add = (key: string, what: string, unit: string, f: (r: Result) => number): void => {
        const runs = rs.map(f);
        metrics.push({ key: `${mode}.${key}`, label: `${label}: ${what}`, unit, value: median(runs), runs });
      };
      add('bytes_per_id', 'memory per id (heap + array buffers)', 'B', (r) => r.bytesPerId);
      add('insert_per_sec', 'inserts (with moves to disk)', 'ids/s', (r) => r.insertPerSec);
      add('fresh_lookup_per_sec', 'lookups of fresh ids', 'ids/s', (r) => r.freshLookupPerSec);
      add('cold_hit_per_sec', 'lookups of re-delivered old ids', 'ids/s', (r) => r.coldHitPerSec);
      if (mode === 'spill') add('on_disk', 'ids on disk at the end', 'ids', (r) => r.onDisk);
    }
    return { metrics, details: { ids, hours: HOURS, runs: results } };
  },
};
