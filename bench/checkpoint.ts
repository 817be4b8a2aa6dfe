/**
 * Checkpoint and restore against state size: the trending job on the
 * generator source (unbounded, at a fixed rate) with a 24 h dedupe horizon,
 * so every tweet id stays in keyed state, checkpointing every 2 s. When the
 * state holds the target number of keys it takes a savepoint (a full,
 * self-contained checkpoint), then stops; a second run restores the
 * savepoint. Reported per size:
 *  - incremental: the periodic checkpoint at that size (only new dedupe ids are written);
 *  - full: the savepoint (every key written);
 *  - pause: the longest time a worker's processing stopped for a barrier;
 *  - restore: loading and verifying the files, then rebuilding operator state.
 *
 *   node dist/bench/checkpoint.js [--keys 100000,1000000] [--rate 100000] [--parallelism 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'floe.js');

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

function startJob(ck: string, out: string, opts: CheckpointBenchOptions, extra: string[]): LogWatch {
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
      '2s',
      '--view',
      'off',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOE_LOG_FORMAT: 'json' } },
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

export async function measureCheckpoints(
  opts: CheckpointBenchOptions,
  onProgress: (note: string) => void = () => undefined,
): Promise<CheckpointBenchResult[]> {
  const results: CheckpointBenchResult[] = [];
  for (const target of opts.keys) {
    const tmp = mkdtempSync(path.join(tmpdir(), 'floe-bench-ck-'));
    try {
      const ck = path.join(tmp, 'ck');
      const run = startJob(ck, path.join(tmp, 'out'), opts, []);
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
      const again = startJob(ck, path.join(tmp, 'out'), opts, ['--restore', String(savepoint.checkpoint)]);
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

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

async function main(): Promise<void> {
  const opts: CheckpointBenchOptions = {
    keys: arg('keys', '100000,1000000').split(',').map(Number),
    rate: Number(arg('rate', '100000')),
    parallelism: Number(arg('parallelism', '2')),
  };
  const results = await measureCheckpoints(opts, (note) => process.stderr.write(note + '\n'));
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  console.log(
    `\nCheckpoints of the trending job, parallelism ${opts.parallelism}, ${machine.cores} x ${machine.cpu}`,
  );
  console.log(
    '| keys | incremental: ms / MB written / MB reused | full (savepoint): ms / MB | max pause ms | restore ms (load + state) |',
  );
  console.log('|---:|---|---|---:|---|');
  const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
  for (const r of results) {
    console.log(
      `| ${r.full.entries.toLocaleString('en-US')} | ${r.incremental.durationMs} / ${mb(r.incremental.bytes)} / ${mb(r.incremental.reusedBytes)} | ${r.full.durationMs} / ${mb(r.full.bytes)} | ${r.maxPauseMs.toFixed(1)} | ${r.restore.totalMs} (${r.restore.loadMs} + ${r.restore.stateMs}) |`,
    );
  }
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(
    path.join(dir, `checkpoint-${stamp}.json`),
    JSON.stringify({ machine, options: opts, results }, null, 2) + '\n',
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
