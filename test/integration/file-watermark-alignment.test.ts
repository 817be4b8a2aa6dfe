import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { WindowLatencySample } from '../../src/runtime/window-latency';
import { readOutput, runFloe } from '../support/run-floe';

/**
 * A file spanning several windows, cut into many byte-range splits. Read
 * together at full speed, those splits hold the watermark at the first
 * split's time until the end, so every window stays open until the end of
 * input; with watermark alignment the splits ahead wait and the windows
 * fire as the file is read. The counts must be the same either way.
 */
describe('file source with watermark alignment', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'floe-align-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (name: string, alignment: string, file: string) => {
    const out = path.join(dir, `out-${name}`);
    const metrics = path.join(dir, `metrics-${name}.jsonl`);
    const r = await runFloe([
      'run',
      'trending',
      '--source',
      `file:${file}?split-size=64KB`,
      '--sink',
      `file:${out}`,
      '--window',
      '60s',
      '--parallelism',
      '2',
      '--watermark-alignment',
      alignment,
      '--view',
      'off',
      '--metrics-file',
      metrics,
    ]);
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    const samples = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as WindowLatencySample);
    const counts = readOutput(out)
      .counts.map((c) => JSON.stringify(c))
      .sort();
    return { samples, counts, finished: r.finished };
  };

  test('windows fire while the file is read, with the same counts as reading every split at full speed', async () => {
    // 40,000 tweets at 100 a second of event time: ~400 s, seven one-minute windows, ~10 MB in 24+ splits.
    const file = path.join(dir, 'tweets.jsonl');
    const gen = await runFloe([
      'generate',
      '--count',
      '40000',
      '--events-per-second',
      '100',
      '--seed',
      '7',
      '--out',
      file,
    ]);
    expect(gen.code).toBe(0);

    const aligned = await run('aligned', '30s', file);
    const free = await run('free', '0', file);

    expect(aligned.finished?.late).toBe(0);
    expect(free.finished?.late).toBe(0);
    expect(aligned.counts.length).toBeGreaterThan(1000);
    expect(aligned.counts).toEqual(free.counts);

    // Aligned, only the windows at the end of the file wait for the end of input.
    expect(aligned.samples.length).toBeGreaterThanOrEqual(7);
    const firedWhileReading = aligned.samples.filter((s) => !s.end_of_input).length;
    expect(firedWhileReading).toBeGreaterThanOrEqual(aligned.samples.length - 2);
  });
});
