/**
 * Kafka throughput benchmark: generated tweets preloaded into a 4-partition
 * topic (with `floe produce`), then the trending job reading them with
 * kafka://...?bounded=latest at each parallelism, as a separate process (as a
 * user runs it), end to end (start-up included, like bench/throughput.ts).
 * Both Kafka clients of the source (`?client=native`, the default, and
 * `?client=kafkajs`), alternating on the same topic. For comparison, the same
 * input from the file source, and the Kafka source alone (all partitions read
 * through the connector in one thread, no job): the client's ceiling. Wall
 * time is noisy on a shared 2-core machine, so each run also records the CPU
 * seconds of floe and of the broker's JVM, and the load averages go into the
 * details.
 *
 * A suite module (`npm run bench -- --only kafka`): it starts its own broker
 * (scripts/services.js, free ports) and stops it at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseUri } from '../src/connectors/contract';
import { kafkaSource } from '../src/connectors/kafka/kafka-source';
import type { BenchContext, BenchModule, Metric, ModuleOutcome } from './bench-module';
import { cpuSeconds, ensureTweets, runTrending, type TrendingRun } from './floe-process';
import { median } from './stats';

interface ServicesModule {
  startService(
    name: string,
    options: { port?: number; stateDir?: string; detached?: boolean; timeoutMs?: number },
  ): Promise<{ info: { broker: string; javaPid?: number }; stop(): Promise<void> }>;
}

/** The Kafka clients the source can fetch with (`?client=`), default first. */
const CLIENTS = ['native', 'kafkajs'] as const;
type Client = (typeof CLIENTS)[number];

const PARALLELISMS = [1, 2];

/** Metric prefix of a job from Kafka: `kafka` for the default client (the target's metric), `kafka-<client>` otherwise. */
const jobKey = (client: Client): string => (client === CLIENTS[0] ? 'kafka' : `kafka-${client}`);
const clientOf = (name: string): Client => (name === 'kafka' ? CLIENTS[0] : (name.slice(6) as Client));

/** The Kafka source alone, in this thread: every split read through the connector to its end, lines counted. */
async function readSourceOnly(
  uri: string,
): Promise<{ records: number; seconds: number; cpuSeconds: number }> {
  const parsed = parseUri(uri);
  const splits = await kafkaSource.planSplits(parsed, { parallelism: 1, now: () => Date.now() });
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
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
  const used = process.cpuUsage(cpu);
  return {
    records,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

interface JobRun extends TrendingRun {
  /** CPU seconds of the broker's JVM during the run (kafka sources only). */
  brokerCpuSeconds: number | null;
}

async function measuredRun(
  paths: BenchContext['paths'],
  source: string,
  parallelism: number,
  brokerPid: number | undefined,
): Promise<JobRun> {
  const brokerBefore = brokerPid === undefined ? null : cpuSeconds(brokerPid);
  const r = await runTrending(paths, source, parallelism);
  const brokerAfter = brokerPid === undefined ? null : cpuSeconds(brokerPid);
  return {
    ...r,
    cpuSeconds: r.cpuSeconds === null ? null : round2(r.cpuSeconds),
    brokerCpuSeconds:
      brokerBefore === null || brokerAfter === null || !source.startsWith('kafka')
        ? null
        : round2(brokerAfter - brokerBefore),
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

const loadAverage = (): number[] => loadavg().map(round2);

export const benchModule: BenchModule = {
  name: 'kafka',
  title: 'trending job from Kafka (real broker, 4 partitions, bounded=latest) vs. the file source',
  async run(ctx: BenchContext): Promise<ModuleOutcome> {
    const count = ctx.quick ? 100_000 : 1_000_000;
    const cli = ctx.paths.cli;
    const bar = ctx.progress(3 + ctx.runs * (CLIENTS.length + (CLIENTS.length + 1) * PARALLELISMS.length));
    const file = await ensureTweets(ctx.paths, count);
    const services = require(path.join(ctx.paths.root, 'scripts', 'services.js')) as ServicesModule;
    const stateDir = mkdtempSync(path.join(tmpdir(), 'floe-bench-broker-'));
    const broker = await services.startService('kafka', {
      port: 0,
      stateDir,
      detached: false,
      timeoutMs: 300_000,
    });
    bar.tick(`broker at ${broker.info.broker}`);
    try {
      const topic = `bench-tweets-${count}-${Date.now()}`;
      const produceStarted = process.hrtime.bigint();
      const p = spawnSync(
        process.execPath,
        [cli, 'produce', file, '--to', `kafka://${broker.info.broker}/${topic}`, '--partitions', '4'],
        { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
      );
      if (p.status !== 0) throw new Error(`floe produce failed: ${p.stderr.slice(-2000)}`);
      const produceSeconds = Number(process.hrtime.bigint() - produceStarted) / 1e9;
      bar.tick(`produced ${count} tweets`);
      const kafkaUri = (client: Client): string =>
        `kafka://${broker.info.broker}/${topic}?bounded=latest&client=${client}`;
      const brokerPid = broker.info.javaPid;
      const sourceOnly = new Map<Client, { rate: number[]; cpu: number[] }>(
        CLIENTS.map((c) => [c, { rate: [], cpu: [] }]),
      );
      const jobs = new Map<string, JobRun[]>();
      const loads: number[][] = [loadAverage()];
      // Clients alternate within each run, on the same preloaded topic, so a change of load hits both alike.
      for (let run = 1; run <= ctx.runs; run++) {
        for (const client of CLIENTS) {
          const r = await readSourceOnly(kafkaUri(client));
          sourceOnly.get(client)!.rate.push(r.records / r.seconds);
          sourceOnly.get(client)!.cpu.push(round2(r.cpuSeconds));
          bar.tick(`run ${run}: kafka source alone (${client})`);
        }
        for (const par of PARALLELISMS) {
          const sources: [string, string][] = [
            ...CLIENTS.map((c): [string, string] => [jobKey(c), kafkaUri(c)]),
            ['file', `file:${file}`],
          ];
          for (const [name, source] of sources) {
            const result = await measuredRun(ctx.paths, source, par, brokerPid);
            const key = `${name}.p${par}`;
            jobs.set(key, [...(jobs.get(key) ?? []), result]);
            bar.tick(`run ${run}: ${key}`);
          }
        }
        loads.push(loadAverage());
      }
      bar.stop();
      const metrics: Metric[] = [
        {
          key: 'produce.tweets_per_s',
          label: 'floe produce (4 partitions)',
          unit: 'tweets/s',
          value: Math.round(count / produceSeconds),
          runs: [Math.round(count / produceSeconds)],
        },
      ];
      for (const client of CLIENTS) {
        const { rate, cpu } = sourceOnly.get(client)!;
        const suffix = client === CLIENTS[0] ? '' : `.${client}`;
        metrics.push(
          {
            key: `source_alone${suffix}.records_per_s`,
            label: `Kafka source alone (${client} client), one thread, no job`,
            unit: 'records/s',
            value: Math.round(median(rate)),
            runs: rate.map(Math.round),
          },
          {
            key: `source_alone${suffix}.cpu_s`,
            label: `Kafka source alone (${client} client), CPU`,
            unit: 's',
            value: median(cpu),
            runs: cpu,
          },
        );
      }
      for (const [key, rs] of jobs) {
        const name = key.split('.')[0];
        const what = name === 'file' ? 'file source' : `Kafka source (${clientOf(name)} client)`;
        const runs = rs.map((r) => r.tweetsPerSecond);
        metrics.push({
          key: `${key}.tweets_per_s`,
          label: `${what}, job p=${rs[0].parallelism}`,
          unit: 'tweets/s',
          value: median(runs),
          runs,
        });
        const cpu = rs.map((r) => r.cpuSeconds).filter((x): x is number => x !== null);
        if (cpu.length > 0)
          metrics.push({
            key: `${key}.cpu_s`,
            label: `${what}, job p=${rs[0].parallelism}, CPU of floe`,
            unit: 's',
            value: median(cpu),
            runs: cpu,
          });
        const brokerCpu = rs.map((r) => r.brokerCpuSeconds).filter((x): x is number => x !== null);
        if (brokerCpu.length > 0)
          metrics.push({
            key: `${key}.broker_cpu_s`,
            label: `${what}, job p=${rs[0].parallelism}, CPU of the broker`,
            unit: 's',
            value: median(brokerCpu),
            runs: brokerCpu,
          });
      }
      return {
        metrics,
        targets: [
          {
            metric: 'kafka.p2.tweets_per_s',
            label: 'Kafka end to end, p=2',
            op: '>=',
            value: 150_000,
            unit: 'tweets/s',
            note: 'Kafka issue; above the record firehose peak of 143,199/s',
          },
        ],
        series: CLIENTS.map((client) => ({
          name: `job from Kafka (${client})`,
          points: PARALLELISMS.map((par) => ({
            x: par,
            y: median((jobs.get(`${jobKey(client)}.p${par}`) ?? []).map((r) => r.tweetsPerSecond)),
          })),
        })),
        details: { count, produceSeconds, loadAverages: loads, jobs: Object.fromEntries(jobs) },
      };
    } finally {
      await broker.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};
