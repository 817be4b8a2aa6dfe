import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const cli = path.resolve(__dirname, '../../dist/src/cli/floe.js');
const floe = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('floe CLI', () => {
  it.each([[[]], [['run']], [['generate']]])('--help works for %j', (cmd) => {
    const r = floe(...cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: floe');
  });

  it('documents every option of run, with defaults from the schemas', () => {
    const help = floe('run', '--help').stdout;
    for (const opt of [
      '--source',
      '--sink',
      '--parallelism',
      '--window',
      '--slide',
      '--out-of-orderness',
      '--idle-timeout',
      '--allowed-lateness',
      '--top',
      '--cashtags',
      '--dedupe-horizon',
    ]) {
      expect(help).toContain(opt);
    }
    expect(help).toContain('(default: 5000)');
    expect(help).toMatch(/file:PATH/);
    expect(help).toMatch(/generator/);
  });

  it('rejects bad options with exit code 2 and names them', () => {
    const r = floe('run', 'trending', '--source', 'generator?count=10', '--sink', 'stdout', '--top', 'many');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('option top: expected a whole number');
    const u = floe('run', 'trending', '--source', 'generator?count=10&colour=red', '--sink', 'stdout');
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('option generator.colour: unknown option');
    const j = floe('run', 'nosuchjob');
    expect(j.status).toBe(2);
    expect(j.stderr).toContain('unknown job "nosuchjob"');
  });

  it('runs a bounded generator to stdout and exits 0', () => {
    const r = floe(
      'run',
      'trending',
      '--source',
      'generator?count=5000&events-per-second=100',
      '--sink',
      'stdout?counts=false',
      '--parallelism',
      '2',
      '--window',
      '10s',
    );
    expect(r.status).toBe(0);
    // The summary says where the run's time went, in order (ms since the process started).
    const finished = JSON.parse(r.stderr.split('\n').find((l) => l.includes('job finished')) as string) as {
      timeline: { startedMs: number; firstRecordMs: number; sourcesDoneMs: number; finishedMs: number };
    };
    const t = finished.timeline;
    expect(t.startedMs).toBeGreaterThan(0);
    expect(t.firstRecordMs).toBeGreaterThanOrEqual(t.startedMs);
    expect(t.sourcesDoneMs).toBeGreaterThanOrEqual(t.firstRecordMs);
    expect(t.finishedMs).toBeGreaterThanOrEqual(t.sourcesDoneMs);
    const trends = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rank: number; window_start: string });
    expect(trends.length).toBeGreaterThan(0);
    expect(trends.every((t) => t.rank >= 1 && t.rank <= 10)).toBe(true);
  });
});

describe('floe run on an unbounded source', () => {
  it('stops cleanly on SIGINT: open windows flushed, files closed, exit 0', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const out = mkdtempSync(path.join(tmpdir(), 'floe-sigint-'));
    const child = spawn(
      process.execPath,
      [
        cli,
        'run',
        'trending',
        '--source',
        'generator?rate=5000',
        '--sink',
        `file:${out}`,
        '--window',
        '1h',
        '--parallelism',
        '2',
        '--view',
        'off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOE_LOG_FORMAT: 'json' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Let it start and run a while (a wait, not an assertion: the test timeout bounds it).
    while (!stderr.includes('"first tweets decoded"')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toContain('"msg":"stopping: flushing open windows');
    const finished = JSON.parse(stderr.split('\n').find((l) => l.includes('"job finished"')) as string) as {
      tweets: number;
    };
    expect(finished.tweets).toBeGreaterThan(0);
    // The one-hour window was still open when the signal came: it was flushed, and every file is whole JSON lines.
    const read = (kind: string): { count?: number }[] =>
      readdirSync(path.join(out, kind)).flatMap((f) =>
        readFileSync(path.join(out, kind, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { count?: number }),
      );
    const counts = read('counts');
    expect(counts.length).toBeGreaterThan(0);
    expect(read('trends').length).toBeGreaterThan(0);
    // Every decoded tweet that was not a duplicate counted at least once (most carry 1+ topics).
    expect(counts.reduce((s, c) => s + (c.count ?? 0), 0)).toBeGreaterThan(finished.tweets / 2);
  });
});
