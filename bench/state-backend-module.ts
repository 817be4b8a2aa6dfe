/**
 * The LevelDB state backend's checkpoint and restore against state size
 * (bench/state-backend.ts, unchanged), as a suite module. The backend is
 * not under the job's operators, so the state issue's targets are checked
 * by the job-level module (bench/checkpoint.ts), not here.
 */
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { median } from './stats';
import { runOnce, type Result } from './state-backend';

const CONCURRENCY = 4;

export const benchModule: BenchModule = {
  name: 'state-backend',
  title: 'LevelDB state backend: checkpoint and restore against state size',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const keyCounts = ctx.quick ? [100_000] : [100_000, 1_000_000];
    const bar = ctx.progress(keyCounts.length * ctx.runs);
    const results = new Map<number, Result[]>();
    for (const keys of keyCounts) {
      const rs: Result[] = [];
      for (let run = 1; run <= ctx.runs; run++) {
        rs.push(await runOnce(keys, CONCURRENCY));
        bar.tick(`${keys} keys: run ${run}`);
      }
      results.set(keys, rs);
    }
    bar.stop();
    const metrics: Metric[] = [];
    for (const [keys, rs] of results) {
      const k = keys >= 1_000_000 ? `${keys / 1_000_000}M` : `${keys / 1000}k`;
      const add = (key: string, label: string, f: (r: Result) => number): void => {
        const runs = rs.map(f);
        metrics.push({
          key: `keys.${keys}.${key}`,
          label: `${k} keys: ${label}`,
          unit: 'ms',
          value: median(runs),
          runs,
        });
      };
      add('checkpoint_ms', 'checkpoint (snapshot + all key-group blobs)', (r) => r.checkpointMs);
      add('pause_ms', 'processing paused (sync part of snapshot)', (r) => r.snapshotSyncMs);
      add('restore_ms', 'restore all blobs into a fresh db', (r) => r.restoreMs);
    }
    return {
      metrics,
      details: { concurrency: CONCURRENCY, runs: Object.fromEntries(results) },
    };
  },
};
