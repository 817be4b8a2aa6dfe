import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { WindowLatencySample } from '../../src/runtime/window-latency';
import { readOutput, runFloe } from '../support/run-floe';

describe('floe run --metrics-file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'floe-metrics-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('one latency sample per window whose results were written, at any parallelism', async () => {
    for (const parallelism of [1, 2]) {
      const metrics = path.join(dir, `metrics-${parallelism}.jsonl`);
      const out = path.join(dir, `out-${parallelism}`);
      const run = await runFloe([
        'run',
        'trending',
        '--source',
        'generator?count=20000&events-per-second=200',
        '--sink',
        `file:${out}`,
        '--window',
        '10s',
        '--parallelism',
        String(parallelism),
        '--view',
        'off',
        '--metrics-file',
        metrics,
      ]);
      expect(run.code).toBe(0);
      const samples = readFileSync(metrics, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as WindowLatencySample);
      const windows = [...new Set(readOutput(out).counts.map((c) => Date.parse(c.window_end)))].sort(
        (a, b) => a - b,
      );
      expect(samples.map((s) => s.window_end)).toEqual(windows);
      for (const s of samples) {
        expect(s.window_end - s.window_start).toBe(10_000);
        expect(Number.isFinite(s.watermark_passed_at)).toBe(true);
        expect(s.latency_ms).toBe(s.sink_written_at - s.watermark_passed_at);
        expect(typeof s.end_of_input).toBe('boolean');
      }
      // A bounded source ends with the final watermark: the last window is always fired by it.
      expect(samples[samples.length - 1].end_of_input).toBe(true);
    }
  });
});
