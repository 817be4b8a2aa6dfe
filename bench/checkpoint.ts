/**
 * Checkpoint and restore against state size: the trending job on the
 * generator source (unbounded, at a fixed rate) with a 24 h dedupe horizon,
 * so every tweet id stays in keyed state, checkpointing every second. When the
 * state holds the target number of keys it takes a savepoint (a full,
 * self-contained checkpoint), then stops; a second run restores the
 * savepoint. Reported per size:
 *  - incremental: the periodic checkpoint at that size (only new dedupe ids are written);
 *  - full: the savepoint (every key written);
 *  - pause: the longest time a worker's processing stopped for a barrier;
 *  - restore: loading and verifying the files, then rebuilding operator state.
 *
 * A suite module: `npm run bench -- --only checkpoint`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { median } from './stats';
import { childEnv } from './floe-process';

export interface CheckpointBenchOptions {
  /** State sizes to measure, in keyed entries (dedupe ids plus window entries). */
  keys: number[];
  /** Generator rate, tweets/s. */
  rate: number;
  parallelism: number;
}

interface CheckpointLine {
  checkpoint: number;
  durationMs: number;
  pauseMs: number;
  entries: number;
  bytes: number;
  reusedBytes: number;
}

export interface CheckpointBenchResult {
  targetKeys: number;
  incremental: CheckpointLine;
  full: CheckpointLine;
  /** Longest barrier pause over every checkpoint of the run, ms. */
  maxPauseMs: number;
  restore: { loadMs: number; stateMs: number; totalMs: number; bytes: number; dedupeIds: number };
}

type LogLine = Record<string, unknown> & { msg?: string };

/** A child's JSON log lines as they arrive, with a way to wait for one. */
class LogWatch {
  readonly lines: LogLine[] = [];
  private buffer = '';
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  exited = false;

  constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) !== -1) {
        const text = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as LogLine;
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !(w.pred(line) && (w.resolve(line), true)));
      }
    });
    child.on('exit', () => (this.exited = true));
  }

  waitFor(pred: (l: LogLine) => boolean, what: string): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ pred, resolve });
      this.child.on('exit', (code) => reject(new Error(`floe exited (${code}) before ${what}`)));
    });
  }

  exit(): Promise<number | null> {
    if (this.exited) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
}

function startJob(
  cli: string,
  ck: string,
  out: string,
  opts: CheckpointBenchOptions,
  extra: string[],
): LogWatch {
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      'trending',
      '--source',
      `generator?rate=${opts.rate}&seed=7`,
      '--sink',
      `file:${out}`,
      '--parallelism',
      String(opts.parallelism),
      '--window',
      '1m',
      '--dedupe-horizon',
      '24h',
      '--checkpoint-dir',
      ck,
      '--checkpoint-interval',
      '1s',
      '--view',
      'off',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv({ FLOE_LOG_FORMAT: 'json' }) },
  );
  return new LogWatch(child);
}

const asCheckpoint = (l: LogLine): CheckpointLine => ({
  checkpoint: Number(l.checkpoint),
  durationMs: Number(l.durationMs),
  pauseMs: Number(l.pauseMs),
  entries: Number(l.entries),
  bytes: Number(l.bytes),
  reusedBytes: Number(l.reusedBytes ?? 0),
});

/** One run per size in opts.keys; `onProgress` after each step. */
export async function measureCheckpoints(
  cli: string,
  opts: CheckpointBenchOptions,
  onProgress: (note: string) => void = () => undefined,
): Promise<CheckpointBenchResult[]> {
  const results: CheckpointBenchResult[] = [];
  for (const target of opts.keys) {
    const tmp = mkdtempSync(path.join(tmpdir(), 'floe-bench-ck-'));
    try {
      const ck = path.join(tmp, 'ck');
      const run = startJob(cli, ck, path.join(tmp, 'out'), opts, []);
      const periodic = await run.waitFor(
        (l) => l.msg === 'checkpoint completed' && Number(l.entries) >= target,
        `a checkpoint with ${target} keys`,
      );
      onProgress(
        `${target} keys: periodic checkpoint ${String(periodic.checkpoint)} done, taking a savepoint`,
      );
      run.child.kill('SIGUSR2');
      const savepoint = await run.waitFor((l) => l.msg === 'savepoint completed', 'the savepoint');
      run.child.kill('SIGTERM');
      if ((await run.exit()) !== 0) throw new Error('the job did not stop cleanly on SIGTERM');
      const maxPauseMs = Math.max(
        ...run.lines.filter((l) => typeof l.pauseMs === 'number').map((l) => Number(l.pauseMs)),
      );

      onProgress(`${target} keys: restoring savepoint ${String(savepoint.checkpoint)}`);
      const again = startJob(cli, ck, path.join(tmp, 'out'), opts, [
        '--restore',
        String(savepoint.checkpoint),
      ]);
      const loaded = await again.waitFor((l) => l.msg === 'restoring from checkpoint', 'the restore');
      const states: LogLine[] = [];
      for (let w = 0; w < opts.parallelism; w++)
        states.push(await again.waitFor((l) => l.msg === 'state restored' && l.worker === w, 'worker state'));
      again.child.kill('SIGTERM');
      await again.exit();
      const stateMs = Math.max(...states.map((s) => Number(s.ms)));
      results.push({
        targetKeys: target,
        incremental: asCheckpoint(periodic),
        full: asCheckpoint(savepoint),
        maxPauseMs,
        restore: {
          loadMs: Number(loaded.loadMs),
          stateMs,
          totalMs: Number(loaded.loadMs) + stateMs,
          bytes: Number(loaded.bytes),
          dedupeIds: states.reduce((n, s) => n + Number(s.dedupeIds), 0),
        },
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return results;
}

const RATE = 100_000;
const PARALLELISM = 2;

export const benchModule: BenchModule = {
  name: 'checkpoint',
  title: 'trending job: checkpoint and restore against state size (dedupe ids over 24 h)',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const sizes = ctx.quick ? [100_000] : [100_000, 1_000_000];
    const bar = ctx.progress(sizes.length * ctx.runs * 2);
    const byKeys = new Map<number, CheckpointBenchResult[]>();
    for (let run = 1; run <= ctx.runs; run++) {
      for (const keys of sizes) {
        const [r] = await measureCheckpoints(
          ctx.paths.cli,
          { keys: [keys], rate: RATE, parallelism: PARALLELISM },
          (note) => bar.tick(`run ${run}: ${note}`),
        );
        byKeys.set(keys, [...(byKeys.get(keys) ?? []), r]);
      }
    }
    bar.stop();
    const metrics: Metric[] = [];
    for (const [keys, rs] of byKeys) {
      const k = keys >= 1_000_000 ? `${keys / 1_000_000}M` : `${keys / 1000}k`;
      const add = (
        key: string,
        label: string,
        unit: string,
        f: (r: CheckpointBenchResult) => number,
      ): void => {
        const runs = rs.map(f);
        metrics.push({
          key: `keys.${keys}.${key}`,
          label: `${k} keys: ${label}`,
          unit,
          value: median(runs),
          runs,
        });
      };
      add('entries', 'keys in state at the savepoint', 'keys', (r) => r.full.entries);
      add('full_ms', 'full checkpoint (savepoint), trigger to commit', 'ms', (r) => r.full.durationMs);
      add('full_mb', 'full checkpoint size', 'MB', (r) => r.full.bytes / 2 ** 20);
      add('incremental_ms', 'periodic checkpoint, trigger to commit', 'ms', (r) => r.incremental.durationMs);
      add('incremental_mb', 'periodic checkpoint: written', 'MB', (r) => r.incremental.bytes / 2 ** 20);
      add(
        'reused_mb',
        'periodic checkpoint: referred to, not written',
        'MB',
        (r) => r.incremental.reusedBytes / 2 ** 20,
      );
      add('pause_ms', 'longest processing pause, any checkpoint', 'ms', (r) => r.maxPauseMs);
      add('restore_ms', 'restore (load and verify + rebuild state)', 'ms', (r) => r.restore.totalMs);
    }
    const note = 'state issue';
    return {
      metrics,
      targets: [
        {
          metric: 'keys.1000000.full_ms',
          label: '1M keys: checkpoint',
          op: '<=',
          value: 2000,
          unit: 'ms',
          note,
        },
        {
          metric: 'keys.1000000.pause_ms',
          label: '1M keys: processing paused',
          op: '<=',
          value: 100,
          unit: 'ms',
          note,
        },
        {
          metric: 'keys.1000000.restore_ms',
          label: '1M keys: restore',
          op: '<=',
          value: 5000,
          unit: 'ms',
          note,
        },
      ],
      details: { rate: RATE, parallelism: PARALLELISM, runs: Object.fromEntries(byKeys) },
    };
  },
};
