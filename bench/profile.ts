/**
 * Where the trending job's time goes, as flame graphs:
 *
 *   npm run profile -- [--tweets 1000000] [--parallelism 2] [--interval 1000] [--source URI] [--out DIR]
 *
 * Runs `floe run trending` once the way the bench does (a file of generated
 * tweets, bench/data), under `node --cpu-prof`: every thread writes a V8 CPU
 * profile. Per thread and per phase of the run (the whole run; start-up; the
 * reading phase; the end of input, cut at the job's own timeline) it draws a
 * flame graph (SVG, hover a frame for its time) and lists the functions with
 * the most self time, in DIR/index.md (default bench/profiles/<time>/,
 * git-ignored). The raw profiles stay in DIR/raw for DevTools or speedscope.
 *
 * Read with care: a sample stands for the wall time until the next one, so
 * time a thread spent waiting for a core counts to the code it was running;
 * with more busy threads than cores (p=2 on two cores, with V8's compiler
 * threads) a worker's times read high (~1.4x here, bench/FASTPATH.md,
 * session 11), while the proportions within a thread hold. Sampling slows the run
 * (1M tweets at p=2: ~2.8 s against ~2.1 s at the default 1 ms, ~3.6 s at
 * 200 us). The compiler and GC helper threads are not profiled: their cost
 * shows as the process CPU time against the threads' busy time.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  byFunction,
  foldProfile,
  profileThread,
  renderFlameGraph,
  type CpuProfile,
  type Frame,
} from './cpu-profile';
import { benchPaths } from './bench-module';
import { ensureTweets, runTrending, type TrendingRun } from './floe-process';
import { describeMachine, machineLine } from './machine';
import { arg } from './script-args';
import { ThreadCpuSampler, type ThreadCpu } from './thread-cpu';

const root = path.resolve(__dirname, '..', '..');
/** Interval of the per-thread CPU readings from /proc. */
const THREAD_INTERVAL_MS = 100;

interface Phase {
  name: string;
  /** Microseconds on the profiles' clock. */
  fromUs: number;
  toUs: number;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(0)} ms`;
}

/** Functions with the most self time, as a Markdown table. */
function topTable(tree: Frame, rows: number): string {
  const busy = tree.total;
  const lines = ['| self | % | total | function | where |', '| ---: | ---: | ---: | --- | --- |'];
  for (const f of byFunction(tree).slice(0, rows)) {
    const pct = busy === 0 ? 0 : (100 * f.self) / busy;
    lines.push(
      `| ${(f.self / 1000).toFixed(1)} ms | ${pct.toFixed(1)} | ${(f.total / 1000).toFixed(1)} ms | \`${f.name}\` | ${f.where} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Every thread's CPU per interval, busiest first, as a Markdown table. The
 * profiles name the main thread and the workers; the rest are Node's and
 * V8's (four compiler and GC helpers started with the process, libuv's pool).
 */
function threadsSection(threads: ThreadCpu[], pid: number | undefined, workers: number): string[] {
  const shown = threads.filter((t) => t.cpuMs >= 5);
  if (shown.length === 0) return [];
  const total = threads.reduce((a, t) => a + t.cpuMs, 0);
  const lines = [
    `## Threads: CPU per ${THREAD_INTERVAL_MS} ms (from /proc, up to the last reading before exit)`,
    '',
    `${total.toFixed(0)} ms of CPU in all, first seen counted from the spawn. The ${workers} busiest besides main ` +
      "are the workers; V8's compiler and GC helpers (four, started with the process) are busy in bursts, at " +
      "start-up, while the workers' code is first compiled and at the end of input; under the profiler each " +
      'profiled thread also has a sampling thread (a few ms per interval).',
    '',
    '| thread | first seen | CPU | per interval, ms |',
    '| --- | ---: | ---: | --- |',
  ];
  for (const t of shown) {
    const name = t.tid === pid ? `${t.tid} (main)` : String(t.tid);
    lines.push(
      `| ${name} | ${t.firstSeenMs} ms | ${t.cpuMs.toFixed(0)} ms | ${t.perInterval.map((v) => v.toFixed(0)).join(' ')} |`,
    );
  }
  lines.push('');
  return lines;
}

async function main(): Promise<void> {
  const tweets = Number(arg('tweets', '1000000'));
  const parallelism = Number(arg('parallelism', '2'));
  const intervalUs = Number(arg('interval', '1000'));
  for (const [name, v] of [
    ['tweets', tweets],
    ['parallelism', parallelism],
    ['interval', intervalUs],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: expected a whole number >= 1, got ${v}`);
  }
  const paths = benchPaths(root);
  const out = path.resolve(arg('out', path.join(root, 'bench', 'profiles', stamp())));
  const raw = path.join(out, 'raw');
  mkdirSync(raw, { recursive: true });
  const sourceArg = arg('source', '');
  const source = sourceArg !== '' ? sourceArg : `file:${await ensureTweets(paths, tweets)}`;
  process.stderr.write(`profile: floe run trending --source ${source} --parallelism ${parallelism}\n`);

  // Every thread's CPU from /proc while it runs (Linux): the compiler and GC threads too, which no profile shows.
  const sampling: { sampler?: ThreadCpuSampler; pid?: number } = {};
  let threads: ThreadCpu[] = [];
  let run: TrendingRun;
  try {
    run = await runTrending(paths, source, parallelism, [], {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${raw}`, `--cpu-prof-interval=${intervalUs}`],
      onSpawn: (pid) => {
        sampling.pid = pid;
        if (process.platform === 'linux') sampling.sampler = new ThreadCpuSampler(pid, THREAD_INTERVAL_MS);
      },
    });
  } finally {
    threads = sampling.sampler?.stop() ?? [];
  }
  const profiles = readdirSync(raw)
    .flatMap((file) => {
      const thread = profileThread(file);
      return thread === undefined ? [] : [{ file, threadId: thread.threadId }];
    })
    .sort((a, b) => a.threadId - b.threadId)
    .map((p) => ({ ...p, profile: JSON.parse(readFileSync(path.join(raw, p.file), 'utf8')) as CpuProfile }));
  if (profiles.length === 0) throw new Error(`no profiles were written to ${raw}`);

  // The job's timeline is in ms since the process started; the profiles' clock starts with the main
  // thread's profiler, a few ms after that (at start-up, before any script): close enough to cut phases.
  const main0 = profiles.find((p) => p.threadId === 0)?.profile.startTime ?? profiles[0].profile.startTime;
  const t = run.timeline;
  const at = (msSinceStart: number): number => main0 + msSinceStart * 1000;
  const phases: Phase[] = [{ name: 'whole run', fromUs: -Infinity, toUs: Infinity }];
  if (t !== undefined && t.firstRecordMs !== null) {
    const sourcesDone = t.sourcesDoneMs === null ? Infinity : at(t.sourcesDoneMs);
    phases.push({ name: 'start-up', fromUs: -Infinity, toUs: at(t.firstRecordMs) });
    phases.push({ name: 'reading', fromUs: at(t.firstRecordMs), toUs: sourcesDone });
    if (t.sourcesDoneMs !== null) phases.push({ name: 'end of input', fromUs: sourcesDone, toUs: Infinity });
  }

  const lines: string[] = [
    `# CPU profile of the trending job`,
    '',
    `${new Date().toISOString()}, ${machineLine(describeMachine())}`,
    '',
    `\`floe run trending --source ${source} --parallelism ${parallelism}\` under \`node --cpu-prof --cpu-prof-interval=${intervalUs}\`: ` +
      `${run.tweets.toLocaleString('en-US')} tweets in ${run.seconds.toFixed(2)} s (${run.tweetsPerSecond.toLocaleString('en-US')}/s, profiler on), ` +
      `process CPU ${run.cpuSeconds === null ? 'n/a' : `${run.cpuSeconds.toFixed(2)} s`}.`,
    '',
    t === undefined
      ? 'No timeline from the job: only the whole run is shown.'
      : `Timeline (ms since the process started): first record ${t.firstRecordMs}, end of input ${t.sourcesDoneMs}, finished ${t.finishedMs}.`,
    '',
    'Busy time per thread is sampled time without idle; a thread waiting for a core counts as busy (see bench/profile.ts).',
    '',
    ...threadsSection(threads, sampling.pid, parallelism),
  ];
  for (const { file, threadId, profile } of profiles) {
    const thread = threadId === 0 ? 'main thread' : `worker thread ${threadId}`;
    lines.push(`## ${thread} (${file})`, '');
    for (const phase of phases) {
      const tree = foldProfile(profile, phase.fromUs, phase.toUs);
      const slug = `${threadId === 0 ? 'main' : `worker-${threadId}`}-${phase.name.replace(/[^a-z]+/g, '-')}`;
      const svg = `${slug}.svg`;
      writeFileSync(
        path.join(out, svg),
        renderFlameGraph(tree, {
          title: `${thread}, ${phase.name}`,
          subtitle: `${ms(tree.total)} busy; floe run trending, p=${parallelism}, ${run.tweets.toLocaleString('en-US')} tweets`,
        }),
      );
      lines.push(
        `### ${phase.name}: ${ms(tree.total)} busy`,
        '',
        `![${slug}](${svg})`,
        '',
        topTable(tree, 15),
        '',
      );
    }
  }
  writeFileSync(path.join(out, 'index.md'), lines.join('\n'));
  process.stdout.write(`profile: ${path.relative(process.cwd(), path.join(out, 'index.md'))}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
