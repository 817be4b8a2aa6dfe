/**
 * Exactly once under crashes: the trending job is SIGKILLed again and again
 * (at random moments, and at the narrow moments between writing checkpoint
 * files, the metadata and the sink commit), restarted each time with
 * --restore latest, and its final counts and trends must equal those of a run
 * without crashes: nothing missing, nothing doubled. Also: restoring a
 * parallelism-2 checkpoint at parallelism 1 and 4, and a SIGTERM stop that
 * keeps open windows in a final checkpoint.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FLOE_CLI, readOutput, runFloe } from '../support/run-floe';
import { mulberry32 } from '../support/prng';

let tmp: string;
let input: string;
let reference: { counts: string[]; trends: string[] };
const FLAGS = ['--window', '10s', '--view', 'off', '--checkpoint-interval', '200ms'];

const sortedLines = (dir: string): { counts: string[]; trends: string[] } => {
  const out = readOutput(dir);
  return {
    counts: out.counts.map((c) => JSON.stringify(c)).sort(),
    trends: out.trends.map((t) => JSON.stringify(t)).sort(),
  };
};

interface Started {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: () => boolean;
  stderr: () => string;
  kill: (signal: NodeJS.Signals) => boolean;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [FLOE_CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FLOE_LOG_FORMAT: 'json', ...env },
  });
  let err = '';
  let exited = false;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    exit: new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        exited = true;
        resolve({ code, signal });
      }),
    ),
    exited: () => exited,
    stderr: () => err,
    kill: (signal) => child.kill(signal),
  };
}

const job = (out: string, ck: string, parallelism: number, extra: string[] = []): string[] => [
  'run',
  'trending',
  '--source',
  `file:${input}?split-size=2MB`,
  '--sink',
  `file:${out}`,
  '--parallelism',
  String(parallelism),
  '--checkpoint-dir',
  ck,
  '--restore',
  'latest',
  ...FLAGS,
  ...extra,
];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-faults-'));
  input = path.join(tmp, 'tweets.jsonl');
  const g = await runFloe([
    'generate',
    '--count',
    '800000',
    '--out',
    input,
    '--seed',
    '3',
    '--events-per-second',
    '300',
  ]);
  if (g.code !== 0) throw new Error(g.stderr);
  const ref = path.join(tmp, 'reference');
  const r = await runFloe([
    'run',
    'trending',
    '--source',
    `file:${input}?split-size=2MB`,
    '--sink',
    `file:${ref}`,
    '--parallelism',
    '2',
    '--window',
    '10s',
    '--view',
    'off',
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  reference = sortedLines(ref);
  expect(reference.counts.length).toBeGreaterThan(10_000);
  expect(reference.trends.length).toBeGreaterThan(100);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('SIGKILL at 12 random moments, restore latest each time: final output equals the run without kills', async () => {
  const out = path.join(tmp, 'killed');
  const ck = path.join(tmp, 'killed-ck');
  const random = mulberry32(20261122);
  let kills = 0;
  let restores = 0;
  const waitFor = async (run: Started, pred: (log: string) => boolean): Promise<boolean> => {
    // Polls the child's log; not a timing assertion: the test's own timeout bounds it.
    for (;;) {
      if (pred(run.stderr())) return true;
      if (/"job finished"|"the job had finished"/.test(run.stderr())) return false;
      if (run.exited()) throw new Error(`floe exited unexpectedly:\n${run.stderr().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const completed = (log: string): number => (log.match(/"checkpoint completed"/g) ?? []).length;
  while (kills < 12) {
    const run = start(job(out, ck, 2));
    // Kill at a random moment that does not depend on the machine's speed: after 0 or 1 completed
    // checkpoints of this run, plus up to 200 ms, so kills land before, during and after checkpoint writes.
    const after = Math.floor(random() * 2);
    const alive = await waitFor(run, (log) => log.includes('"job starting"') && completed(log) >= after);
    if (alive) await new Promise((r) => setTimeout(r, random() * 200));
    if (alive && run.kill('SIGKILL')) kills++;
    const { code, signal } = await run.exit;
    if (/"restoring from checkpoint"/.test(run.stderr())) restores++;
    if (signal === null) {
      if (code !== 0) throw new Error(`floe exited ${code}:\n${run.stderr().slice(-3000)}`);
      throw new Error(`the job finished after ${kills} kills: make the input larger`);
    }
  }
  const last = await runFloe(job(out, ck, 2));
  expect(last.code).toBe(0);
  expect(kills).toBe(12);
  // Most restarts resumed from a checkpoint rather than from the beginning.
  expect(restores).toBeGreaterThanOrEqual(4);
  expect(sortedLines(out)).toEqual(reference);
  // Thirteen starts and restores: slow on a loaded two-core machine; the timeout only bounds a hang.
}, 600_000);

test.each(['files-written', 'metadata-written', 'mid-commit', 'sink-committed'])(
  'a crash at %s of a checkpoint, then restore: output equals the run without crashes',
  async (point) => {
    const out = path.join(tmp, `crash-${point}`);
    const ck = path.join(tmp, `crash-${point}-ck`);
    // Crash twice: at the first checkpoint from 2 on that reaches the point (a mid-commit crash needs an
    // epoch with output), then, after a restore, at the next one; then run to the end.
    let crashes = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      const run = start(job(out, ck, 2), { FLOE_CRASH_AT: `${point}:2` });
      if ((await run.exit).signal === 'SIGKILL') crashes++;
    }
    expect(crashes).toBe(2);
    const last = await runFloe(job(out, ck, 2));
    expect(last.code).toBe(0);
    expect(sortedLines(out)).toEqual(reference);
  },
);

test.each([1, 4])(
  'a checkpoint taken at parallelism 2 restores at parallelism %d with the same final output',
  async (p) => {
    const out = path.join(tmp, `rescale-${p}`);
    const ck = path.join(tmp, `rescale-${p}-ck`);
    // Crash right after checkpoint 3 is complete, so the restore has state to rescale.
    const first = start(job(out, ck, 2), { FLOE_CRASH_AT: 'sink-committed:3' });
    expect((await first.exit).signal).toBe('SIGKILL');
    const second = await runFloe(job(out, ck, p));
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/"restoring from checkpoint".*|"parallelism":2,"now":/);
    expect(second.stderr).toContain(`"now":${p}`);
    expect(sortedLines(out)).toEqual(reference);
  },
);

test('SIGTERM takes a final checkpoint and exits 0; a restart resumes exactly there', async () => {
  const out = path.join(tmp, 'sigterm');
  const ck = path.join(tmp, 'sigterm-ck');
  const run = start(job(out, ck, 2, ['--checkpoint-interval', '1h']));
  while (!run.stderr().includes('"job starting"')) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 800));
  run.kill('SIGTERM');
  const { code } = await run.exit;
  expect(code).toBe(0);
  expect(run.stderr()).toContain('final checkpoint committed; stopping');
  const rest = await runFloe(job(out, ck, 2, ['--checkpoint-interval', '1h']));
  expect(rest.code).toBe(0);
  expect(rest.stderr).toContain('"restoring from checkpoint"');
  expect(sortedLines(out)).toEqual(reference);
});
