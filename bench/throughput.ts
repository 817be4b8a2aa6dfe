/**
 * Throughput benchmark: the trending job reading a file of generated tweets,
 * at each parallelism given, as a separate process (as a user runs it).
 * Prints tweets/s and peak RSS; writes JSON into bench/results/.
 *
 *   npm run bench -- [--count 1000000] [--parallelism 1,2] [--runs 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';

interface RunResult {
  parallelism: number;
  tweets: number;
  seconds: number;
  tweetsPerSecond: number;
  peakRssMb: number;
}

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'floe.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function ensureInput(count: number): string {
  const dir = path.join(root, 'bench', 'data');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `tweets-${count}.jsonl`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${count} tweets into ${file}\n`);
    const r = spawnSync(
      process.execPath,
      [cli, 'generate', '--count', String(count), '--out', file, '--seed', '1'],
      {
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) throw new Error('floe generate failed');
  }
  return file;
}

function runOnce(file: string, parallelism: number): Promise<RunResult> {
  const out = mkdtempSync(path.join(tmpdir(), 'floe-bench-'));
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      'trending',
      '--source',
      `file:${file}`,
      '--sink',
      `file:${out}`,
      '--parallelism',
      String(parallelism),
      '--view',
      'off',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOE_LOG_FORMAT: 'json' } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rmSync(out, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`floe exited ${code}:\n${stderr.slice(-2000)}`));
      const finished = stderr
        .split('\n')
        .filter((l) => l.includes('"job finished"'))
        .map((l) => JSON.parse(l) as { tweets: number; peakRssMb: number })[0];
      resolve({
        parallelism,
        tweets: finished.tweets,
        seconds,
        tweetsPerSecond: Math.round(finished.tweets / seconds),
        peakRssMb: finished.peakRssMb,
      });
    });
  });
}

async function main(): Promise<void> {
  const count = Number(arg('count', '1000000'));
  const parallelisms = arg('parallelism', '1,2').split(',').map(Number);
  const runs = Number(arg('runs', '3'));
  const file = ensureInput(count);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const results: {
    parallelism: number;
    runs: RunResult[];
    median: { tweetsPerSecond: number; peakRssMb: number; seconds: number };
  }[] = [];
  for (const p of parallelisms) {
    const rs: RunResult[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await runOnce(file, p);
      process.stderr.write(
        `parallelism ${p} run ${i + 1}/${runs}: ${r.tweetsPerSecond} tweets/s, ${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMb} MB\n`,
      );
      rs.push(r);
    }
    results.push({
      parallelism: p,
      runs: rs,
      median: {
        tweetsPerSecond: median(rs.map((r) => r.tweetsPerSecond)),
        peakRssMb: median(rs.map((r) => r.peakRssMb)),
        seconds: median(rs.map((r) => r.seconds)),
      },
    });
  }
  console.log(
    `\nFloe trending job, file source, ${count} generated tweets, ${machine.cores} x ${machine.cpu}, node ${machine.node}`,
  );
  console.log('| parallelism | tweets/s (median) | seconds | peak RSS MB |');
  console.log('|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.parallelism} | ${r.median.tweetsPerSecond.toLocaleString('en-US')} | ${r.median.seconds.toFixed(2)} | ${r.median.peakRssMb} |`,
    );
  }
  const resultsDir = path.join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(
    path.join(resultsDir, `throughput-${stamp}.json`),
    JSON.stringify({ machine, count, results }, null, 2) + '\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
