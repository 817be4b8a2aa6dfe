import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The built profiling script (npm run profile), run as a user runs it. */
const PROFILE = path.resolve(__dirname, '../../dist/bench/profile.js');

describe('npm run profile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'floe-profile-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('profiles every thread of a real run and draws a flame graph per thread and phase', () => {
    const run = spawnSync(
      process.execPath,
      [
        PROFILE,
        '--source',
        'generator?count=30000&events-per-second=500',
        '--parallelism',
        '2',
        '--out',
        dir,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.stderr).not.toMatch(/profile: .*(exited|no profiles)/);
    expect(run.status).toBe(0);
    const index = readFileSync(path.join(dir, 'index.md'), 'utf8');
    // The main thread and both workers wrote profiles.
    expect(readdirSync(path.join(dir, 'raw')).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(3);
    expect(index).toContain('## main thread');
    const workers = [...index.matchAll(/^## worker thread (\d+)/gm)].map((m) => m[1]);
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      for (const phase of ['whole-run', 'start-up', 'reading', 'end-of-input']) {
        const svg = path.join(dir, `worker-${w}-${phase}.svg`);
        expect(existsSync(svg)).toBe(true);
        expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[^>]*>/);
      }
    }
    // Every thread's CPU from /proc (Linux): main, both workers and V8's helpers, which no profile shows.
    if (process.platform === 'linux') {
      const threads = index.split(/^## Threads/m)[1].split(/^## main thread/m)[0];
      const rows = threads.split('\n').filter((l) => /^\| \d+/.test(l));
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(threads).toMatch(/^\| \d+ \(main\) \|/m);
    }
    // A worker spends its reading phase in the job's own code: the tables name its functions.
    const reading = index.split(/^### reading/m)[2];
    expect(reading).toMatch(/\| jobs\/trending\/[a-z-]+\.js:\d+ \|/);
    expect(readFileSync(path.join(dir, `worker-${workers[0]}-reading.svg`), 'utf8')).toContain(
      '(jobs/trending/',
    );
  });
});
