/**
 * De-duplication ids older than --dedupe-memory-horizon move to LevelDB under
 * --state-dir (cold-id-store.ts). Re-deliveries of tweets whose ids are on
 * disk must still count as duplicates: the output equals a run that keeps
 * every id in memory, and the independent reference, with and without
 * checkpoints (which delay the move until a checkpoint holds the ids).
 *
 * Needs `npm run build` first (the tests run dist/src/cli/floe.js).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { referenceTrending } from '../support/reference-trending';
import { CountsRow, FloeRun, readOutput, runFloe } from '../support/run-floe';

const COPIES = 500;

let tmp: string;
let input: string;
let lines: string[];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-spill-'));
  const generated = path.join(tmp, 'generated.jsonl');
  // 40,000 tweets over 800 s of event time, no re-deliveries of their own.
  const gen = await runFloe([
    'generate',
    '--count',
    '40000',
    '--events-per-second',
    '50',
    '--duplicates',
    '0',
    '--seed',
    '11',
    '--out',
    generated,
  ]);
  expect(gen.code).toBe(0);
  const original = readFileSync(generated, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  // Re-deliver every 40th tweet of the first half at the very end: 400-800 s old by then, long
  // past a one-minute memory horizon, within the allowed lateness.
  const copies = original.filter((_, i) => i < 20_000 && i % 40 === 0);
  expect(copies).toHaveLength(COPIES);
  lines = [...original, ...copies];
  input = path.join(tmp, 'input.jsonl');
  writeFileSync(input, lines.join('\n') + '\n');
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

const rows = (counts: CountsRow[]): string[] =>
  counts.map((c) => `${c.window_start} ${c.topic} ${c.count} ${c.distinct_authors}`).sort();

/** Per-worker stats of the cold id store, from the debug log. */
function diskStats(run: FloeRun): { spilled: number; diskHits: number }[] {
  return run.stderr
    .split('\n')
    .filter((l) => l.includes('"de-duplication ids on disk"'))
    .map((l) => JSON.parse(l) as { spilled: number; diskHits: number });
}

async function run(label: string, flags: string[]): Promise<{ run: FloeRun; counts: string[] }> {
  const out = path.join(tmp, `out-${label}`);
  const r = await runFloe([
    'run',
    'trending',
    // One split: the watermark follows the file, so the copies at its end are old when they arrive.
    '--source',
    `file:${input}?split-size=1GB`,
    '--sink',
    `file:${out}`,
    '--view',
    'off',
    '--parallelism',
    '2',
    '--window',
    '1m',
    '--allowed-lateness',
    '30m',
    '--log-level',
    'debug',
    ...flags,
  ]);
  if (r.code !== 0) throw new Error(`floe run ${label} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return { run: r, counts: rows(readOutput(out).counts) };
}

describe('de-duplication ids spilled to LevelDB', () => {
  it('still drops re-deliveries whose ids are on disk, with the same output as in memory', async () => {
    const ref = referenceTrending(lines, { sizeMs: 60_000 });
    expect(ref.duplicates).toBe(COPIES);
    const expected = ref.counts
      .map((c) => `${new Date(c.windowStart).toISOString()} ${c.topic} ${c.count} ${c.distinctAuthors}`)
      .sort();

    const stateDir = path.join(tmp, 'state');
    const memory = await run('memory', ['--state-dir', stateDir, '--dedupe-memory-horizon', '24h']);
    // Nothing to spill: no store was opened.
    expect(diskStats(memory.run)).toEqual([]);
    expect(memory.counts).toEqual(expected);
    expect(memory.run.finished).toMatchObject({ duplicates: COPIES, late: 0 });

    const spilled = await run('spilled', ['--state-dir', stateDir, '--dedupe-memory-horizon', '1m']);
    expect(spilled.counts).toEqual(expected);
    expect(spilled.run.finished).toMatchObject({ duplicates: COPIES, late: 0 });
    const stats = diskStats(spilled.run);
    expect(stats).toHaveLength(2);
    // Every copy was found on disk (its original's bucket had moved there), and most ids had moved.
    expect(stats.reduce((n, s) => n + s.diskHits, 0)).toBe(COPIES);
    expect(stats.reduce((n, s) => n + s.spilled, 0)).toBeGreaterThan(30_000);

    // With checkpoints an id moves only once a checkpoint holds it; the output is the same.
    const checkpointed = await run('checkpointed', [
      '--state-dir',
      stateDir,
      '--dedupe-memory-horizon',
      '1m',
      '--checkpoint-dir',
      path.join(tmp, 'checkpoints'),
      '--checkpoint-interval',
      '100ms',
    ]);
    expect(checkpointed.counts).toEqual(expected);
    expect(checkpointed.run.finished).toMatchObject({ duplicates: COPIES, late: 0 });

    // Each run removed its working directory.
    expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);
  }, 120_000);
});
