/**
 * Golden files for job output: the trending job on the real v2 samples and on
 * a seeded generator file, with its output compared line by line with
 * test/golden/. A change to counting, scoring, ranking or encoding shows up
 * here. When a change is intended, regenerate with
 *   UPDATE_GOLDEN=1 npx jest test/integration/golden.test.ts
 * and review the diff of test/golden/ like code.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readOutput, runFloe } from '../support/run-floe';

const GOLDEN = path.resolve(__dirname, '../golden');
const FIXTURES = path.resolve(__dirname, '../fixtures/twitter-v2');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-golden-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Output in a stable order: counts sorted by window and topic, trends by window and rank. */
async function run(name: string, source: string, flags: string[]): Promise<string> {
  const out = path.join(tmp, name);
  const r = await runFloe([
    'run',
    'trending',
    '--source',
    source,
    '--sink',
    `file:${out}`,
    '--view',
    'off',
    ...flags,
  ]);
  if (r.code !== 0) throw new Error(`floe exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const { counts, trends, deadLetters } = readOutput(out);
  const key = (c: { window_start: string; topic: string }): string => `${c.window_start} ${c.topic}`;
  counts.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  trends.sort((a, b) =>
    a.window_start < b.window_start ? -1 : a.window_start > b.window_start ? 1 : a.rank - b.rank,
  );
  return [
    ...counts.map((c) => JSON.stringify(c)),
    '# trends',
    ...trends.map((t) => JSON.stringify(t)),
    '# dead-letter',
    ...deadLetters.map((d) => JSON.stringify(d)),
  ].join('\n');
}

function compare(name: string, actual: string): void {
  const file = path.join(GOLDEN, `${name}.jsonl`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual + '\n');
  expect(existsSync(file)).toBe(true);
  expect(actual.split('\n')).toEqual(readFileSync(file, 'utf8').trimEnd().split('\n'));
}

test('real v2 samples, hourly windows, parallelism 2', async () => {
  compare(
    'real-v2-hourly',
    await run('real', `file:${FIXTURES}`, [
      '--window',
      '1h',
      '--out-of-orderness',
      '5000d',
      '--min-count',
      '2',
      '--parallelism',
      '2',
    ]),
  );
});

test('seeded generator file, 1-minute windows sliding by 20 s, cashtags, parallelism 2', async () => {
  const file = path.join(tmp, 'gen.jsonl');
  const g = await runFloe([
    'generate',
    '--count',
    '3000',
    '--out',
    file,
    '--seed',
    '7',
    '--events-per-second',
    '20',
    '--topics',
    '50',
  ]);
  if (g.code !== 0) throw new Error(g.stderr);
  compare(
    'generated-sliding',
    await run('gen', `file:${file}`, [
      '--window',
      '60s',
      '--slide',
      '20s',
      '--cashtags',
      '--top',
      '5',
      '--parallelism',
      '2',
    ]),
  );
});
