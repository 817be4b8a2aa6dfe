/**
 * Kafka faults against a real broker: the broker is stopped and started
 * again (same port, same data) while the trending job reads from it and
 * commits to it, and the job must reconnect and finish with every count
 * once (nothing lost, nothing doubled); a broker that is not there at start
 * is a clear error after bounded retries and a non-zero exit.
 *
 * Needs `npm run build` first (the tests run dist/src/cli/floe.js).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { referenceTrending } from '../support/reference-trending';
import { readCommitted, startKafka, type KafkaService } from '../support/kafka';
import { FLOE_CLI, runFloe } from '../support/run-floe';

let kafka: KafkaService;
let tmp: string;
let referenceRows: string[];
const TWEETS = 'tweets';

const iso = (ms: number): string => new Date(ms).toISOString();

beforeAll(async () => {
  kafka = await startKafka();
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-kafka-restart-'));
  const input = path.join(tmp, 'tweets.jsonl');
  const g = await runFloe([
    'generate',
    '--count',
    '300000',
    '--out',
    input,
    '--seed',
    '5',
    '--events-per-second',
    '500',
  ]);
  if (g.code !== 0) throw new Error(g.stderr);
  const p = await runFloe([
    'produce',
    input,
    '--to',
    `kafka://${kafka.broker}/${TWEETS}`,
    '--partitions',
    '4',
  ]);
  if (p.code !== 0) throw new Error(p.stderr);
  const ref = referenceTrending(readFileSync(input, 'utf8').split('\n'), { sizeMs: 10_000 });
  referenceRows = ref.counts
    .map((c) => `${iso(c.windowStart)} ${c.topic} ${c.count} ${c.distinctAuthors}`)
    .sort();
}, 600_000);

afterAll(async () => {
  await kafka?.stop();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  if (kafka !== undefined) rmSync(kafka.stateDir, { recursive: true, force: true });
});

test('the broker restarts while the job reads and commits: it reconnects, and every count is there once', async () => {
  const results = 'results-restart';
  const child = spawn(
    process.execPath,
    [
      FLOE_CLI,
      'run',
      'trending',
      '--source',
      `kafka://${kafka.broker}/${TWEETS}?bounded=latest`,
      '--sink',
      `kafka://${kafka.broker}/${results}?partitions=2&staging=${path.join(tmp, 'staging')}&transactional-id=floe-test-restart`,
      '--parallelism',
      '2',
      '--window',
      '10s',
      '--view',
      'off',
      '--checkpoint-dir',
      path.join(tmp, 'ck'),
      '--checkpoint-interval',
      '300ms',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOE_LOG_FORMAT: 'json' } },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Once the job has read and committed something (a completed checkpoint), take the broker away.
  // Polls the child's log; not a timing assertion: the test's own timeout bounds it.
  while (!log.includes('"checkpoint completed"')) await new Promise((r) => setTimeout(r, 20));
  expect(log).not.toContain('"job finished"');
  const port = kafka.port;
  await kafka.stop();
  const finishedWhileDown = log.includes('"job finished"');
  kafka = await startKafka(port, kafka.stateDir);
  const code = await exit;
  expect({ code, log: code === 0 ? '' : log.slice(-3000) }).toEqual({ code: 0, log: '' });
  // The job was still running when the broker went away: the outage happened mid-run.
  expect(finishedWhileDown).toBe(false);

  const rows = (await readCommitted(kafka.broker, results))
    .filter((r) => r.headers.kind === 'counts')
    .map((r) => {
      const c = JSON.parse(r.value) as {
        window_start: string;
        topic: string;
        count: number;
        distinct_authors: number;
      };
      return `${c.window_start} ${c.topic} ${c.count} ${c.distinct_authors}`;
    })
    .sort();
  expect(rows.length).toBe(referenceRows.length);
  expect(rows).toEqual(referenceRows);
}, 900_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

test('a broker unreachable at start: a clear error after bounded retries, exit code 1', async () => {
  const port = await freePort();
  const r = await runFloe(
    [
      'run',
      'trending',
      '--source',
      `kafka://127.0.0.1:${port}/${TWEETS}?connect-attempts=2`,
      '--sink',
      `file:${path.join(tmp, 'unreachable')}`,
      '--view',
      'off',
    ],
    120_000,
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    new RegExp(`SOURCE_IO: cannot reach Kafka at 127\\.0\\.0\\.1:${port} after 2 attempts`),
  );
}, 180_000);
