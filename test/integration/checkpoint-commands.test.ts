/**
 * Operations on checkpoints through the CLI: `floe savepoint` against a
 * running job, `floe checkpoints list|inspect|delete`, restoring from a
 * savepoint at another parallelism, and a corrupt newest checkpoint skipped
 * for the one before it on restore.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FLOE_CLI, readOutput, runFloe } from '../support/run-floe';

let tmp: string;
let input: string;
let reference: string[];

const counts = (dir: string): string[] =>
  readOutput(dir)
    .counts.map((c) => JSON.stringify(c))
    .sort();

const source = (): string => `file:${input}?split-size=2MB`;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-ckcmd-'));
  input = path.join(tmp, 'tweets.jsonl');
  const g = await runFloe([
    'generate',
    '--count',
    '400000',
    '--out',
    input,
    '--seed',
    '5',
    '--events-per-second',
    '300',
  ]);
  if (g.code !== 0) throw new Error(g.stderr);
  const ref = path.join(tmp, 'ref');
  const r = await runFloe([
    'run',
    'trending',
    '--source',
    source(),
    '--sink',
    `file:${ref}`,
    '--window',
    '10s',
    '--view',
    'off',
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  reference = counts(ref);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('floe savepoint on a running job; list, inspect, restore at another parallelism, delete', async () => {
  const out = path.join(tmp, 'sp-out');
  const ck = path.join(tmp, 'sp-ck');
  const child = spawn(
    process.execPath,
    [
      FLOE_CLI,
      'run',
      'trending',
      '--source',
      source(),
      '--sink',
      `file:${out}`,
      '--window',
      '10s',
      '--view',
      'off',
      '--parallelism',
      '2',
      '--checkpoint-dir',
      ck,
      '--checkpoint-interval',
      '1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLOE_LOG_FORMAT: 'json' } },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  while (!log.includes('"job starting"')) await new Promise((r) => setTimeout(r, 20));
  const sp = await runFloe([
    'savepoint',
    '--pid',
    String(child.pid),
    '--checkpoint-dir',
    ck,
    '--timeout',
    '60s',
  ]);
  expect(sp.code).toBe(0);
  const id = Number(/savepoint (\d+) committed/.exec(sp.stdout)?.[1]);
  expect(id).toBeGreaterThan(0);
  // Stop the job hard: only the savepoint is there to resume from.
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));

  const list = await runFloe(['checkpoints', 'list', '--checkpoint-dir', ck, '--json']);
  expect(list.code).toBe(0);
  const rows = list.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; kind: string; parallelism: number; reusedFiles: number });
  // A savepoint is self-contained: it refers to no other checkpoint's files.
  expect(rows).toContainEqual(
    expect.objectContaining({ id, kind: 'savepoint', parallelism: 2, reusedFiles: 0 }),
  );

  const inspect = await runFloe(['checkpoints', 'inspect', String(id), '--checkpoint-dir', ck]);
  expect(inspect.code).toBe(0);
  const info = JSON.parse(inspect.stdout) as {
    kind: string;
    sourcePositions: Record<string, unknown>;
    keyGroups: Record<string, number>;
    deltas: Record<string, number>;
  };
  expect(info.kind).toBe('savepoint');
  expect(info.deltas.dedupe).toBeGreaterThan(0);
  expect(Object.keys(info.sourcePositions).length).toBeGreaterThan(10);
  expect(Object.keys(info.keyGroups).sort()).toEqual(['dedupe', 'window']);

  const resumed = await runFloe([
    'run',
    'trending',
    '--source',
    source(),
    '--sink',
    `file:${out}`,
    '--window',
    '10s',
    '--view',
    'off',
    '--parallelism',
    '3',
    '--checkpoint-dir',
    ck,
    '--restore',
    String(id),
  ]);
  expect(resumed.code).toBe(0);
  expect(resumed.stderr).toContain('"restoring from checkpoint"');
  expect(counts(out)).toEqual(reference);

  const del = await runFloe(['checkpoints', 'delete', String(id), '--checkpoint-dir', ck]);
  expect(del.code).toBe(0);
  const after = await runFloe(['checkpoints', 'list', '--checkpoint-dir', ck, '--json']);
  expect(after.stdout).not.toContain(`"id":${id},`);
});

test('a corrupt newest checkpoint is reported and the one before it is restored', async () => {
  const out = path.join(tmp, 'corrupt-out');
  const ck = path.join(tmp, 'corrupt-ck');
  // Crash right after checkpoint 3 is committed; 2 and 3 are kept.
  const crashed = spawn(
    process.execPath,
    [
      FLOE_CLI,
      'run',
      'trending',
      '--source',
      source(),
      '--sink',
      `file:${out}`,
      '--window',
      '10s',
      '--view',
      'off',
      '--checkpoint-dir',
      ck,
      '--checkpoint-interval',
      '200ms',
    ],
    { stdio: 'ignore', env: { ...process.env, FLOE_CRASH_AT: 'sink-committed:3' } },
  );
  const signal = await new Promise((r) => crashed.on('exit', (_c, s) => r(s)));
  expect(signal).toBe('SIGKILL');
  const newest = readdirSync(ck)
    .filter((n) => n.startsWith('chk-'))
    .sort()
    .pop() as string;
  const victim = readdirSync(path.join(ck, newest)).find((n) => n.startsWith('window-')) as string;
  writeFileSync(path.join(ck, newest, victim), 'garbage');
  const restored = await runFloe([
    'run',
    'trending',
    '--source',
    source(),
    '--sink',
    `file:${out}`,
    '--window',
    '10s',
    '--view',
    'off',
    '--checkpoint-dir',
    ck,
    '--restore',
    'latest',
  ]);
  expect(restored.code).toBe(0);
  expect(restored.stderr).toMatch(/"checkpoint":2,.*"restoring from checkpoint"/);
  expect(counts(out)).toEqual(reference);
});

test('checkpoints are incremental; retention keeps the files later checkpoints refer to', async () => {
  const out = path.join(tmp, 'incr-out');
  const ck = path.join(tmp, 'incr-ck');
  const args = [
    'run',
    'trending',
    '--source',
    source(),
    '--sink',
    `file:${out}`,
    '--window',
    '10s',
    '--view',
    'off',
    '--checkpoint-dir',
    ck,
    '--checkpoints-retained',
    '2',
  ];
  const crashed = spawn(process.execPath, [FLOE_CLI, ...args, '--checkpoint-interval', '100ms'], {
    stdio: 'ignore',
    env: { ...process.env, FLOE_CRASH_AT: 'sink-committed:5' },
  });
  const signal = await new Promise((r) => crashed.on('exit', (_c, s) => r(s)));
  expect(signal).toBe('SIGKILL');
  const list = await runFloe(['checkpoints', 'list', '--checkpoint-dir', ck, '--json']);
  const rows = list.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; files: number; reusedFiles: number });
  // Early enough that the job is still reading (it ends with a final checkpoint of no state).
  // The crash came before retention ran for 5: 5, 4 and 3 are kept. They refer to dedupe deltas
  // written by older checkpoints, whose folders retention deleted all but those files from.
  expect(rows.map((r) => r.id)).toEqual([5, 4, 3]);
  expect(rows[0].reusedFiles).toBeGreaterThan(0);
  const folders = readdirSync(ck).filter((n) => n.startsWith('chk-'));
  expect(folders.length).toBeGreaterThan(3);
  const inspect = await runFloe(['checkpoints', 'inspect', '5', '--checkpoint-dir', ck]);
  expect(inspect.code).toBe(0);
  expect((JSON.parse(inspect.stdout) as { deltas: Record<string, number> }).deltas.dedupe).toBeGreaterThan(2);
  const restored = await runFloe([...args, '--restore', 'latest']);
  expect(restored.code).toBe(0);
  expect(restored.stderr).toMatch(/"checkpoint":5,.*"restoring from checkpoint"/);
  expect(counts(out)).toEqual(reference);
});
