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
    const trends = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rank: number; window_start: string });
    expect(trends.length).toBeGreaterThan(0);
    expect(trends.every((t) => t.rank >= 1 && t.rank <= 10)).toBe(true);
  });
});
