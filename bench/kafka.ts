/**
 * Kafka throughput benchmark: generated tweets preloaded into a 4-partition
 * topic (with `floe produce`), then the trending job reading them with
 * kafka://...?bounded=latest at each parallelism, as a separate process (as a
 * user runs it), end to end (start-up included, like bench/throughput.ts).
 * For comparison, the same input from the file source, and the Kafka source
 * alone (all partitions read through the connector in one thread, no job):
 * the client's ceiling.
 *
 *   node dist/bench/kafka.js [--count 1000000] [--parallelism 1,2] [--runs 3] [--broker HOST:PORT]
 *
 * Without --broker it starts its own (scripts/services.js, free ports) and
 * stops it at the end. Prints a table; writes JSON into bench/results/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { parseUri } from '../src/connectors/contract';
import { kafkaSource } from '../src/connectors/kafka/kafka-source';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'floe.js');

interface ServicesModule {
  startService(
    name: string,
    options: { port?: number; stateDir?: string; detached?: boolean; timeoutMs?: number },
  ): Promise<{ info: { broker: string }; stop(): Promise<void> }>;
}

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

interface RunResult {
  source: string;
  parallelism: number;
  tweets: number;
  seconds: number;
  tweetsPerSecond: number;
  peakRssMb: number;
}

function runJob(source: string, parallelism: number): Promise<RunResult> {
  const out = mkdtempSync(path.join(tmpdir(), 'floe-bench-kafka-'));
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      'trending',
      '--source',
      source,
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
        source: source.startsWith('kafka') ? 'kafka' : 'file',
        parallelism,
        tweets: finished.tweets,
        seconds,
        tweetsPerSecond: Math.round(finished.tweets / seconds),
        peakRssMb: finished.peakRssMb,
      });
    });
  });
}

/** The Kafka source alone, in this thread: every split read through the connector to its end, lines counted. */
async function readSourceOnly(uri: string): Promise<{ records: number; seconds: number }> {
  const parsed = parseUri(uri);
  const splits = await kafkaSource.planSplits(parsed, { parallelism: 1, now: () => Date.now() });
  const started = process.hrtime.bigint();
  const readers = splits.map((s) =>
    kafkaSource.createReader(s, { maxRecordBytes: 16 * 1024 * 1024, now: () => Date.now() }),
  );
  let records = 0;
  let open = readers;
  while (open.length > 0) {
    let progressed = false;
    const still = [];
    for (const r of open) {
      const res = await r.poll(1000);
      if (res === 'end') {
        await r.close();
        continue;
      }
      still.push(r);
      if (res !== 'idle') {
        records += res.lines.length;
        progressed = true;
      }
    }
    open = still;
    if (!progressed) await new Promise((r) => setTimeout(r, 2));
  }
  return { records, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function main(): Promise<void> {
  const count = Number(arg('count', '1000000'));
  const parallelisms = arg('parallelism', '1,2').split(',').map(Number);
  const runs = Number(arg('runs', '3'));
  const file = ensureInput(count);
  let broker = arg('broker', '');
  let stopBroker: (() => Promise<void>) | undefined;
  if (broker === '') {
    const services = require(path.join(root, 'scripts', 'services.js')) as ServicesModule;
    const stateDir = mkdtempSync(path.join(tmpdir(), 'floe-bench-broker-'));
    const h = await services.startService('kafka', {
      port: 0,
      stateDir,
      detached: false,
      timeoutMs: 300_000,
    });
    broker = h.info.broker;
    stopBroker = async () => {
      await h.stop();
      rmSync(stateDir, { recursive: true, force: true });
    };
    process.stderr.write(`started kafka at ${broker}\n`);
  }
  try {
    const topic = `bench-tweets-${count}-${Date.now()}`;
    const produceStarted = process.hrtime.bigint();
    const p = spawnSync(
      process.execPath,
      [cli, 'produce', file, '--to', `kafka://${broker}/${topic}`, '--partitions', '4'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      },
    );
    if (p.status !== 0) throw new Error('floe produce failed');
    const produceSeconds = Number(process.hrtime.bigint() - produceStarted) / 1e9;
    process.stderr.write(p.stdout);
    const kafkaUri = `kafka://${broker}/${topic}?bounded=latest`;

    const sourceOnly: { records: number; seconds: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await readSourceOnly(kafkaUri);
      process.stderr.write(
        `kafka source alone run ${i + 1}/${runs}: ${Math.round(r.records / r.seconds)} records/s (${r.records} in ${r.seconds.toFixed(2)} s)\n`,
      );
      sourceOnly.push(r);
    }

    const results: { source: string; parallelism: number; runs: RunResult[]; median: RunResult }[] = [];
    for (const source of [kafkaUri, `file:${file}`]) {
      for (const par of parallelisms) {
        const rs: RunResult[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await runJob(source, par);
          process.stderr.write(
            `${r.source} parallelism ${par} run ${i + 1}/${runs}: ${r.tweetsPerSecond} tweets/s, ${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMb} MB (load ${loadavg()[0].toFixed(1)})\n`,
          );
          rs.push(r);
        }
        results.push({
          source: rs[0].source,
          parallelism: par,
          runs: rs,
          median: {
            source: rs[0].source,
            parallelism: par,
            tweets: rs[0].tweets,
            seconds: median(rs.map((r) => r.seconds)),
            tweetsPerSecond: median(rs.map((r) => r.tweetsPerSecond)),
            peakRssMb: median(rs.map((r) => r.peakRssMb)),
          },
        });
      }
    }
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverage1m: loadavg()[0],
    };
    const sourceRate = median(sourceOnly.map((r) => r.records / r.seconds));
    console.log(
      `\nFloe trending job, ${count} generated tweets, ${machine.cores} x ${machine.cpu}, node ${machine.node}, load ${machine.loadAverage1m.toFixed(1)}`,
    );
    console.log(
      `produce: ${Math.round(count / produceSeconds).toLocaleString('en-US')} tweets/s (${produceSeconds.toFixed(1)} s, 4 partitions)`,
    );
    console.log(
      `kafka source alone (one thread, no job): ${Math.round(sourceRate).toLocaleString('en-US')} records/s (median)`,
    );
    console.log('| source | parallelism | tweets/s (median) | seconds | peak RSS MB |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(
        `| ${r.source} | ${r.parallelism} | ${r.median.tweetsPerSecond.toLocaleString('en-US')} | ${r.median.seconds.toFixed(2)} | ${r.median.peakRssMb} |`,
      );
    }
    const resultsDir = path.join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(
      path.join(resultsDir, `kafka-${stamp}.json`),
      JSON.stringify({ machine, count, produceSeconds, sourceOnly, results }, null, 2) + '\n',
    );
  } finally {
    await stopBroker?.();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
