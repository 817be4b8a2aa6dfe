/**
 * The "Done when" check of the runtime issue: the built CLI's trending output
 * equals an independent reference (test/support/reference-trending.ts) on real
 * and generated tweets, at every parallelism, with bad, late and duplicate
 * records, tumbling and sliding windows; and bad options fail fast.
 *
 * Needs `npm run build` first (the tests run dist/src/cli/floe.js).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { RefCount, RefWindowSpec, referenceTrending } from '../support/reference-trending';
import { toV1Line, v2TweetsOfLine } from '../support/v2-to-v1';
import { CountsRow, FloeOutput, FloeRun, readOutput, runFloe, TrendsRow } from '../support/run-floe';

const REAL_DATA = path.resolve(__dirname, '../fixtures/twitter-v2');

const MINUTE = 60_000;

let tmp: string;
let dirSeq = 0;
/** A fresh sink folder under the test's temp dir. */
const outDir = (label: string): string => path.join(tmp, `out-${label}-${dirSeq++}`);

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'floe-exact-'));
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

/** `floe run trending` on `source` into a fresh folder, with the view off; returns the run and its output. */
async function runTrending(
  label: string,
  source: string,
  flags: string[],
): Promise<{ run: FloeRun; out: FloeOutput; dir: string }> {
  const dir = outDir(label);
  const run = await runFloe([
    'run',
    'trending',
    '--source',
    source,
    '--sink',
    `file:${dir}`,
    '--view',
    'off',
    ...flags,
  ]);
  if (run.code !== 0)
    throw new Error(`floe exited with ${run.code} (${run.signal}):\n${run.stderr.slice(-4000)}`);
  return { run, out: readOutput(dir), dir };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** "window_start topic count distinct_authors", sorted: the comparable form of counts. */
function refRows(counts: RefCount[]): string[] {
  return counts
    .map((c) => `${iso(c.windowStart)} ${iso(c.windowEnd)} ${c.topic} ${c.count} ${c.distinctAuthors}`)
    .sort();
}

function floeRows(counts: CountsRow[]): string[] {
  return counts
    .map((c) => `${c.window_start} ${c.window_end} ${c.topic} ${c.count} ${c.distinct_authors}`)
    .sort();
}

/** The last counts record per (window_start, topic), in file order: the final counts when lateness emits updates. */
function finalCounts(counts: CountsRow[]): CountsRow[] {
  const last = new Map<string, CountsRow>();
  for (const c of counts) last.set(`${c.window_start} ${c.topic}`, c);
  return [...last.values()];
}

function keysSeenTwice(counts: CountsRow[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const c of counts) {
    const k = `${c.window_start} ${c.topic}`;
    if (seen.has(k)) twice.push(k);
    seen.add(k);
  }
  return twice;
}

/** The first differences between two sorted row lists, for readable failures. */
function diff(actual: string[], expected: string[], max = 10): { missing: string[]; unexpected: string[] } {
  const a = new Set(actual);
  const e = new Set(expected);
  return {
    missing: expected.filter((r) => !a.has(r)).slice(0, max),
    unexpected: actual.filter((r) => !e.has(r)).slice(0, max),
  };
}

function trendRows(trends: TrendsRow[]): string[] {
  return trends
    .map((t) => `${t.window_start} ${t.rank} ${t.topic} ${t.count} ${t.distinct_authors} ${t.score}`)
    .sort();
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A v2 tweet line. */
function v2(id: string, createdAt: string | undefined, author: string, text: string): string {
  const o: Record<string, unknown> = { id, author_id: author, text };
  if (createdAt !== undefined) o.created_at = createdAt;
  return JSON.stringify(o);
}

/** A snowflake id for a time (sequence bits `seq`). */
function snowflake(ms: number, seq: number): string {
  return ((BigInt(ms - 1288834974657) << 22n) | BigInt(seq)).toString();
}

describe('trending job: exact counts against the reference', () => {
  /** Generated tweets, shared by the tests: v1.1 and v2 lines, ~1% duplicates, text-only hashtags, URLs with #fragments. */
  let generated: string[];

  beforeAll(async () => {
    const file = path.join(tmp, 'generated.jsonl');
    // One tweet per second of event time from 2022-01-01: 4000 tweets over ~67 minutes.
    const gen = await runFloe([
      'generate',
      '--count',
      '4000',
      '--out',
      file,
      '--seed',
      '20240601',
      '--events-per-second',
      '1',
    ]);
    if (gen.code !== 0) throw new Error(`floe generate failed: ${gen.stderr}`);
    generated = lines(readFileSync(file, 'utf8'));
  });

  test('real tweets in API v1.1 shape: counts equal the reference at parallelism 1 and 2', async () => {
    const v1: string[] = [];
    for (const name of readdirSync(REAL_DATA)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()) {
      for (const l of lines(readFileSync(path.join(REAL_DATA, name), 'utf8')))
        v1.push(...v2TweetsOfLine(l).map(toV1Line));
    }
    expect(v1.length).toBeGreaterThan(800);
    const file = path.join(tmp, 'real-v1.jsonl');
    writeFileSync(file, v1.join('\n') + '\n');
    const ref = referenceTrending(v1, { sizeMs: 60 * MINUTE });
    expect(ref.failures).toEqual([]);
    const expected = refRows(ref.counts);
    expect(expected.length).toBeGreaterThan(100);
    for (const p of [1, 2]) {
      const { out } = await runTrending(`v1-p${p}`, `file:${file}?split-size=16KB`, [
        '--window',
        '60m',
        '--out-of-orderness',
        '5000d',
        '--parallelism',
        String(p),
      ]);
      expect(floeRows(out.counts)).toEqual(expected);
      expect(out.deadLetters).toEqual([]);
    }
  });

  test('real and generated tweets: counts equal the reference at parallelism 1, 2 and 4', async () => {
    const real: string[] = [];
    for (const name of readdirSync(REAL_DATA)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()) {
      real.push(...lines(readFileSync(path.join(REAL_DATA, name), 'utf8')));
    }
    // Spread the real lines (pages of up to 775 KB, and flat tweets) among the generated ones.
    const input: string[] = [];
    const every = Math.floor(generated.length / real.length);
    generated.forEach((l, i) => {
      if (i % every === 0 && i / every < real.length) input.push(real[i / every]);
      input.push(l);
    });
    expect(input).toHaveLength(real.length + generated.length);
    // The generated lines exercise what they should: v1.1 and v2, hashtags only in text, URLs with #fragments.
    const gen = generated.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(gen.filter((t) => t.id_str !== undefined).length).toBeGreaterThan(100);
    expect(gen.filter((t) => t.entities === undefined && /#/.test(String(t.text))).length).toBeGreaterThan(
      100,
    );
    expect(gen.filter((t) => /https?:\/\/\S*#/.test(String(t.text))).length).toBeGreaterThan(10);
    const file = path.join(tmp, 'mixed.jsonl');
    writeFileSync(file, input.join('\n') + '\n');

    const spec: RefWindowSpec = { sizeMs: 10 * MINUTE };
    const ref = referenceTrending(input, spec);
    expect(ref.failures).toEqual([]);
    expect(ref.tweets).toBeGreaterThan(4800);
    expect(ref.duplicates).toBeGreaterThan(10);
    const windows = new Set(ref.counts.map((c) => c.windowStart));
    expect(windows.size).toBeGreaterThan(10);
    // The author sketch is exact below ~1500 distinct authors; stay under it so equality is the right check.
    expect(Math.max(...ref.counts.map((c) => c.distinctAuthors))).toBeLessThan(1500);
    const expected = refRows(ref.counts);

    // Real pages are in descending time order and span 2010-09-27 to 2022-09-25 (4381 days, so 3650d would
    // make the 2010 tweet late): a bound of 5000 days keeps every record on time.
    const flags = ['--window', '10m', '--out-of-orderness', '5000d', '--top', '10', '--min-count', '2'];
    const source = `file:${file}?split-size=64KB`;
    const runs: { p: number; run: FloeRun; out: FloeOutput }[] = [];
    for (const p of [1, 2, 4]) {
      const { run, out } = await runTrending(`p${p}`, source, [...flags, '--parallelism', String(p)]);
      runs.push({ p, run, out });
    }

    for (const { p, run, out } of runs) {
      const actual = floeRows(out.counts);
      // Counts and exact distinct authors equal the reference.
      expect({ p, ...diff(actual, expected) }).toEqual({ p, missing: [], unexpected: [] });
      expect(actual).toEqual(expected);
      expect(keysSeenTwice(out.counts)).toEqual([]);
      expect(out.deadLetters).toEqual([]);
      expect(run.finished).toMatchObject({
        tweets: ref.tweets,
        duplicates: ref.duplicates,
        late: 0,
        deadLetters: 0,
      });
      // Many splits (pages of up to 775 KB span several).
      expect(run.stderr).toMatch(/"splits":(\d{2,})/);
      // Trends: ranked from 1, consistent with the counts, at least min-count.
      const countsByKey = new Map(out.counts.map((c) => [`${c.window_start} ${c.topic}`, c]));
      const byWindow = new Map<string, TrendsRow[]>();
      for (const t of out.trends) {
        const c = countsByKey.get(`${t.window_start} ${t.topic}`);
        expect(c && { count: c.count, distinct_authors: c.distinct_authors, end: c.window_end }).toEqual({
          count: t.count,
          distinct_authors: t.distinct_authors,
          end: t.window_end,
        });
        expect(t.count).toBeGreaterThanOrEqual(2);
        const list = byWindow.get(t.window_start) ?? [];
        list.push(t);
        byWindow.set(t.window_start, list);
      }
      expect(byWindow.size).toBeGreaterThan(5);
      for (const list of byWindow.values()) {
        expect(list.map((t) => t.rank)).toEqual(list.map((_, i) => i + 1));
        expect(list.length).toBeLessThanOrEqual(10);
      }
    }

    // Identical output at every parallelism: counts, distinct authors, and trends (ranks and scores).
    const [p1, p2, p4] = runs.map((r) => r.out);
    expect(floeRows(p2.counts)).toEqual(floeRows(p1.counts));
    expect(floeRows(p4.counts)).toEqual(floeRows(p1.counts));
    expect(p1.trends.length).toBeGreaterThan(0);
    expect(trendRows(p2.trends)).toEqual(trendRows(p1.trends));
    expect(trendRows(p4.trends)).toEqual(trendRows(p1.trends));
  });

  test('bad records go to dead-letter with their reason and raw text; good ones count', async () => {
    const good = generated.slice(0, 40);
    const t0 = '2022-01-01T00:00:30.000Z';
    const oversize = v2('1477067051804655999', t0, '42', '#padding ' + 'x'.repeat(5 * 1024));
    const bad: { line: string; reason: string }[] = [
      { line: '{"id": "1477067051804655111", "text": "#broken', reason: 'invalid-json' },
      { line: '[{"id": "1477067051804655112", "text": "#inarray"}]', reason: 'not-a-tweet' },
      { line: `{"created_at": "${t0}", "author_id": "7", "text": "no id #noid"}`, reason: 'no-id' },
      {
        line: `{"id": {}, "created_at": "${t0}", "author_id": "7", "text": "#wrongtype"}`,
        reason: 'wrong-type',
      },
      { line: '{"id": "12345", "author_id": "7", "text": "#notime"}', reason: 'no-time' },
      { line: oversize, reason: 'oversize' },
    ];
    const input = [...good.slice(0, 10)];
    bad.forEach((b, i) => input.push(b.line, ...good.slice(10 + i * 5, 15 + i * 5)));
    const file = path.join(tmp, 'bad.jsonl');
    writeFileSync(file, input.join('\n') + '\n');

    const ref = referenceTrending(
      input.filter((l) => l !== oversize),
      { sizeMs: MINUTE },
    );
    // The reference agrees on every reason (oversize aside: it has no size limit).
    expect(ref.failures.map((f) => f.reason)).toEqual(bad.slice(0, -1).map((b) => b.reason));

    const { run, out } = await runTrending('bad', `file:${file}`, [
      '--window',
      '60s',
      '--max-record-bytes',
      '2KB',
      '--parallelism',
      '2',
    ]);
    expect(run.code).toBe(0);
    expect(floeRows(out.counts)).toEqual(refRows(ref.counts));
    expect(out.counts.length).toBeGreaterThan(10);

    const dead = out.deadLetters.map((d) => ({ reason: d.reason, raw: d.raw }));
    const expectedDead = bad.map((b) => ({ reason: b.reason, raw: b.line.slice(0, 1024) }));
    const byRaw = (a: { raw: string }, b: { raw: string }): number =>
      a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0;
    expect(dead.sort(byRaw)).toEqual(expectedDead.sort(byRaw));
    for (const d of out.deadLetters) {
      expect(d.source).toMatch(/^file:bad\.jsonl/);
      expect(d.detail.length).toBeGreaterThan(0);
      if (d.reason !== 'oversize') expect(d.raw_length).toBe(d.raw.length);
    }
    expect(run.finished).toMatchObject({ deadLetters: bad.length, tweets: ref.tweets });
  });

  test('oversize dead letters report the length of the whole record', async () => {
    const line = v2('1477067051804655998', '2022-01-01T00:00:30.000Z', '42', 'x'.repeat(5000) + ' #big');
    const file = path.join(tmp, 'oversize.jsonl');
    writeFileSync(file, line + '\n');
    const { out } = await runTrending('oversize', `file:${file}`, [
      '--max-record-bytes',
      '2KB',
      '--parallelism',
      '1',
    ]);
    expect(out.deadLetters.map((d) => [d.reason, d.raw, d.raw_length])).toEqual([
      ['oversize', line.slice(0, 1024), line.length],
    ]);
  });

  describe('late records', () => {
    const base = Date.parse('2022-03-01T10:00:00.000Z');
    const at = (sec: number): string => iso(base + sec * 1000);
    let n = 0;
    const tw = (sec: number, tag: string, author = 'a'): string =>
      v2(
        snowflake(base + sec * 1000, n++),
        at(sec),
        author === 'a' ? String(100 + n) : author,
        `late test #${tag}`,
      );
    // In event-time order, except the ones marked late: each lags the maximum before it by far more than
    // window (60 s) + out-of-orderness (5 s), so every window it belongs to has already fired.
    const onTime1 = [
      tw(5, 'alpha'),
      tw(20, 'alpha'),
      tw(50, 'beta'),
      tw(70, 'alpha'),
      tw(130, 'alpha'),
      tw(200, 'beta'),
    ];
    const late = [tw(10, 'alpha'), tw(65, 'alpha'), tw(30, 'beta')];
    const onTime2 = [tw(199, 'beta'), tw(240, 'alpha'), tw(260, 'alpha')];
    const input = [...onTime1, ...late, ...onTime2];
    const spec: RefWindowSpec = { sizeMs: MINUTE };
    let file: string;

    beforeAll(() => {
      file = path.join(tmp, 'late.jsonl');
      writeFileSync(file, input.join('\n') + '\n');
    });

    test('behind the watermark by more than the window: dead-letter "late", not counted', async () => {
      const { run, out } = await runTrending('late0', `file:${file}`, [
        '--window',
        '60s',
        '--out-of-orderness',
        '5s',
        '--parallelism',
        '1',
      ]);
      const ref = referenceTrending([...onTime1, ...onTime2], spec);
      expect(floeRows(out.counts)).toEqual(refRows(ref.counts));
      expect(keysSeenTwice(out.counts)).toEqual([]);
      expect(out.deadLetters.map((d) => [d.reason, d.raw])).toEqual(late.map((l) => ['late', l]));
      expect(run.finished).toMatchObject({ late: late.length, deadLetters: late.length });
    });

    test('within allowed lateness: counted, with updated counts records for fired windows', async () => {
      // One record per poll, so each window fires before the late records that update it arrive.
      const { run, out } = await runTrending('late10m', `file:${file}`, [
        '--window',
        '60s',
        '--out-of-orderness',
        '5s',
        '--allowed-lateness',
        '10m',
        '--batch-size',
        '1',
        '--parallelism',
        '1',
      ]);
      const ref = referenceTrending(input, spec);
      expect(out.deadLetters).toEqual([]);
      expect(run.finished).toMatchObject({ late: 0, deadLetters: 0 });
      expect(floeRows(finalCounts(out.counts))).toEqual(refRows(ref.counts));
      // Every late record updated its fired window: an earlier, smaller count precedes the final one.
      const history = (start: number, topic: string): number[] =>
        out.counts.filter((c) => c.window_start === iso(start) && c.topic === topic).map((c) => c.count);
      expect(history(base, '#alpha')).toEqual([2, 3]);
      expect(history(base, '#beta')).toEqual([1, 2]);
      expect(history(base + MINUTE, '#alpha')).toEqual([1, 2]);
      expect(out.counts.length).toBe(ref.counts.length + late.length);
    });
  });

  test('the same tweet in two splits on different workers counts once', async () => {
    const base = Date.parse('2022-04-01T12:00:00.000Z');
    const dup = v2(snowflake(base + 30_000, 7), iso(base + 30_000), '900', 'seen twice #echo #shared');
    const filler: string[] = [];
    for (let i = 0; i < 120; i++) {
      filler.push(
        v2(
          snowflake(base + i * 400, 100 + i),
          iso(base + i * 400),
          String(1000 + (i % 17)),
          `filler ${i} #shared`,
        ),
      );
    }
    const input = [dup, ...filler, dup];
    const file = path.join(tmp, 'dup.jsonl');
    writeFileSync(file, input.join('\n') + '\n');

    const { run, out } = await runTrending('dup', `file:${file}?split-size=1KB`, [
      '--window',
      '60s',
      '--out-of-orderness',
      '1h',
      '--parallelism',
      '2',
    ]);
    // Where the two copies went: the split holding a line is the one with the largest start at or before it.
    const assignment = lines(run.stderr)
      .map((l) => JSON.parse(l) as { msg?: string; worker?: number; splits?: string[] })
      .filter((l) => l.msg === 'split assignment');
    const splitStarts = assignment
      .flatMap((a) => (a.splits ?? []).map((s) => ({ worker: a.worker, start: Number(s.split('@')[1]) })))
      .sort((a, b) => a.start - b.start);
    const workerOf = (offset: number): number | undefined =>
      splitStarts.filter((s) => s.start <= offset).pop()?.worker;
    const lastOffset = Buffer.byteLength(input.slice(0, -1).join('\n') + '\n');
    expect(splitStarts.length).toBeGreaterThan(5);
    expect(workerOf(0)).not.toBe(workerOf(lastOffset));

    const ref = referenceTrending(input, { sizeMs: MINUTE });
    expect(ref.duplicates).toBe(1);
    expect(floeRows(out.counts)).toEqual(refRows(ref.counts));
    expect(out.counts.filter((c) => c.topic === '#echo').map((c) => c.count)).toEqual([1]);
    expect(run.finished).toMatchObject({ duplicates: 1, deadLetters: 0 });
  });

  test('sliding windows: every tweet counts in size/slide windows', async () => {
    const input = generated.slice(0, 1500);
    const file = path.join(tmp, 'sliding.jsonl');
    writeFileSync(file, input.join('\n') + '\n');
    const spec: RefWindowSpec = { sizeMs: MINUTE, slideMs: 20_000 };
    const ref = referenceTrending(input, spec);
    const tumbling = referenceTrending(input, { sizeMs: 20_000 });

    const { run, out } = await runTrending('sliding', `file:${file}?split-size=16KB`, [
      '--window',
      '60s',
      '--slide',
      '20s',
      '--parallelism',
      '2',
    ]);
    expect(run.finished).toMatchObject({ late: 0, deadLetters: 0 });
    expect(floeRows(out.counts)).toEqual(refRows(ref.counts));
    expect(keysSeenTwice(out.counts)).toEqual([]);
    // Each (tweet, topic) lands in exactly 3 windows: 3x the tumbling 20 s total.
    const total = (rows: { count: number }[]): number => rows.reduce((s, c) => s + c.count, 0);
    expect(total(out.counts)).toBe(3 * total(tumbling.counts));
    for (const c of out.counts) {
      expect(Date.parse(c.window_end) - Date.parse(c.window_start)).toBe(MINUTE);
      expect(Date.parse(c.window_start) % 20_000).toBe(0);
    }
  });

  describe('bad options exit with code 2 and name the option', () => {
    let file: string;
    beforeAll(() => {
      file = path.join(tmp, 'options.jsonl');
      writeFileSync(file, generated.slice(0, 5).join('\n') + '\n');
    });

    test('--window banana', async () => {
      const dir = outDir('banana');
      const run = await runFloe([
        'run',
        'trending',
        '--source',
        `file:${file}`,
        '--sink',
        `file:${dir}`,
        '--view',
        'off',
        '--window',
        'banana',
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/window/);
      expect(run.stderr).toMatch(/banana/);
      expect(run.stderr).not.toMatch(/job starting/);
    });

    test('unknown query option file:X?nope=1', async () => {
      const dir = outDir('nope');
      const run = await runFloe([
        'run',
        'trending',
        '--source',
        `file:${file}?nope=1`,
        '--sink',
        `file:${dir}`,
        '--view',
        'off',
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/nope/);
      expect(run.stderr).not.toMatch(/job starting/);
    });
  });
});
