/**
 * Operator harness for checkpoints: drives one stateful operator of the
 * trending job directly (no threads) through a scripted sequence, snapshots
 * it at every step, restores into fresh operators (the same key groups, or
 * split over two as after rescaling) and checks that the output of the
 * restored run(s) continues the unbroken run exactly.
 */
import { crc32 } from 'node:zlib';
import { keyGroupOf } from '../../src/runtime/key-groups';
import { isWindowComplete, isWindowExpired, lastWindowStart, WindowSpec } from '../../src/runtime/windows';
import { HyperLogLog } from '../../src/state/hyperloglog';
import {
  TopicWindowOperator,
  TopicWindowOptions,
  TopicWindowSnapshot,
  WindowCount,
} from '../../src/jobs/trending/topic-window-operator';
import { compareCandidates, FiredWindow } from '../../src/jobs/trending/trend-candidates';
import {
  DedupePreAggregator,
  DedupePreAggregatorOptions,
  DedupeSnapshot,
  partialsOf,
  TopicPartial,
} from '../../src/jobs/trending/dedupe-pre-aggregator';
import { DedupeState, encodeDelta } from '../../src/jobs/trending/dedupe';
import { BlobWriter } from '../../src/jobs/trending/state-codec';
import { received, type TestTweet } from '../support/tweet-batch';
import { mulberry32 as prng } from '../support/prng';

const MAX_P = 128;
const SEC = 1000;
const MIN = 60 * SEC;

/** Splits key groups as two workers of parallelism 2 would own them. */
const lowHalf = (key: string): boolean => keyGroupOf(key, MAX_P) < MAX_P / 2;

function splitBlobs(keyGroups: Map<number, Buffer>): [Buffer[], Buffer[]] {
  const low: Buffer[] = [];
  const high: Buffer[] = [];
  for (const [kg, blob] of keyGroups) (kg < MAX_P / 2 ? low : high).push(blob);
  return [low, high];
}

/** Recomputes a blob's trailing CRC32 after editing it, so the structural checks are reached. */
function withCrc(body: Buffer): Buffer {
  const out = Buffer.from(body);
  out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

// ---------------------------------------------------------------------------
// TopicWindowOperator

type WindowStep =
  | { kind: 'partial'; start: number; topic: string; count: number; authors: HyperLogLog }
  | { kind: 'watermark'; wm: number };

interface WindowStepOutput {
  /** Counts emitted during the step, sorted: the order within one fire follows arrival order of topics, which a merge of key groups does not keep. */
  counts: string[];
  fired: FiredWindow[];
}

const fmtCount = (c: WindowCount): string =>
  `${c.start}..${c.end} ${c.topic} count=${c.count} authors=${c.distinctAuthors}`;

class WindowRun {
  readonly op: TopicWindowOperator;
  private emitted: WindowCount[] = [];

  constructor(readonly options: TopicWindowOptions) {
    this.op = new TopicWindowOperator(options, (c) => this.emitted.push(c));
  }

  step(s: WindowStep): WindowStepOutput {
    this.emitted = [];
    let fired: FiredWindow[] = [];
    // The operator keeps (and merges into) the sketch it is given: hand it a copy so steps can be replayed.
    if (s.kind === 'partial') this.op.addPartial(s.start, s.topic, s.count, s.authors.clone());
    else fired = this.op.advance(s.wm);
    return { counts: this.emitted.map(fmtCount).sort(), fired };
  }
}

const TOPICS = [
  '#café',
  '#日本語',
  '$btc',
  '#\ud83d\ude00',
  '#lone\ud800surrogate', // not representable in UTF-8: checks the UTF-16 string form
  ...Array.from({ length: 44 }, (_, i) => `#t${i}`),
];

/**
 * A scripted run: one slide per phase; per phase, partials (as pre-aggregation
 * sends them: one per window containing the phase) for the active topics,
 * then a watermark (sometimes lagging, sometimes repeated), then late
 * partials: for the latest fired window within lateness (a known topic and a
 * new one) and for an expired window. Topic groups: always there, bursty,
 * on/off every 4 phases (history with gaps), rare. One phase has no data at
 * all (its windows get state only from late partials), one partial has a
 * dense author sketch. Ends with the final watermark and a partial after it.
 */
function windowScript(
  spec: WindowSpec,
  allowedLatenessMs: number,
  phases: number,
  seed: number,
): WindowStep[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const steps: WindowStep[] = [];
  const s = spec.slideMs;
  const perPhase = spec.sizeMs / s;
  const sketch = (topic: string): HyperLogLog => {
    const h = new HyperLogLog();
    const n = Math.floor(rnd() * 4); // 0..3 authors, from a small pool per topic: overlaps across partials
    for (let i = 0; i < n; i++) h.add(`${topic}-user${Math.floor(rnd() * 8)}`);
    return h;
  };
  let wm = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < phases; p++) {
    const quiet = p === 9;
    const active = TOPICS.filter((_topic, i) => {
      if (quiet) return false;
      if (i < 4) return true;
      if (i < 16) return rnd() < 0.2;
      if (i < 24) return Math.floor(p / 4) % 2 === 0;
      return rnd() < 0.06;
    });
    const partials: WindowStep[] = [];
    for (const topic of active) {
      for (let j = 0; j < perPhase; j++) {
        partials.push({
          kind: 'partial',
          start: (p - j) * s,
          topic,
          count: 1 + Math.floor(rnd() * 4),
          authors: sketch(topic),
        });
      }
    }
    if (p === 4) {
      const dense = new HyperLogLog();
      for (let i = 0; i < 2000; i++) dense.add(`crowd${i}`);
      expect(dense.isDense()).toBe(true);
      partials.push({ kind: 'partial', start: p * s, topic: '#t0', count: 2000, authors: dense });
    }
    for (let i = partials.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [partials[i], partials[j]] = [partials[j], partials[i]];
    }
    steps.push(...partials);
    const lag = !quiet && rnd() < 0.3 ? s / 2 : 0;
    wm = Math.max(wm, (p + 1) * s - 1 - lag);
    steps.push({ kind: 'watermark', wm });
    if (rnd() < 0.2) steps.push({ kind: 'watermark', wm: wm - 5 * SEC }); // does not move
    const latest = lastWindowStart(wm - spec.sizeMs + 1, s);
    if (isWindowComplete(latest, spec, wm) && !isWindowExpired(latest, spec, allowedLatenessMs, wm)) {
      steps.push({
        kind: 'partial',
        start: latest,
        topic: pick(TOPICS.slice(0, 4)),
        count: 1,
        authors: sketch('late'),
      });
      steps.push({
        kind: 'partial',
        start: latest,
        topic: pick(TOPICS.slice(24)),
        count: 2,
        authors: sketch('late'),
      });
    }
    const old = latest - Math.ceil((allowedLatenessMs + spec.sizeMs) / s) * s;
    if (isWindowExpired(old, spec, allowedLatenessMs, wm))
      steps.push({ kind: 'partial', start: old, topic: pick(TOPICS), count: 1, authors: sketch('old') });
  }
  steps.push({ kind: 'watermark', wm: Number.POSITIVE_INFINITY });
  steps.push({ kind: 'partial', start: 0, topic: '#t1', count: 1, authors: sketch('old') });
  return steps;
}

function mergeFired(lists: FiredWindow[][], top: number): FiredWindow[] {
  const byStart = new Map<number, FiredWindow>();
  for (const list of lists) {
    for (const w of list) {
      const m = byStart.get(w.start);
      if (m === undefined)
        byStart.set(w.start, { start: w.start, end: w.end, candidates: [...w.candidates] });
      else m.candidates.push(...w.candidates);
    }
  }
  return [...byStart.values()]
    .sort((a, b) => a.start - b.start)
    .map((w) => ({ ...w, candidates: w.candidates.sort(compareCandidates).slice(0, top) }));
}

const windowConfigs: { name: string; spec: WindowSpec; allowedLatenessMs: number; phases: number }[] = [
  {
    name: 'sliding 60s/20s, lateness 40s',
    spec: { sizeMs: MIN, slideMs: 20 * SEC },
    allowedLatenessMs: 40 * SEC,
    phases: 16,
  },
  {
    name: 'tumbling 60s, lateness 150s',
    spec: { sizeMs: MIN, slideMs: MIN },
    allowedLatenessMs: 150 * SEC,
    phases: 20,
  },
  { name: 'tumbling 60s, lateness 0', spec: { sizeMs: MIN, slideMs: MIN }, allowedLatenessMs: 0, phases: 20 },
];

describe.each(windowConfigs)(
  'TopicWindowOperator snapshot/restore: $name',
  ({ spec, allowedLatenessMs, phases }) => {
    const options: TopicWindowOptions = { spec, allowedLatenessMs, minCount: 2, top: 3, trendAlpha: 0.4 };
    let steps: WindowStep[];
    let unbroken: WindowRun;
    const outputs: WindowStepOutput[] = [];
    const snapshots: TopicWindowSnapshot[] = [];
    let final: TopicWindowSnapshot;

    beforeAll(() => {
      steps = windowScript(spec, allowedLatenessMs, phases, 7 + spec.slideMs + allowedLatenessMs);
      // One unbroken run, snapshotting before every step (and after the last).
      unbroken = new WindowRun(options);
      for (const s of steps) {
        snapshots.push(unbroken.op.snapshot(MAX_P));
        outputs.push(unbroken.step(s));
      }
      snapshots.push(unbroken.op.snapshot(MAX_P));
      final = snapshots[steps.length];
    });

    it('the script exercises what matters (late updates, expired partials, history, both key group halves)', () => {
      expect(steps.length).toBeGreaterThan(150);
      const fired = outputs.flatMap((o) => o.fired);
      const lateUpdates = steps.filter((s, i) => s.kind === 'partial' && outputs[i].counts.length > 0).length;
      if (allowedLatenessMs > 0) expect(lateUpdates).toBeGreaterThan(5);
      expect(unbroken.op.expiredPartials).toBeGreaterThan(3);
      // Topics scored against a history (a new topic scores exactly its count).
      expect(fired.flatMap((w) => w.candidates).filter((c) => c.score !== c.count).length).toBeGreaterThan(
        10,
      );
      expect(fired.some((w) => w.candidates.length === options.top)).toBe(true);
      const topics = new Set(fired.flatMap((w) => w.candidates.map((c) => c.topic)));
      expect([...topics].some(lowHalf)).toBe(true);
      expect([...topics].some((t) => !lowHalf(t))).toBe(true);
      // The topic that needs the UTF-16 string form is in the state.
      expect(outputs.some((o) => o.counts.some((c) => c.includes('#lone\ud800surrogate')))).toBe(true);
    });

    it('snapshotting neither changes the run nor depends on anything but the state', () => {
      const plain = new WindowRun(options);
      expect(steps.map((s) => plain.step(s))).toEqual(outputs);
      expect(plain.op.snapshot(MAX_P)).toEqual(final);
      const mid = Math.floor(steps.length / 2);
      const again = new WindowRun(options);
      for (const s of steps.slice(0, mid)) again.step(s);
      expect(again.op.snapshot(MAX_P)).toEqual(snapshots[mid]);
      expect(again.op.snapshot(MAX_P)).toEqual(snapshots[mid]);
    });

    it('restoring at every step k and continuing gives the output of the unbroken run', () => {
      const expected = outputs.map((o) => JSON.stringify(o));
      for (let k = 0; k <= steps.length; k++) {
        const snap = snapshots[k];
        const restored = new WindowRun(options);
        restored.op.restore(snap.watermark, snap.keyGroups.values(), snap.expiredPartials);
        expect(restored.op.watermark()).toBe(snap.watermark);
        // Restored state snapshots to the same bytes.
        if (k % 25 === 0) expect(restored.op.snapshot(MAX_P)).toEqual(snap);
        const rest = steps.slice(k).map((s) => restored.step(s));
        expectSameOutput(k, [...outputs.slice(0, k), ...rest], expected);
        expect(restored.op.expiredPartials).toBe(unbroken.op.expiredPartials);
        if (!sameBlobs(restored.op.snapshot(MAX_P).keyGroups, final.keyGroups))
          expect({ restoredAt: k, final: restored.op.snapshot(MAX_P) }).toEqual({ restoredAt: k, final });
      }
    });

    it('rescaling: key groups 0-63 and 64-127 restored on two operators give the same output', () => {
      const expected = outputs.map((o) => JSON.stringify(o));
      for (let k = 0; k <= steps.length; k++) {
        const snap = snapshots[k];
        const [lowBlobs, highBlobs] = splitBlobs(snap.keyGroups);
        const low = new WindowRun(options);
        const high = new WindowRun(options);
        low.op.restore(snap.watermark, lowBlobs, snap.expiredPartials);
        high.op.restore(snap.watermark, highBlobs);
        const rest = steps.slice(k).map((s): WindowStepOutput => {
          if (s.kind === 'partial') return (lowHalf(s.topic) ? low : high).step(s);
          const a = low.step(s);
          const b = high.step(s);
          return {
            counts: [...a.counts, ...b.counts].sort(),
            fired: mergeFired([a.fired, b.fired], options.top),
          };
        });
        expectSameOutput(k, [...outputs.slice(0, k), ...rest], expected);
        expect(low.op.expiredPartials + high.op.expiredPartials).toBe(unbroken.op.expiredPartials);
        // Fewer than MAX_GAP_WINDOWS windows: no history is pruned, so the state is the same too.
        const union = new Map([...low.op.snapshot(MAX_P).keyGroups, ...high.op.snapshot(MAX_P).keyGroups]);
        if (!sameBlobs(union, final.keyGroups))
          expect({ restoredAt: k, keyGroups: union }).toEqual({ restoredAt: k, keyGroups: final.keyGroups });
      }
    });
  },
);

/**
 * Checks a run's output (one entry per step) against the expected, comparing
 * JSON forms: the loops above compare hundreds of runs, too many for deep
 * equality. On a mismatch, fails with the first differing step.
 */
function expectSameOutput(k: number, actual: unknown[], expected: string[]): void {
  const json = actual.map((o) => JSON.stringify(o));
  if (json.length === expected.length && json.every((x, i) => x === expected[i])) return;
  const step = json.findIndex((x, i) => x !== expected[i]);
  expect({ restoredAt: k, step, output: json[step] }).toEqual({
    restoredAt: k,
    step,
    output: expected[step],
  });
}

/** Whether two snapshots' key group blobs are the same bytes. */
function sameBlobs(a: Map<number, Buffer>, b: Map<number, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [kg, blob] of a) {
    const other = b.get(kg);
    if (other === undefined || !other.equals(blob)) return false;
  }
  return true;
}

describe('TopicWindowOperator restore: fired flags', () => {
  const spec: WindowSpec = { sizeMs: MIN, slideMs: MIN };
  const options: TopicWindowOptions = {
    spec,
    allowedLatenessMs: 5 * MIN,
    minCount: 1,
    top: 10,
    trendAlpha: 0.5,
  };
  const hll = (...authors: string[]): HyperLogLog => {
    const h = new HyperLogLog();
    for (const a of authors) h.add(a);
    return h;
  };
  // Three topics in three different key groups, two of them in the low half, one in the high half.
  const low = TOPICS.filter(lowHalf);
  const a = low[0];
  const c = low.find((t) => keyGroupOf(t, MAX_P) !== keyGroupOf(a, MAX_P)) as string;
  const b = TOPICS.find((t) => !lowHalf(t)) as string;

  it('a fired window is not fired again after restore, and late partials still emit updates', () => {
    const run = new WindowRun(options);
    run.step({ kind: 'partial', start: 0, topic: a, count: 2, authors: hll('u1') });
    run.step({ kind: 'partial', start: 0, topic: b, count: 3, authors: hll('u2') });
    expect(run.step({ kind: 'watermark', wm: MIN - 1 }).fired).toHaveLength(1);
    const snap = run.op.snapshot(MAX_P);
    const restored = new WindowRun(options);
    restored.op.restore(snap.watermark, snap.keyGroups.values());
    expect(restored.op.openWindows()).toBe(1);
    expect(
      restored.step({ kind: 'partial', start: 0, topic: a, count: 1, authors: hll('u3') }).counts,
    ).toEqual([`0..60000 ${a} count=3 authors=2`]);
    expect(restored.step({ kind: 'watermark', wm: 2 * MIN - 1 })).toEqual({ counts: [], fired: [] });
    expect(restored.step({ kind: 'watermark', wm: Number.POSITIVE_INFINITY })).toEqual({
      counts: [],
      fired: [],
    });
  });

  it('merging workers whose watermarks differ (restored at the minimum) fires each topic once', () => {
    // Worker A (owns a and c) is ahead and fired windows 0, 60_000 and 120_000; worker B (owns b) fired none.
    const wA = new WindowRun(options);
    wA.step({ kind: 'partial', start: 0, topic: a, count: 2, authors: hll('u1') });
    wA.step({ kind: 'partial', start: MIN, topic: a, count: 4, authors: hll('u1') });
    wA.step({ kind: 'partial', start: MIN, topic: c, count: 1, authors: hll('u1') });
    wA.step({ kind: 'partial', start: 2 * MIN, topic: a, count: 1, authors: hll('u1') });
    const firedA = wA.step({ kind: 'watermark', wm: 3 * MIN - 1 }).fired;
    expect(firedA.map((w) => w.start)).toEqual([0, MIN, 2 * MIN]);
    const wB = new WindowRun(options);
    wB.step({ kind: 'partial', start: 0, topic: b, count: 5, authors: hll('u2') });
    wB.step({ kind: 'watermark', wm: MIN - 10 });
    const sa = wA.op.snapshot(MAX_P);
    const sb = wB.op.snapshot(MAX_P);
    const watermark = Math.min(sa.watermark, sb.watermark);

    const check = (op: WindowRun): void => {
      // a fired in window 0 (on A): a late partial emits an update at once; b did not: it waits for the fire.
      expect(op.step({ kind: 'partial', start: 0, topic: a, count: 1, authors: hll('u3') }).counts).toEqual([
        `0..60000 ${a} count=3 authors=2`,
      ]);
      expect(op.step({ kind: 'partial', start: 0, topic: b, count: 1, authors: hll('u3') }).counts).toEqual(
        [],
      );
      // Window 60_000 fired on A, but is not complete at the restored watermark: a new topic is on time.
      expect(op.step({ kind: 'partial', start: MIN, topic: b, count: 1, authors: hll('u4') }).counts).toEqual(
        [],
      );
      // Windows 0 and 60_000 fire for b only: a and c fired on A already.
      const out = op.step({ kind: 'watermark', wm: 2 * MIN - 1 });
      expect(out.fired).toEqual([
        { start: 0, end: MIN, candidates: [{ topic: b, count: 6, distinctAuthors: 2, score: 6 }] },
        {
          start: MIN,
          end: 2 * MIN,
          // Against b's history after window 0: mean 3, variance 9.
          candidates: [
            { topic: b, count: 1, distinctAuthors: 1, score: Math.round((-2 / Math.sqrt(10)) * 1e4) / 1e4 },
          ],
        },
      ]);
      expect(out.counts).toEqual([`0..60000 ${b} count=6 authors=2`, `60000..120000 ${b} count=1 authors=1`]);
      expect(op.step({ kind: 'partial', start: MIN, topic: c, count: 1, authors: hll('u9') }).counts).toEqual(
        [`60000..120000 ${c} count=2 authors=2`],
      );
      // Window 120_000 fired on A for every topic it has: it fires nothing again, not even an empty list.
      expect(op.step({ kind: 'watermark', wm: Number.POSITIVE_INFINITY })).toEqual({ counts: [], fired: [] });
    };

    const merged = new WindowRun(options);
    merged.op.restore(watermark, [...sa.keyGroups.values(), ...sb.keyGroups.values()]);
    // The partly fired state survives a snapshot of its own (per-topic fired flags).
    const again = new WindowRun(options);
    const snap = merged.op.snapshot(MAX_P);
    again.op.restore(snap.watermark, snap.keyGroups.values());
    check(merged);
    check(again);
  });

  it('refuses to restore into an operator that has state or a watermark', () => {
    const run = new WindowRun(options);
    run.step({ kind: 'partial', start: 0, topic: a, count: 1, authors: hll('u1') });
    const snap = run.op.snapshot(MAX_P);
    expect(() => run.op.restore(snap.watermark, snap.keyGroups.values())).toThrow(/must be fresh/);
    const advanced = new WindowRun(options);
    advanced.op.advance(5);
    expect(() => advanced.op.restore(snap.watermark, snap.keyGroups.values())).toThrow(/must be fresh/);
  });
});

// ---------------------------------------------------------------------------
// DedupePreAggregator

type Tweet = TestTweet;

type DedupeStep = { kind: 'batch'; tweets: Tweet[] } | { kind: 'watermark'; wm: number };

interface DedupeStepOutput {
  duplicates: number;
  late: string[];
  partials: TopicPartial[];
  /** dedupeSize() after the step. */
  size: number;
}

const fmtPartial = (p: TopicPartial): string =>
  `${p.start} ${p.topic} count=${p.count} authors=${p.authors.estimate()}`;

/** Partials as flushed, one line each: the exact output of one operator. */
const exact = (o: DedupeStepOutput) => ({ ...o, partials: o.partials.map(fmtPartial).sort() });

/** Partials summed per (window, topic), as the window stage would merge them: comparable across a split. */
function aggregated(o: DedupeStepOutput) {
  const m = new Map<string, TopicPartial>();
  for (const p of o.partials) {
    const key = `${p.start} ${p.topic}`;
    const e = m.get(key);
    if (e === undefined) m.set(key, { ...p, authors: p.authors.clone() });
    else {
      e.count += p.count;
      e.authors.merge(p.authors);
    }
  }
  return { ...o, partials: [...m.values()].map(fmtPartial).sort() };
}

class DedupeRun {
  readonly op: DedupePreAggregator;
  constructor(options: DedupePreAggregatorOptions) {
    this.op = new DedupePreAggregator(options);
  }

  /** A batch, then the flush the stage does before forwarding anything (so nothing is held between steps). */
  step(s: DedupeStep): DedupeStepOutput {
    if (s.kind === 'watermark') {
      this.op.advance(s.wm);
      return { duplicates: 0, late: [], partials: [], size: this.op.dedupeSize() };
    }
    const out = this.op.addBatch(...received(s.tweets));
    return {
      duplicates: out.duplicates,
      late: out.late.map((l) => s.tweets[l.index].id).sort(),
      partials: partialsOf(this.op.flush()),
      size: this.op.dedupeSize(),
    };
  }
}

const dedupeOptions: DedupePreAggregatorOptions = {
  spec: { sizeMs: MIN, slideMs: MIN },
  allowedLatenessMs: 30 * SEC,
  dedupeHorizonMs: 3 * MIN,
  maxHeld: 1000,
};

/**
 * Tweets moving forward in time (out of order within 40 s), a third of them
 * re-deliveries of earlier ids (some after the horizon, when they count
 * again), with watermarks; re-deliveries after the final watermark.
 */
function dedupeScript(seed: number): DedupeStep[] {
  const rnd = prng(seed);
  const steps: DedupeStep[] = [];
  const sent: Tweet[] = [];
  let next = 0;
  for (let p = 0; p < 40; p++) {
    const tweets: Tweet[] = [];
    for (let i = 0; i < 8; i++) {
      if (sent.length > 0 && rnd() < 0.35) {
        tweets.push(sent[Math.floor(rnd() * sent.length)]);
      } else {
        const t: Tweet = {
          id: String(1_000_000 + next++ * 7919),
          ts: p * 20 * SEC + Math.floor(rnd() * 40 * SEC) - 10 * SEC,
          author: `user${Math.floor(rnd() * 10)}`,
          topics: [`#t${Math.floor(rnd() * 5)}`, ...(rnd() < 0.3 ? ['#extra'] : [])],
        };
        tweets.push(t);
        sent.push(t);
      }
    }
    steps.push({ kind: 'batch', tweets });
    if (p % 2 === 1) steps.push({ kind: 'watermark', wm: p * 20 * SEC - 15 * SEC });
  }
  steps.push({ kind: 'watermark', wm: Number.POSITIVE_INFINITY });
  steps.push({ kind: 'batch', tweets: sent.slice(0, 5) });
  return steps;
}

describe('DedupePreAggregator snapshot/restore', () => {
  let steps: DedupeStep[];
  const outputs: DedupeStepOutput[] = [];
  const snapshots: DedupeSnapshot[] = [];

  beforeAll(() => {
    steps = dedupeScript(42);
    const unbroken = new DedupeRun(dedupeOptions);
    for (const s of steps) {
      snapshots.push(unbroken.op.snapshot(MAX_P));
      outputs.push(unbroken.step(s));
    }
    snapshots.push(unbroken.op.snapshot(MAX_P));
  });

  it('the script exercises duplicates, late records, late updates and expiry', () => {
    expect(outputs.reduce((n, o) => n + o.duplicates, 0)).toBeGreaterThan(20);
    expect(outputs.some((o) => o.late.length > 0)).toBe(true);
    expect(outputs.some((o, i) => i > 0 && o.size < outputs[i - 1].size)).toBe(true);
    // Ids re-delivered after expiry count again, and are not held (they are beyond the horizon).
    expect(outputs[outputs.length - 1]).toMatchObject({ duplicates: 0, size: 0 });
    expect(Math.max(...snapshots.map((s) => s.keyGroups.size))).toBeGreaterThan(20);
  });

  it('restoring at every step k and continuing gives the output of the unbroken run', () => {
    const expected = outputs.map((o) => JSON.stringify(exact(o)));
    for (let k = 0; k <= steps.length; k++) {
      const snap = snapshots[k];
      const restored = new DedupeRun(dedupeOptions);
      restored.op.restore(snap.watermark, snap.keyGroups.values());
      expect(restored.op.watermark()).toBe(snap.watermark);
      expect(restored.op.dedupeSize()).toBe(k === 0 ? 0 : outputs[k - 1].size);
      const rest = steps.slice(k).map((s) => exact(restored.step(s)));
      expectSameOutput(k, [...outputs.slice(0, k).map(exact), ...rest], expected);
      const final = snapshots[steps.length].keyGroups;
      if (!sameBlobs(restored.op.snapshot(MAX_P).keyGroups, final))
        expect({ restoredAt: k, final: restored.op.snapshot(MAX_P).keyGroups }).toEqual({
          restoredAt: k,
          final,
        });
    }
  });

  it('rescaling: ids of key groups 0-63 and 64-127 on two operators give the same output', () => {
    const expected = outputs.map((o) => JSON.stringify(aggregated(o)));
    for (let k = 0; k <= steps.length; k++) {
      const snap = snapshots[k];
      const [lowBlobs, highBlobs] = splitBlobs(snap.keyGroups);
      const low = new DedupeRun(dedupeOptions);
      const high = new DedupeRun(dedupeOptions);
      low.op.restore(snap.watermark, lowBlobs);
      high.op.restore(snap.watermark, highBlobs);
      const rest = steps.slice(k).map((s) => {
        const route = (half: boolean): DedupeStep =>
          s.kind === 'batch' ? { kind: 'batch', tweets: s.tweets.filter((t) => lowHalf(t.id) === half) } : s;
        const a = low.step(route(true));
        const b = high.step(route(false));
        return aggregated({
          duplicates: a.duplicates + b.duplicates,
          late: [...a.late, ...b.late].sort(),
          partials: [...a.partials, ...b.partials],
          size: a.size + b.size,
        });
      });
      expectSameOutput(k, [...outputs.slice(0, k).map(aggregated), ...rest], expected);
    }
  });

  it('re-delivered ids are still duplicates after restore; ids expire on time after restore', () => {
    const horizon = MIN;
    const options = { ...dedupeOptions, allowedLatenessMs: 10 * MIN, dedupeHorizonMs: horizon };
    // Ids at 0:10 (bucket 0), 1:10 (bucket 1) and 2:10 (bucket 2), three each.
    const tweets = [0, 1, 2].flatMap((m) =>
      Array.from({ length: 3 }, (_, i): Tweet => ({
        id: `m${m}-${i}`,
        ts: m * MIN + 10 * SEC,
        topics: ['#x'],
      })),
    );
    const script: DedupeStep[] = [
      { kind: 'batch', tweets },
      { kind: 'watermark', wm: 30 * SEC },
      // snapshot here
      { kind: 'batch', tweets },
      // Bucket 0 expires when the watermark reaches its end (60_000 - 1) + horizon, not a millisecond earlier.
      { kind: 'watermark', wm: MIN - 1 + horizon - 1 },
      { kind: 'watermark', wm: MIN - 1 + horizon },
      { kind: 'batch', tweets },
      { kind: 'watermark', wm: 2 * MIN - 1 + horizon },
      { kind: 'batch', tweets },
    ];
    const unbroken = new DedupeRun(options);
    const expected = script.map((s) => unbroken.step(s)).map(exact);
    const run = new DedupeRun(options);
    script.slice(0, 2).forEach((s) => run.step(s));
    const snap = run.op.snapshot(MAX_P);
    const restored = new DedupeRun(options);
    restored.op.restore(snap.watermark, snap.keyGroups.values());
    const rest = script.slice(2).map((s) => exact(restored.step(s)));
    expect(rest).toEqual(expected.slice(2));
    expect(rest.map((o) => [o.duplicates, o.size])).toEqual([
      [9, 9], // all re-deliveries are duplicates
      [0, 9],
      [0, 6], // bucket 0 expired
      [6, 6], // bucket 0's ids count again (not held: beyond the horizon), buckets 1 and 2 are still held
      [0, 3], // buckets 0 and 1 expired
      [3, 3],
    ]);
  });

  it('refuses to snapshot while partials are held, and to restore into a used operator', () => {
    const op = new DedupePreAggregator(dedupeOptions);
    op.addBatch(...received([{ id: '1', ts: 1000, topics: ['#x'] }]));
    expect(() => op.snapshot(MAX_P)).toThrow(/1 partials are held; flush before snapshotting/);
    op.flush();
    op.advance(MIN + 10);
    op.addBatch(...received([{ id: '2', ts: 1000, topics: ['#x'] }])); // a late single for a fired window
    expect(op.shouldFlush()).toBe(true);
    expect(() => op.snapshot(MAX_P)).toThrow(/held; flush/);
    op.flush();
    const snap = op.snapshot(MAX_P);
    expect(snap.watermark).toBe(MIN + 10);
    expect([...snap.keyGroups.keys()]).toEqual(
      [keyGroupOf('1', MAX_P), keyGroupOf('2', MAX_P)].sort((x, y) => x - y),
    );
    expect(() => op.restore(snap.watermark, snap.keyGroups.values())).toThrow(/must be fresh/);
    expect(() => op.snapshot(0)).toThrow(RangeError);
  });
});

describe('DedupePreAggregator incremental deltas (what the job checkpoints)', () => {
  interface Live {
    data: Buffer;
    expiresAt: number;
    ids: number;
  }
  let steps: DedupeStep[];
  const outputs: DedupeStepOutput[] = [];
  /** Before step k: the watermark and every delta a checkpoint taken there keeps (as the coordinator does). */
  const checkpoints: { watermark: number; live: Live[] }[] = [];

  const ALL = { start: 0, end: MAX_P - 1 };

  beforeAll(() => {
    steps = dedupeScript(42);
    const unbroken = new DedupeRun(dedupeOptions);
    let live: Live[] = [];
    const checkpoint = (): void => {
      const { watermark, delta } = unbroken.op.takeDelta();
      const data = encodeDelta(delta, ALL, MAX_P);
      live = live.filter((d) => !(d.expiresAt <= watermark));
      if (data !== undefined) live = [...live, { data, expiresAt: delta.expiresAt, ids: delta.ids }];
      checkpoints.push({ watermark, live });
    };
    for (const s of steps) {
      checkpoint();
      outputs.push(unbroken.step(s));
    }
    checkpoint();
  });

  it('each delta holds only the ids added since the one before, and expired deltas are dropped', () => {
    const written = checkpoints.map((c) => c.live[c.live.length - 1]).filter((d, i, all) => d !== all[i - 1]);
    const added = outputs.reduce(
      (n, o, i) => n + Math.max(0, o.size - (i === 0 ? 0 : outputs[i - 1].size)),
      0,
    );
    // Sizes shrink by expiry, so the ids ever added are at least the sum of the growth steps.
    expect(written.reduce((n, d) => n + (d?.ids ?? 0), 0)).toBeGreaterThanOrEqual(added);
    expect(checkpoints.some((c, i) => i > 0 && c.live.length < checkpoints[i - 1].live.length)).toBe(true);
    // Several deltas are live at once (each written once, then referred to), until all expire at the end.
    expect(Math.max(...checkpoints.map((c) => c.live.length))).toBeGreaterThan(3);
    expect(checkpoints[checkpoints.length - 1].live).toEqual([]);
  });

  it('restoring the live deltas at every step k and continuing gives the output of the unbroken run', () => {
    const expected = outputs.map((o) => JSON.stringify(exact(o)));
    for (let k = 0; k <= steps.length; k++) {
      const c = checkpoints[k];
      const restored = new DedupeRun(dedupeOptions);
      restored.op.restoreDeltas(
        c.watermark,
        c.live.map((d) => d.data),
        () => true,
        MAX_P,
      );
      expect(restored.op.dedupeSize()).toBe(k === 0 ? 0 : outputs[k - 1].size);
      const rest = steps.slice(k).map((s) => exact(restored.step(s)));
      expectSameOutput(k, [...outputs.slice(0, k).map(exact), ...rest], expected);
      // Restored ids are not written again: the next delta holds only what came after.
      const next = restored.op.takeDelta().delta;
      const fresh = new DedupeRun(dedupeOptions);
      steps.slice(k).forEach((s) => fresh.step(s));
      expect(next.ids).toBeLessThanOrEqual(fresh.op.takeDelta().delta.ids);
    }
  });

  it('rescaling: the same deltas restored on two operators, each keeping its half of the key groups', () => {
    const expected = outputs.map((o) => JSON.stringify(aggregated(o)));
    for (let k = 0; k <= steps.length; k++) {
      const c = checkpoints[k];
      const low = new DedupeRun(dedupeOptions);
      const high = new DedupeRun(dedupeOptions);
      const data = c.live.map((d) => d.data);
      low.op.restoreDeltas(c.watermark, data, (kg) => kg < MAX_P / 2, MAX_P);
      high.op.restoreDeltas(c.watermark, data, (kg) => kg >= MAX_P / 2, MAX_P);
      const rest = steps.slice(k).map((s) => {
        const route = (half: boolean): DedupeStep =>
          s.kind === 'batch' ? { kind: 'batch', tweets: s.tweets.filter((t) => lowHalf(t.id) === half) } : s;
        const a = low.step(route(true));
        const b = high.step(route(false));
        return aggregated({
          duplicates: a.duplicates + b.duplicates,
          late: [...a.late, ...b.late].sort(),
          partials: [...a.partials, ...b.partials],
          size: a.size + b.size,
        });
      });
      expectSameOutput(k, [...outputs.slice(0, k).map(aggregated), ...rest], expected);
    }
  });

  it('an empty delta encodes to nothing; a corrupt container is rejected before anything changes', () => {
    const op = new DedupePreAggregator(dedupeOptions);
    expect(encodeDelta(op.takeDelta().delta, ALL, MAX_P)).toBeUndefined();
    op.addBatch(...received([{ id: '1', ts: 1000, topics: ['#x'] }]));
    expect(() => op.takeDelta()).toThrow(/held; flush first/);
    op.flush();
    const data = encodeDelta(op.takeDelta().delta, ALL, MAX_P) as Buffer;
    const flipped = Buffer.from(data);
    flipped[flipped.length - 6] ^= 1;
    const fresh = new DedupePreAggregator(dedupeOptions);
    expect(() => fresh.restoreDeltas(0, [flipped], () => true, MAX_P)).toThrow(
      /dedupe delta state blob rejected: CRC32 mismatch/,
    );
    expect(fresh.dedupeSize()).toBe(0);
    fresh.restoreDeltas(0, [data, data], () => true, MAX_P);
    expect(fresh.dedupeSize()).toBe(1);
    expect(() => new DedupePreAggregator(dedupeOptions).restoreDeltas(0, [data], () => true, 64)).toThrow(
      /a delta of maxParallelism 128 cannot be restored under 64/,
    );
  });
});

describe('DedupeState restore with another bucket size', () => {
  it.each([5 * MIN, 45 * SEC, 7 * SEC, MIN])(
    're-buckets ids of 1-minute buckets into %d ms buckets so that none expires earlier than it would have',
    (bucketMs) => {
      const horizon = 2 * MIN;
      const original = new DedupeState(horizon, MIN);
      for (let i = 0; i < 200; i++) original.checkAndAdd(`id${i}`, i * 7_321 - 100_000);
      const restored = new DedupeState(horizon, bucketMs);
      restored.restore(original.snapshot(MAX_P).values());
      expect(restored.size).toBe(200);
      for (let wm = -200_000; wm < 2_000_000; wm += 1_000) {
        original.expire(wm);
        restored.expire(wm);
        expect(restored.size).toBeGreaterThanOrEqual(original.size);
        if (bucketMs <= MIN && MIN % bucketMs === 0) expect(restored.size).toBe(original.size);
      }
      expect(restored.size).toBe(0);
    },
  );
});

// ---------------------------------------------------------------------------
// Corrupt blobs

describe('snapshot blobs: validation', () => {
  const spec: WindowSpec = { sizeMs: MIN, slideMs: MIN };
  const options: TopicWindowOptions = { spec, allowedLatenessMs: MIN, minCount: 1, top: 5, trendAlpha: 0.5 };
  const makeWindowBlob = (): Buffer => {
    const run = new WindowRun(options);
    const h = new HyperLogLog();
    h.add('u1');
    h.add('u2');
    run.step({ kind: 'partial', start: 0, topic: '#t3', count: 2, authors: h });
    run.step({ kind: 'watermark', wm: MIN - 1 });
    run.step({ kind: 'partial', start: MIN, topic: '#t3', count: 1, authors: h });
    const snap = run.op.snapshot(MAX_P);
    expect(snap.keyGroups.size).toBe(1);
    return [...snap.keyGroups.values()][0];
  };
  const makeDedupeBlob = (): Buffer => {
    const d = new DedupeState(MIN);
    d.checkAndAdd('12345', 1000);
    d.checkAndAdd('67890', 61_000);
    return [...d.snapshot(1).values()][0];
  };
  const restoreWindow = (...blobs: Buffer[]): void =>
    new TopicWindowOperator(options, () => undefined).restore(0, blobs);
  const restoreDedupe = (...blobs: Buffer[]): void => new DedupeState(MIN).restore(blobs);
  const corrupt = (kind: string, detail: RegExp) =>
    expect.objectContaining({
      name: 'StateBackendError',
      code: 'STATE_CORRUPT',
      message: expect.stringMatching(new RegExp(`^${kind} state blob rejected: .*${detail.source}`)),
    });
  const thrown = (f: () => void): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error('did not throw');
  };

  it('valid blobs round-trip', () => {
    expect(() => restoreWindow(makeWindowBlob())).not.toThrow();
    expect(() => restoreDedupe(makeDedupeBlob())).not.toThrow();
  });

  it.each([
    ['topic-window', makeWindowBlob, restoreWindow],
    ['dedupe', makeDedupeBlob, restoreDedupe],
  ] as const)('%s: rejects empty, garbage, every truncation and every flipped bit', (kind, make, restore) => {
    const blob = make();
    expect(thrown(() => restore(Buffer.alloc(0)))).toEqual(corrupt(kind, /shorter than any valid blob/));
    expect(thrown(() => restore(Buffer.from('hello, world: not a blob')))).toEqual(
      corrupt(kind, /bad magic/),
    );
    const rnd = prng(3);
    const garbage = Buffer.from(Array.from({ length: 300 }, () => Math.floor(rnd() * 256)));
    garbage.write(kind === 'dedupe' ? 'FLDD' : 'FLTW', 0, 'latin1');
    garbage[4] = 1;
    expect(thrown(() => restore(garbage))).toEqual(corrupt(kind, /CRC32 mismatch/));
    for (let n = 0; n < blob.length; n++) {
      expect(thrown(() => restore(blob.subarray(0, n)))).toEqual(corrupt(kind, /./));
    }
    for (let i = 0; i < blob.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(blob);
        bad[i] ^= 1 << bit;
        expect(thrown(() => restore(bad))).toEqual(corrupt(kind, /./));
      }
    }
  });

  it('rejects the other operator kind, other versions and trailing bytes', () => {
    expect(thrown(() => restoreWindow(makeDedupeBlob()))).toEqual(
      corrupt('topic-window', /bad magic .*"FLTW"/),
    );
    expect(thrown(() => restoreDedupe(makeWindowBlob()))).toEqual(corrupt('dedupe', /bad magic .*"FLDD"/));
    const v2 = Buffer.from(makeWindowBlob());
    v2[4] = 2;
    expect(thrown(() => restoreWindow(v2))).toEqual(corrupt('topic-window', /unsupported version 2/));
    const blob = makeWindowBlob();
    const longer = withCrc(Buffer.concat([blob.subarray(0, blob.length - 4), Buffer.from([0, 0, 0, 0, 0])]));
    expect(thrown(() => restoreWindow(longer))).toEqual(
      corrupt('topic-window', /1 unexpected bytes at the end/),
    );
  });

  it('rejects well-formed blobs with bad contents (CRC recomputed)', () => {
    const build = (body: (w: BlobWriter) => void, magic = 'FLTW'): Buffer => {
      const w = new BlobWriter(magic, 1);
      body(w);
      return w.finish();
    };
    const kg = keyGroupOf('#t3', MAX_P);
    const sketch = new HyperLogLog();
    sketch.add('u');
    const window = (w: BlobWriter, topic: string, bytes: Uint8Array = sketch.toBytes()): void => {
      w.varint(MAX_P);
      w.varint(kg);
      w.varint(1); // one window
      w.zigzag(0);
      w.u8(0);
      w.varint(1);
      w.string(topic);
      w.varint(3);
      w.bytes(bytes);
    };
    const ok = build((w) => {
      window(w, '#t3');
      w.varint(0);
    });
    expect(() => restoreWindow(ok)).not.toThrow();
    const other = TOPICS.find((t) => keyGroupOf(t, MAX_P) !== kg) as string;
    const misplaced = build((w) => {
      window(w, other);
      w.varint(0);
    });
    expect(thrown(() => restoreWindow(misplaced))).toEqual(
      corrupt('topic-window', /is in key group \d+, not \d+/),
    );
    const badSketch = build((w) => {
      window(w, '#t3', Uint8Array.from([0x07, 1, 2]));
      w.varint(0);
    });
    expect(thrown(() => restoreWindow(badSketch))).toEqual(
      corrupt('topic-window', /author sketch of "#t3" in window 0: HyperLogLog: unknown format byte 0x7/),
    );
    const hugeCount = build((w) => {
      w.varint(MAX_P);
      w.varint(kg);
      w.varint(1e9);
    });
    expect(thrown(() => restoreWindow(hugeCount))).toEqual(
      corrupt('topic-window', /window count 1000000000 cannot fit/),
    );
    const kgOutOfRange = build((w) => {
      w.varint(MAX_P);
      w.varint(MAX_P);
      w.varint(0);
      w.varint(0);
    });
    expect(thrown(() => restoreWindow(kgOutOfRange))).toEqual(
      corrupt('topic-window', /key group 128 out of range/),
    );
    const badUtf8 = build((w) => {
      w.varint(1);
      w.varint(0);
      w.varint(MIN);
      w.varint(1);
      w.zigzag(0);
      w.varint(1);
      w.varint(2 * 1 + 0); // a string of 1 byte, in the UTF-8 form ...
      w.u8(0xc3); // ... that is not UTF-8
    }, 'FLDD');
    expect(thrown(() => restoreDedupe(badUtf8))).toEqual(corrupt('dedupe', /is not valid UTF-8/));
  });

  it('rejects a key group given twice and blobs of different maxParallelism, leaving the operator fresh', () => {
    const op = new TopicWindowOperator(options, () => undefined);
    const blob = makeWindowBlob();
    expect(thrown(() => op.restore(0, [blob, blob]))).toEqual(
      expect.objectContaining({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/given twice/) }),
    );
    const run = new WindowRun(options);
    run.step({ kind: 'partial', start: 0, topic: '#t3', count: 1, authors: new HyperLogLog() });
    const other = [...run.op.snapshot(64).keyGroups.values()][0];
    expect(() => op.restore(0, [blob, other])).toThrow(/maxParallelism 128 and 64 cannot be merged/);
    // Nothing was restored: the operator can still be restored.
    op.restore(MIN - 1, [blob]);
    expect(op.openWindows()).toBe(2);
    const d = makeDedupeBlob();
    expect(() => restoreDedupe(d, d)).toThrow(/dedupe state: key group 0 given twice/);
  });
});
