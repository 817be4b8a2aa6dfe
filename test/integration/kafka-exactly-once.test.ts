/**
 * Kafka in and out, exactly once, against a real broker (Apache Kafka,
 * started by the test): tweets loaded with `floe produce` into a 4-partition
 * topic; the trending job reads them at parallelism 2 with checkpoints and
 * writes counts and trends to a results topic; it is SIGKILLed again and
 * again (at random moments and at the narrow moments around the sink's
 * commit) and restored each time. A read_committed consumer must then find
 * every count exactly once, equal to an independent exact computation.
 *
 * Needs `npm run build` first (the tests run dist/src/cli/floe.js).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { referenceTrending } from '../support/reference-trending';
import { endOffsets, groupOffsets, readCommitted, startKafka, type KafkaService } from '../support/kafka';
import { FLOE_CLI, runFloe } from '../support/run-floe';
import { mulberry32 } from '../support/prng';

let kafka: KafkaService;
let tmp: string;
let referenceRows: string[];
const TWEETS = 'tweets';

const iso = (ms: number): string => new Date(ms).toISOString();

interface Started {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  kill: (signal: NodeJS.Signals) => boolean;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [FLOE_CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FLOE_LOG_FORMAT: 'json', ...env },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    stderr: () => err,
    kill: (signal) => child.kill(signal),
  };
}

beforeAll(async () => {
  kafka = await startKafka();
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-kafka-eo-'));
  const input = path.join(tmp, 'tweets.jsonl');
  const g = await runFloe([
    'generate',
    '--count',
    '200000',
    '--out',
    input,
    '--seed',
    '11',
    '--events-per-second',
    '300',
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
  expect(p.stdout).toMatch(/produced 200000 records .*4 partitions, created/);
  // Each partition holds its tweets in file order, so disorder within a split stays
  // under the generator's 3 s (< the 5 s out-of-orderness): nothing is late, and the
  // exact computation over all lines is what the job must produce.
  const lines = readFileSync(input, 'utf8').split('\n');
  const ref = referenceTrending(lines, { sizeMs: 10_000 });
  referenceRows = ref.counts
    .map((c) => `${iso(c.windowStart)} ${c.topic} ${c.count} ${c.distinctAuthors}`)
    .sort();
  expect(ref.duplicates).toBeGreaterThan(0);
  expect(referenceRows.length).toBeGreaterThan(10_000);
}, 600_000);

afterAll(async () => {
  await kafka?.stop();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  if (kafka !== undefined) rmSync(kafka.stateDir, { recursive: true, force: true });
});

test('killed and restored again and again at parallelism 2: the results topic holds every count once, equal to the exact computation', async () => {
  const results = 'results-killed';
  const ck = path.join(tmp, 'ck');
  const staging = path.join(tmp, 'staging');
  const args = [
    'run',
    'trending',
    '--source',
    `kafka://${kafka.broker}/${TWEETS}?bounded=latest`,
    '--sink',
    `kafka://${kafka.broker}/${results}?partitions=3&staging=${staging}&transactional-id=floe-test-killed`,
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
  const completed = (log: string): number => (log.match(/"checkpoint completed"/g) ?? []).length;
  const waitFor = async (run: Started, pred: (log: string) => boolean): Promise<boolean> => {
    // Polls the child's log; not a timing assertion: the test's own timeout bounds it.
    for (;;) {
      if (pred(run.stderr())) return true;
      if (/"job finished"|"the job had finished"/.test(run.stderr())) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  let kills = 0;
  let restores = 0;
  let lastId = 0;
  const noteIds = (log: string): void => {
    for (const m of log.matchAll(/"checkpoint":(\d+)/g)) lastId = Math.max(lastId, Number(m[1]));
  };
  const finish = async (run: Started): Promise<NodeJS.Signals | null> => {
    const { signal } = await run.exit;
    noteIds(run.stderr());
    if (/"restoring from checkpoint"/.test(run.stderr())) restores++;
    if (signal === 'SIGKILL') kills++;
    return signal;
  };
  // The narrow moments, each at the next checkpoint of its run (so every one of these runs dies):
  // the epoch's transaction sent but not committed, metadata written but no commit, state files
  // written but no metadata, and the sink committed but nothing after.
  for (const point of ['mid-commit', 'metadata-written', 'files-written', 'sink-committed']) {
    await finish(start(args, { FLOE_CRASH_AT: `${point}:${lastId + 1}` }));
  }
  // Random moments: after this run's first completed checkpoint, plus up to 300 ms.
  const random = mulberry32(4242);
  for (let i = 0; i < 3; i++) {
    const run = start(args);
    const alive = await waitFor(run, (log) => completed(log) >= 1);
    if (alive) await new Promise((r) => setTimeout(r, random() * 300));
    if (alive) run.kill('SIGKILL');
    if ((await finish(run)) === null) break;
  }
  const last = start(args);
  const { code } = await last.exit;
  expect({ code, log: code === 0 ? '' : last.stderr().slice(-3000) }).toEqual({ code: 0, log: '' });
  expect(kills).toBeGreaterThanOrEqual(5);
  expect(restores).toBeGreaterThanOrEqual(kills - 1);

  const records = await readCommitted(kafka.broker, results);
  const counts = records.filter((r) => r.headers.kind === 'counts');
  const trends = records.filter((r) => r.headers.kind === 'trends');
  const rows = counts.map((r) => {
    const c = JSON.parse(r.value) as {
      window_start: string;
      topic: string;
      count: number;
      distinct_authors: number;
    };
    expect(r.key).toBe(`${c.topic}@${c.window_start}`);
    return `${c.window_start} ${c.topic} ${c.count} ${c.distinct_authors}`;
  });
  rows.sort();
  expect(rows.length).toBe(referenceRows.length);
  expect(rows).toEqual(referenceRows);
  // Trends: one ranked list per window, each (window, rank) once.
  const trendKeys = trends.map((r) => {
    const t = JSON.parse(r.value) as { window_start: string; rank: number };
    return `${t.window_start}#${t.rank}`;
  });
  expect(trends.length).toBeGreaterThan(100);
  expect(new Set(trendKeys).size).toBe(trendKeys.length);

  // Completed checkpoints report the consumed offsets to the lag-monitoring group: all of them, at the end.
  const ends = await endOffsets(kafka.broker, TWEETS);
  const reported = await groupOffsets(kafka.broker, `floe-${TWEETS}`, TWEETS);
  expect([...reported].sort()).toEqual([...ends].sort());
}, 900_000);

test('a run without checkpoints writes the same counts (plain transactions)', async () => {
  const results = 'results-plain';
  const r = await runFloe(
    [
      'run',
      'trending',
      '--source',
      `kafka://${kafka.broker}/${TWEETS}?bounded=latest`,
      '--sink',
      `kafka://${kafka.broker}/${results}?transactional-id=floe-test-plain`,
      '--parallelism',
      '2',
      '--window',
      '10s',
      '--view',
      'off',
    ],
    300_000,
  );
  expect({ code: r.code, log: r.code === 0 ? '' : r.stderr.slice(-3000) }).toEqual({ code: 0, log: '' });
  const rows = (await readCommitted(kafka.broker, results))
    .filter((x) => x.headers.kind === 'counts')
    .map((x) => {
      const c = JSON.parse(x.value) as {
        window_start: string;
        topic: string;
        count: number;
        distinct_authors: number;
      };
      return `${c.window_start} ${c.topic} ${c.count} ${c.distinct_authors}`;
    })
    .sort();
  expect(rows).toEqual(referenceRows);
}, 600_000);
