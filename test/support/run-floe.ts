/**
 * Runs the built Floe CLI (dist/src/cli/floe.js, from `npm run build`) as a
 * child process and reads what a file sink wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const FLOE_CLI = path.resolve(__dirname, '../../dist/src/cli/floe.js');

export interface FloeRun {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The "job finished" log line, parsed; undefined when there is none. */
  finished: Record<string, unknown> | undefined;
}

export interface CountsRow {
  window_start: string;
  window_end: string;
  topic: string;
  count: number;
  distinct_authors: number;
}

export interface TrendsRow extends CountsRow {
  rank: number;
  score: number;
}

export interface DeadLetterRow {
  reason: string;
  detail: string;
  source: string;
  raw: string;
  raw_length: number;
}

export interface FloeOutput {
  /** Every record of DIR/counts/*.jsonl, files in name order, lines in file order. */
  counts: CountsRow[];
  trends: TrendsRow[];
  deadLetters: DeadLetterRow[];
}

export function assertBuilt(): void {
  if (!existsSync(FLOE_CLI)) throw new Error(`${FLOE_CLI} is missing: run \`npm run build\` first`);
}

/** Runs `node dist/src/cli/floe.js ...args`; resolves when it exits (kills it after timeoutMs). */
export function runFloe(args: string[], timeoutMs = 100_000): Promise<FloeRun> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOE_CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLOE_LOG_FORMAT: 'json' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, finished: finishedLine(stderr) });
    });
  });
}

function finishedLine(stderr: string): Record<string, unknown> | undefined {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]) as Record<string, unknown>;
      if (o.msg === 'job finished') return o;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** All JSON lines of the .jsonl files in `dir` (files in name order); [] when the folder is absent. */
export function readJsonLines<T>(dir: string): T[] {
  if (!existsSync(dir)) return [];
  const out: T[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (line !== '') out.push(JSON.parse(line) as T);
    }
  }
  return out;
}

/** Everything a `file:DIR` sink wrote. */
export function readOutput(dir: string): FloeOutput {
  return {
    counts: readJsonLines<CountsRow>(path.join(dir, 'counts')),
    trends: readJsonLines<TrendsRow>(path.join(dir, 'trends')),
    deadLetters: readJsonLines<DeadLetterRow>(path.join(dir, 'dead-letter')),
  };
}
