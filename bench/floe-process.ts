import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { JobTimeline } from '../src/runtime/job-runner';
import type { WindowLatencySample } from '../src/runtime/window-latency';
import type { BenchPaths } from './bench-module';

/** Helpers for modules that run Floe the way a user does: `floe ...` as its own process. */

export interface ProcessRun {
  /** Wall time of the whole process, start-up included. */
  seconds: number;
  /** CPU seconds (user + system) of the process, every thread of it; null off Linux. */
  cpuSeconds: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Variables the bench removes from its children's environment. Node 20 reads
 * and parses the whole `NODE_EXTRA_CA_CERTS` bundle at every process start,
 * before any script runs (nodejs/node#40524; later versions load it lazily):
 * ~55 ms of the start-up and ~0.15 s of CPU of a 1M-tweet job on the
 * bench machine, where the sandbox sets it for its proxy. No bench child makes
 * a TLS connection (every service it talks to is local and plaintext), and the
 * cost belongs to neither the job nor the yardstick: a constant per process
 * that counts for more in the shorter run.
 */
export const REMOVED_FROM_CHILD_ENV = ['NODE_EXTRA_CA_CERTS'] as const;

/** The environment of a bench child: this process's, without REMOVED_FROM_CHILD_ENV, plus `extra`. */
export function childEnv(
  extra: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REMOVED_FROM_CHILD_ENV) delete env[name];
  return { ...env, ...extra };
}

export function runNode(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
  onSpawn?: (pid: number) => void,
): Promise<ProcessRun> {
  const started = process.hrtime.bigint();
  // The CPU of finished children is this process's; runs are one at a time, so the difference is the child's.
  const cpuBefore = cpuSeconds('self', true);
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(env),
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpuAfter = cpuSeconds('self', true);
      const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      if (code !== 0)
        reject(
          new Error(
            `${path.basename(script)} ${args.join(' ')} exited ${code ?? signal}:\n${stderr.slice(-2000)}`,
          ),
        );
      else resolve({ seconds, cpuSeconds: cpu, stdout, stderr });
    });
  });
}

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/**
 * CPU seconds from /proc (Linux): of process `pid` (user + system), or with
 * `children`, of its finished and waited-for children (for 'self': every
 * process runNode ran, worker threads included). null where /proc is not there.
 */
export function cpuSeconds(pid: number | 'self', children = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = children ? Number(f[13]) + Number(f[14]) : Number(f[11]) + Number(f[12]);
    return ticks / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * A file of generated tweets in bench/data, generated once and kept: the
 * generator is deterministic, so a file named for its options is the same
 * input on every run. Written under a temporary name, so an interrupted
 * generation is never mistaken for a complete file.
 */
export async function ensureTweets(
  paths: BenchPaths,
  count: number,
  generatorArgs: Record<string, string> = {},
): Promise<string> {
  mkdirSync(paths.data, { recursive: true });
  const suffix = Object.entries(generatorArgs)
    .map(([k, v]) => `-${k}-${v.replace(/[^A-Za-z0-9.]/g, '')}`)
    .join('');
  const file = path.join(paths.data, `tweets-${count}${suffix}.jsonl`);
  if (existsSync(file)) return file;
  const partial = `${file}.partial`;
  const args = ['generate', '--count', String(count), '--out', partial, '--seed', '1'];
  for (const [k, v] of Object.entries(generatorArgs)) args.push(`--${k}`, v);
  await runNode(paths.cli, args);
  renameSync(partial, file);
  return file;
}

/** What the job logged when it finished (see runJob in src/runtime/job-runner.ts). */
interface FinishedLog {
  records: number;
  tweets: number;
  duplicates: number;
  output: Record<string, number>;
  peakRssMb: number;
  timeline?: JobTimeline;
}

export interface TrendingRun {
  parallelism: number;
  seconds: number;
  tweets: number;
  /** tweets / wall time of the whole process. */
  tweetsPerSecond: number;
  /** CPU seconds of the whole process (all threads); null off Linux. */
  cpuSeconds: number | null;
  /** maxRSS of the job's process (every worker thread included). */
  peakRssMb: number;
  /** Output records by kind, as the job counted them (counts = distinct (window, topic) pairs). */
  output: Record<string, number>;
  /** Per window: watermark passed its end -> results written (see src/runtime/window-latency.ts). */
  latency: WindowLatencySample[];
  /** Where the process's wall time went (ms since it started; see JobTimeline). */
  timeline?: JobTimeline;
}

/** Runs `floe run trending --source SOURCE --sink file:<tmp> --parallelism P ...args` with latency metrics on; `child` adds to its environment and Node's options, and is told its pid. */
export async function runTrending(
  paths: BenchPaths,
  source: string,
  parallelism: number,
  args: readonly string[] = [],
  child: { env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; onSpawn?: (pid: number) => void } = {},
): Promise<TrendingRun> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'floe-bench-'));
  const metrics = path.join(tmp, 'metrics.jsonl');
  try {
    const run = await runNode(
      paths.cli,
      [
        'run',
        'trending',
        '--source',
        source,
        '--sink',
        `file:${path.join(tmp, 'out')}`,
        '--parallelism',
        String(parallelism),
        '--view',
        'off',
        '--metrics-file',
        metrics,
        ...args,
      ],
      { FLOE_LOG_FORMAT: 'json', ...child.env },
      child.nodeArgs,
      child.onSpawn,
    );
    const finished = run.stderr
      .split('\n')
      .filter((l) => l.includes('"job finished"'))
      .map((l) => JSON.parse(l) as FinishedLog)[0];
    if (finished === undefined)
      throw new Error(`no "job finished" line from floe:\n${run.stderr.slice(-2000)}`);
    const latency = existsSync(metrics)
      ? readFileSync(metrics, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as WindowLatencySample)
      : [];
    return {
      parallelism,
      seconds: run.seconds,
      tweets: finished.tweets,
      tweetsPerSecond: Math.round(finished.tweets / run.seconds),
      cpuSeconds: run.cpuSeconds,
      peakRssMb: finished.peakRssMb,
      output: finished.output,
      latency,
      timeline: finished.timeline,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
