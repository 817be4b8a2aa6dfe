/**
 * Partitions added to a topic while an unbounded Kafka job runs are picked
 * up: the job reads them, checkpoints their offsets (seen through the
 * lag-monitoring group) and, restored with ?bounded=latest after a SIGTERM,
 * ends with counts equal to the exact computation over everything produced.
 *
 * Needs `npm run build` first (the tests run dist/src/cli/floe.js).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { referenceTrending } from '../support/reference-trending';
import { endOffsets, groupOffsets, startKafka, type KafkaService } from '../support/kafka';
import { FLOE_CLI, readOutput, runFloe } from '../support/run-floe';

let kafka: KafkaService;
let tmp: string;
const TOPIC = 'growing';

beforeAll(async () => {
  kafka = await startKafka();
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-kafka-grow-'));
}, 600_000);

afterAll(async () => {
  await kafka?.stop();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  if (kafka !== undefined) rmSync(kafka.stateDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the lag-monitoring group has every partition's end offset; the test's timeout bounds it. */
async function caughtUp(partitions: number): Promise<void> {
  for (;;) {
    try {
      const ends = await endOffsets(kafka.broker, TOPIC);
      const done = await groupOffsets(kafka.broker, `floe-${TOPIC}`, TOPIC);
      if (ends.size === partitions && [...ends].every(([p, end]) => done.get(p) === end)) return;
    } catch {
      // The group's coordinator can move or still be loading right after partitions change: ask again.
    }
    await sleep(200);
  }
}

test('partitions added while the job runs are read, checkpointed and counted exactly', async () => {
  const first = path.join(tmp, 'first.jsonl');
  const second = path.join(tmp, 'second.jsonl');
  // The second load starts after the first one's event time ends (30,000 at 200/s: 150 s), so none of it is late.
  for (const [file, seed, start] of [
    [first, '21', '2022-01-01T00:00:00Z'],
    [second, '22', '2022-01-01T00:03:00Z'],
  ]) {
    const g = await runFloe([
      'generate',
      '--count',
      '30000',
      '--out',
      file,
      '--seed',
      seed,
      '--events-per-second',
      '200',
      '--start',
      start,
    ]);
    if (g.code !== 0) throw new Error(g.stderr);
  }
  const to = `kafka://${kafka.broker}/${TOPIC}`;
  const p1 = await runFloe(['produce', first, '--to', to, '--partitions', '2']);
  if (p1.code !== 0) throw new Error(p1.stderr);
  const out = path.join(tmp, 'out');
  const ck = path.join(tmp, 'ck');
  const args = (source: string): string[] => [
    'run',
    'trending',
    '--source',
    source,
    '--sink',
    `file:${out}`,
    '--parallelism',
    '2',
    '--window',
    '10s',
    '--view',
    'off',
    '--checkpoint-dir',
    ck,
    '--checkpoint-interval',
    '300ms',
    '--restore',
    'latest',
  ];
  const child = spawn(process.execPath, [FLOE_CLI, ...args(to)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FLOE_LOG_FORMAT: 'json' },
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await caughtUp(2);

  const admin = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createPartitions({ topicPartitions: [{ topic: TOPIC, count: 4 }] });
  await admin.disconnect();
  // The job finds the new partitions (polling every 5 s) before more tweets arrive: tweets in a
  // partition found after the job's watermark has passed their time would be late, as in Flink.
  while ((log.match(/"split discovered"/g) ?? []).length < 2) await sleep(100);
  expect(log).toMatch(/"split":"kafka:growing\/2".*"msg":"split discovered"/);
  expect(log).toMatch(/"split":"kafka:growing\/3".*"msg":"split discovered"/);
  const p2 = await runFloe(['produce', second, '--to', to]);
  if (p2.code !== 0) throw new Error(p2.stderr);
  await caughtUp(4);
  expect(log.match(/"split discovered"/g)?.length).toBe(2);
  child.kill('SIGTERM');
  expect(await exit).toBe(0);

  // Open windows stayed in state; a bounded restore reads to the end and fires them.
  const r = await runFloe(args(`${to}?bounded=latest`), 300_000);
  expect({ code: r.code, log: r.code === 0 ? '' : r.stderr.slice(-3000) }).toEqual({ code: 0, log: '' });
  const lines = [...readFileSync(first, 'utf8').split('\n'), ...readFileSync(second, 'utf8').split('\n')];
  const iso = (ms: number): string => new Date(ms).toISOString();
  const want = referenceTrending(lines, { sizeMs: 10_000 })
    .counts.map((c) => `${iso(c.windowStart)} ${c.topic} ${c.count} ${c.distinctAuthors}`)
    .sort();
  const got = readOutput(out)
    .counts.map((c) => `${c.window_start} ${c.topic} ${c.count} ${c.distinct_authors}`)
    .sort();
  expect(got).toEqual(want);
}, 900_000);
