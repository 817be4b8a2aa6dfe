/**
 * State TTL over a long run: drives a DedupePreAggregator and a
 * TopicWindowOperator together (as the trending worker does: partials flushed
 * into the window stage every step, both advanced by the same watermark) over
 * 3 hours of synthetic event time with a rotating hashtag vocabulary, and
 * checks that every piece of state stays within a band once warmed up. A
 * second run with a dedupe horizon as long as the stream shows that the same
 * measurements do detect growth when nothing expires.
 *
 * Deterministic: seeded PRNG, event time only (no wall clock).
 */
import { DedupePreAggregator, partialsOf } from '../../src/jobs/trending/dedupe-pre-aggregator';
import { TopicWindowOperator } from '../../src/jobs/trending/topic-window-operator';
import { MAX_GAP_WINDOWS } from '../../src/jobs/trending/trend-score';
import { TopicMirror } from '../../src/jobs/trending/topic-dictionary';
import { TweetBatchBuilder } from '../../src/jobs/trending/tweet-batch';
import type { WindowSpec } from '../../src/runtime/windows';

const SEC = 1_000;
const MIN = 60 * SEC;
/** Aligned to 10 minutes, so vocabulary periods start on sample boundaries. */
const BASE = 2_833_334 * 10 * MIN;
const DURATION_MS = 180 * MIN;
const TWEETS_PER_SEC = 20;
const OUT_OF_ORDER_MS = 5 * SEC;
const SAMPLE_EVERY_MS = 10 * MIN;
/** Every 10 minutes of event time, a new set of this many topics replaces the old. */
const VOCAB_PERIOD_MS = 10 * MIN;
const VOCAB_SIZE = 50;
const AUTHORS = 5_000;
const MAX_PARALLELISM = 128;

const SPEC: WindowSpec = { sizeMs: MIN, slideMs: MIN };
const ALLOWED_LATENESS_MS = 30 * SEC;

interface Sample {
  minute: number;
  dedupe: number;
  openWindows: number;
  /** Most open windows after any step since the previous sample. */
  maxOpenWindows: number;
  history: number;
  snapshotBytes: number;
}

interface RunResult {
  samples: Sample[];
  duplicates: number;
  late: number;
  expiredPartials: number;
  fired: number;
}

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function snapshotBytes(...blobs: Iterable<Buffer>[]): number {
  let n = 0;
  for (const it of blobs) for (const b of it) n += b.length;
  return n;
}

function simulate(dedupeHorizonMs: number): RunResult {
  const rand = prng(42);
  const pre = new DedupePreAggregator({
    spec: SPEC,
    allowedLatenessMs: ALLOWED_LATENESS_MS,
    dedupeHorizonMs,
    maxHeld: 1_000_000,
  });
  const op = new TopicWindowOperator(
    { spec: SPEC, allowedLatenessMs: ALLOWED_LATENESS_MS, minCount: 1, top: 10, trendAlpha: 0.3 },
    () => undefined,
  );
  const result: RunResult = { samples: [], duplicates: 0, late: 0, expiredPartials: 0, fired: 0 };
  let nextId = 0;
  let maxTs = Number.NEGATIVE_INFINITY;
  let maxOpenWindows = 0;
  const lateThresholds = new Float64Array(TWEETS_PER_SEC).fill(Number.NEGATIVE_INFINITY);

  for (let stepStart = BASE; stepStart < BASE + DURATION_MS; stepStart += SEC) {
    // One step = one second of event time: 20 tweets, some up to 4 s out of order (never late).
    const ids: string[] = [];
    const timestamps = new Float64Array(TWEETS_PER_SEC);
    const authors: string[] = [];
    const offsets = [0];
    const topics: string[] = [];
    for (let i = 0; i < TWEETS_PER_SEC; i++) {
      const inOrder = stepStart + Math.floor((i * SEC) / TWEETS_PER_SEC);
      const ts = rand() < 0.1 ? Math.max(BASE, inOrder - Math.floor(rand() * 4 * SEC)) : inOrder;
      // Fixed width (like snowflake ids), so snapshot bytes track the amount of state, not digit counts.
      ids.push(`t${String(nextId++).padStart(10, '0')}`);
      timestamps[i] = ts;
      authors.push(`@u${Math.floor(rand() * AUTHORS)}`);
      const period = Math.floor(ts / VOCAB_PERIOD_MS);
      const n = rand() < 0.5 ? 1 : 2;
      const first = Math.floor(rand() * VOCAB_SIZE);
      for (let j = 0; j < n; j++) topics.push(`#t${period * VOCAB_SIZE + ((first + j * 17) % VOCAB_SIZE)}`);
      offsets.push(topics.length);
      if (ts > maxTs) maxTs = ts;
    }
    const builder = new TweetBatchBuilder(TWEETS_PER_SEC);
    for (let i = 0; i < TWEETS_PER_SEC; i++)
      builder.add(
        ids[i],
        timestamps[i],
        authors[i],
        topics.slice(offsets[i], offsets[i + 1]),
        lateThresholds[i],
      );
    const b = builder.build().batch;
    const mirror = new TopicMirror();
    mirror.apply(b);
    const outcome = pre.addBatch(b, mirror);
    result.duplicates += outcome.duplicates;
    result.late += outcome.late.length;

    // Flush into the window stage before forwarding the watermark, as the worker does.
    for (const p of partialsOf(pre.flush())) op.addPartial(p.start, p.topic, p.count, p.authors);
    const wm = maxTs - OUT_OF_ORDER_MS;
    pre.advance(wm);
    result.fired += op.advance(wm).length;
    maxOpenWindows = Math.max(maxOpenWindows, op.openWindows());

    const elapsed = stepStart + SEC - BASE;
    if (elapsed % SAMPLE_EVERY_MS === 0) {
      const a = pre.snapshot(MAX_PARALLELISM);
      const w = op.snapshot(MAX_PARALLELISM);
      result.samples.push({
        minute: elapsed / MIN,
        dedupe: pre.dedupeSize(),
        openWindows: op.openWindows(),
        maxOpenWindows,
        history: op.historySize(),
        snapshotBytes: snapshotBytes(a.keyGroups.values(), w.keyGroups.values()),
      });
      maxOpenWindows = 0;
    }
  }
  result.expiredPartials = op.expiredPartials;
  return result;
}

type Metric = Exclude<keyof Sample, 'minute'>;

function at(samples: Sample[], minute: number): Sample {
  const s = samples.find((x) => x.minute === minute);
  if (s === undefined) throw new Error(`no sample at minute ${minute}`);
  return s;
}

/** Samples after the warm-up stay within `factor` of the value at its end; the last one too. */
function expectBounded(samples: Sample[], metric: Metric, warmUpMinute: number, factor = 1.3): void {
  const ref = at(samples, warmUpMinute)[metric];
  const after = samples.filter((s) => s.minute >= warmUpMinute).map((s) => s[metric]);
  const series = samples.map((s) => `${s.minute}m=${s[metric]}`).join(' ');
  if (!(ref > 0)) throw new Error(`${metric} is ${ref} at the end of the warm-up; ${series}`);
  const max = Math.max(...after);
  const last = after[after.length - 1];
  if (max > factor * ref || last > factor * ref) {
    throw new Error(
      `${metric} is not bounded after ${warmUpMinute} min: ${ref} then, max ${max}, last ${last} (factor ${factor}); ${series}`,
    );
  }
}

describe('state TTL over a long run (3 h of event time, 20 tweets/s, rotating topics)', () => {
  const WARM_UP_MIN = 30;
  /**
   * A topic's trend history lives MAX_GAP_WINDOWS slides past its last window,
   * so with a vocabulary rotating every 10 minutes the history reaches its
   * steady state only after one period plus that gap (plus a window and the
   * watermark lag); before, it grows legitimately.
   */
  const HISTORY_WARM_UP_MIN =
    Math.ceil(
      (VOCAB_PERIOD_MS + MAX_GAP_WINDOWS * SPEC.slideMs + SPEC.sizeMs + OUT_OF_ORDER_MS) / (10 * MIN),
    ) * 10;

  let ttl: RunResult;
  let noExpiry: RunResult;

  beforeAll(() => {
    ttl = simulate(10 * MIN);
    noExpiry = simulate(DURATION_MS);
  });

  it('drives the stages cleanly: no duplicates, no late records, no expired partials, a window per minute', () => {
    for (const r of [ttl, noExpiry]) {
      expect(r.duplicates).toBe(0);
      expect(r.late).toBe(0);
      expect(r.expiredPartials).toBe(0);
      expect(r.fired).toBeGreaterThanOrEqual(DURATION_MS / MIN - 1);
      expect(r.samples.map((s) => s.minute)).toEqual(
        Array.from({ length: DURATION_MS / SAMPLE_EVERY_MS }, (_, i) => (i + 1) * 10),
      );
    }
  });

  it('with a 10 min dedupe horizon, the dedupe ids stay within a band after warm-up', () => {
    expectBounded(ttl.samples, 'dedupe', WARM_UP_MIN);
    // And within the horizon's worth of tweets: horizon + one bucket + watermark lag.
    const bound = TWEETS_PER_SEC * ((10 * MIN + MIN + OUT_OF_ORDER_MS) / SEC);
    for (const s of ttl.samples) expect(s.dedupe).toBeLessThanOrEqual(bound);
  });

  it('open windows stay bounded by window size + allowed lateness + watermark lag', () => {
    expectBounded(ttl.samples, 'openWindows', WARM_UP_MIN);
    expectBounded(ttl.samples, 'maxOpenWindows', WARM_UP_MIN);
    const bound = Math.ceil((SPEC.sizeMs + ALLOWED_LATENESS_MS + OUT_OF_ORDER_MS) / SPEC.slideMs) + 1;
    for (const s of [...ttl.samples, ...noExpiry.samples])
      expect(s.maxOpenWindows).toBeLessThanOrEqual(bound);
  });

  it('topic history is pruned after MAX_GAP_WINDOWS: bounded by the topics of the last gap', () => {
    expectBounded(ttl.samples, 'history', HISTORY_WARM_UP_MIN);
    // It does grow until then (one vocabulary per 10 min), so the 30 min warm-up is too short for it.
    expect(() => expectBounded(ttl.samples, 'history', WARM_UP_MIN)).toThrow(/history is not bounded/);
    // At most the vocabularies whose last window lies within MAX_GAP_WINDOWS slides, plus the current one.
    const periods = Math.ceil((MAX_GAP_WINDOWS * SPEC.slideMs + SPEC.sizeMs) / VOCAB_PERIOD_MS) + 1;
    for (const s of ttl.samples) expect(s.history).toBeLessThanOrEqual(periods * VOCAB_SIZE);
    // 3 h saw 18 vocabularies (900 topics); the history holds far fewer.
    expect(at(ttl.samples, 180).history).toBeLessThan((DURATION_MS / VOCAB_PERIOD_MS) * VOCAB_SIZE);
  });

  it('the snapshot size (both stages, after flushing) stays within a band after warm-up', () => {
    expectBounded(ttl.samples, 'snapshotBytes', WARM_UP_MIN);
  });

  it('sanity: without expiry (horizon = 3 h) the same measurements show linear growth', () => {
    const s = noExpiry.samples;
    const perSample = TWEETS_PER_SEC * (SAMPLE_EVERY_MS / SEC);
    // Every 10 minutes adds ~12k ids, none expire.
    for (let i = 1; i < s.length; i++) {
      const growth = s[i].dedupe - s[i - 1].dedupe;
      expect(growth).toBeGreaterThan(0.9 * perSample);
      expect(growth).toBeLessThan(1.1 * perSample);
    }
    const ref = at(s, WARM_UP_MIN);
    const last = s[s.length - 1];
    expect(last.dedupe).toBeGreaterThan(5 * ref.dedupe);
    expect(last.snapshotBytes).toBeGreaterThan(3 * ref.snapshotBytes);
    // The band check used above would catch it.
    expect(() => expectBounded(s, 'dedupe', WARM_UP_MIN)).toThrow(/dedupe is not bounded/);
    expect(() => expectBounded(s, 'snapshotBytes', WARM_UP_MIN)).toThrow(/snapshotBytes is not bounded/);
    // The window stage is unaffected by the dedupe horizon.
    expect(s.map((x) => x.history)).toEqual(ttl.samples.map((x) => x.history));
  });
});
