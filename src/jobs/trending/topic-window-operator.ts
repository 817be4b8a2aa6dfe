import { HyperLogLog } from '../../state/hyperloglog';
import { TopicHistoryTable } from './history-table';
import { columnSketchBytes, TopicTable, type TopicColumns } from './topic-table';
import type { PartialBatch } from './trending-messages';
import { FloeError } from '../../runtime/errors';
import { keyGroupOf } from '../../runtime/key-groups';
import { isWindowComplete, isWindowExpired, WindowSpec } from '../../runtime/windows';
import { MAX_WATERMARK } from '../../runtime/watermarks';
import { BlobReader, BlobWriter, checkMaxParallelism } from './state-codec';
import { decayHistory, MAX_GAP_WINDOWS, TopicHistory, trendScore, updateHistory } from './trend-score';
import { TopCandidates, type FiredWindow } from './trend-candidates';

export interface WindowCount {
  start: number;
  end: number;
  topic: string;
  count: number;
  distinctAuthors: number;
}

export interface TopicWindowOptions {
  spec: WindowSpec;
  allowedLatenessMs: number;
  minCount: number;
  top: number;
  trendAlpha: number;
}

/**
 * The operator's state at a barrier, taken in one cheap pass (columns
 * copied, sketch objects frozen and shared), so that encoding it can run
 * later while the operator goes on: see capture() and encodeCapture().
 */
export interface TopicWindowCapture {
  watermark: number;
  expiredPartials: number;
  /** Ascending start; fired[i] for topic i of columns. */
  windows: { start: number; columns: TopicColumns; fired: boolean[] }[];
  history: { topics: string[]; mean: Float64Array; variance: Float64Array; lastWindowStart: Float64Array };
}

interface WindowState {
  fired: boolean;
  /** Count and author sketch per topic, in arrival order. */
  topics: TopicTable;
  /**
   * Only after a restore that merged key groups whose snapshots disagree on
   * whether this window fired (see restore): the topics that fired already.
   * They emit updates like topics of a fired window and are not fired again.
   */
  firedTopics?: Set<string>;
}

/**
 * A snapshot: one blob per key group with state (window contents and trend
 * history of its topics), plus the operator-wide scalars, which belong to no
 * key group.
 */
export interface TopicWindowSnapshot {
  watermark: number;
  /** A metric: restore it on one worker, or sum it when merging. */
  expiredPartials: number;
  /** Key group -> blob, ascending; key groups without state are absent. */
  keyGroups: Map<number, Buffer>;
}

/**
 * The keyed window stage of the trending job, for the topics (key groups) one
 * worker owns: merges partial aggregates from every worker's local stage,
 * fires each window once when the watermark reaches its end, scores topics
 * against their history, and keeps fired windows until their allowed
 * lateness has passed, emitting an updated count for each late partial.
 */
export class TopicWindowOperator {
  private readonly windows = new Map<number, WindowState>();
  private readonly history = new TopicHistoryTable();
  private wm = Number.NEGATIVE_INFINITY;
  /** Partials that arrived for windows already expired; the local stage should have dropped them. */
  expiredPartials = 0;

  constructor(
    private readonly options: TopicWindowOptions,
    private readonly emitCount: (count: WindowCount) => void,
  ) {
    // V8 compiles a field stored only once as a constant and throws that code away when it first
    // changes (here: at the first watermark, with addBatch hot). Stored twice, it is known to change.
    this.wm = 0;
    this.wm = Number.NEGATIVE_INFINITY;
  }

  watermark(): number {
    return this.wm;
  }

  /** Open (unfired or within lateness) windows; for tests and metrics. */
  openWindows(): number {
    return this.windows.size;
  }

  historySize(): number {
    return this.history.size;
  }

  /** Keyed entries held: one per (window, topic) and per topic history; for metrics. */
  stateEntries(): number {
    let n = this.history.size;
    for (const w of this.windows.values()) n += w.topics.size;
    return n;
  }

  /**
   * Snapshots the state per key group (keyGroupOf(topic, maxParallelism)),
   * without changing it. A key group's blob holds, for each open window
   * (oldest first) with topics of the group, the window start, whether it
   * fired, and each topic's count and author sketch (in arrival order, so a
   * restored operator fires a key group's topics in the original order),
   * then the trend history of the group's topics. Format: see the comment
   * above encodeKeyGroup below.
   */
  snapshot(maxParallelism: number): TopicWindowSnapshot {
    const capture = this.capture();
    const keyGroups = encodeGroups(capture, maxParallelism);
    return { watermark: capture.watermark, expiredPartials: capture.expiredPartials, keyGroups };
  }

  /**
   * The state as of now, for encodeCapture, in one pass that copies no
   * sketch object: they are frozen (a later change replaces a frozen one
   * with a copy); counts, inline sketches and history numbers are copied.
   */
  capture(): TopicWindowCapture {
    const windows: TopicWindowCapture['windows'] = [];
    for (const start of [...this.windows.keys()].sort((a, b) => a - b)) {
      const w = this.windows.get(start) as WindowState;
      w.topics.freeze();
      const columns = w.topics.copyColumns();
      const firedTopics = w.firedTopics;
      const fired = columns.topics.map((t) => w.fired || (firedTopics !== undefined && firedTopics.has(t)));
      windows.push({ start, columns, fired });
    }
    const n = this.history.size;
    const history = {
      topics: new Array<string>(n),
      mean: new Float64Array(n),
      variance: new Float64Array(n),
      lastWindowStart: new Float64Array(n),
    };
    let i = 0;
    this.history.forEach((topic, mean, variance, lastWindowStart) => {
      history.topics[i] = topic;
      history.mean[i] = mean;
      history.variance[i] = variance;
      history.lastWindowStart[i] = lastWindowStart;
      i++;
    });
    return { watermark: this.wm, expiredPartials: this.expiredPartials, windows, history };
  }

  /**
   * Restores a fresh operator from any set of key-group blobs (one worker's
   * snapshot, or after rescaling the key groups this worker now owns, taken
   * from several workers' snapshots) and the watermark. All blobs are
   * validated before anything changes; a corrupt one throws
   * StateBackendError('corrupt-blob'), a key group given twice or blobs of
   * different maxParallelism throw FloeError('CHECKPOINT_INVALID').
   *
   * `watermark`: the snapshot's watermark; when merging several workers'
   * snapshots, the minimum of their watermarks (never more: an unfired window
   * would then look complete). Each window keeps the fired flag of the blob
   * it came from, so nothing fires twice and late partials for fired windows
   * still emit updates. When the merged blobs disagree about a window (fired
   * by a worker whose watermark was ahead of the minimum, not by another), or
   * a window fired in its blob is not complete at the given watermark, the
   * window stays open: its fired topics emit updates and are not fired again,
   * its other topics (and topics arriving later) fire when the watermark
   * completes it, and a window with no such topic fires nothing.
   *
   * `expiredPartials`: the metric to continue from (sum it when merging).
   */
  restore(watermark: number, blobs: Iterable<Uint8Array>, expiredPartials = 0): void {
    if (this.windows.size > 0 || this.history.size > 0 || this.wm !== Number.NEGATIVE_INFINITY)
      throw new Error('TopicWindowOperator.restore: the operator must be fresh (no state, no watermark)');
    if (typeof watermark !== 'number' || Number.isNaN(watermark))
      throw new RangeError(`TopicWindowOperator.restore: bad watermark ${watermark}`);
    const decoded: DecodedKeyGroup[] = [];
    const seen = new Set<number>();
    for (const blob of blobs) {
      const d = decodeKeyGroup(blob);
      if (decoded.length > 0 && d.maxParallelism !== decoded[0].maxParallelism) {
        throw new FloeError(
          'CHECKPOINT_INVALID',
          `topic-window state: blobs of maxParallelism ${decoded[0].maxParallelism} and ${d.maxParallelism} cannot be merged`,
        );
      }
      if (seen.has(d.keyGroup))
        throw new FloeError('CHECKPOINT_INVALID', `topic-window state: key group ${d.keyGroup} given twice`);
      seen.add(d.keyGroup);
      decoded.push(d);
    }
    const merged = new Map<number, { topics: TopicTable; fired: Set<string> }>();
    for (const d of decoded) {
      for (const dw of d.windows) {
        let m = merged.get(dw.start);
        if (m === undefined) merged.set(dw.start, (m = { topics: new TopicTable(), fired: new Set() }));
        for (const t of dw.topics) {
          // A topic is in one key group, and a blob holds it once per window: always a new slot.
          const slot = m.topics.insert(t.topic);
          m.topics.addCount(slot, t.count);
          m.topics.mergeSketch(slot, t.authors);
          if (t.fired) m.fired.add(t.topic);
        }
      }
      for (const [topic, h] of d.history) this.history.set(topic, h);
    }
    for (const [start, m] of merged) {
      const fired = m.fired.size === m.topics.size && isWindowComplete(start, this.options.spec, watermark);
      const w: WindowState = { fired, topics: m.topics };
      if (!fired && m.fired.size > 0) w.firedTopics = m.fired;
      this.windows.set(start, w);
    }
    this.wm = watermark;
    this.expiredPartials = expiredPartials;
  }

  /** Merges one partial given as an object (`authors` is not kept or changed). */
  addPartial(start: number, topic: string, count: number, authors: HyperLogLog): void {
    const w = this.windowForPartial(start);
    if (w === undefined) return;
    const slot = w.topics.slotFor(topic);
    w.topics.addCount(slot, count);
    w.topics.mergeSketch(slot, authors);
    this.afterPartial(start, w, topic, slot);
  }

  /** Merges a batch of partials from a worker's pre-aggregation (see PartialBatch), in order. */
  addBatch(b: PartialBatch): void {
    const { starts, topics, counts, hashOffsets, hashes, denseIndex, dense } = b;
    let d = 0;
    let w: WindowState | undefined;
    let wStart = Number.NaN;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i];
      // Batches come grouped by window: look the window up once per run.
      if (start !== wStart || w === undefined) {
        w = this.windowForPartial(start);
        wStart = start;
        if (w === undefined) {
          if (d < denseIndex.length && denseIndex[d] === i) d++;
          continue;
        }
      }
      const table = w.topics;
      const slot = table.slotFor(topics[i]);
      table.addCount(slot, counts[i]);
      table.addDistinctRun(slot, hashes, hashOffsets[i], hashOffsets[i + 1]);
      if (d < denseIndex.length && denseIndex[d] === i) {
        table.mergeSketch(slot, HyperLogLog.fromSerialized({ dense: dense[d] }));
        d++;
      }
      this.afterPartial(start, w, topics[i], slot);
    }
  }

  /** The window a partial for `start` goes into, or undefined (counted) when that window expired. */
  private windowForPartial(start: number): WindowState | undefined {
    const { spec, allowedLatenessMs } = this.options;
    if (isWindowExpired(start, spec, allowedLatenessMs, this.wm)) {
      this.expiredPartials++;
      return undefined;
    }
    let w = this.windows.get(start);
    if (w === undefined) {
      // A window complete before its first partial got here fired (empty) already: this is a late update.
      w = { fired: isWindowComplete(start, spec, this.wm), topics: new TopicTable() };
      this.windows.set(start, w);
    }
    return w;
  }

  /** A partial for a topic that fired already is a late update: emit its new count. */
  private afterPartial(start: number, w: WindowState, topic: string, slot: number): void {
    if (w.fired || (w.firedTopics !== undefined && w.firedTopics.has(topic))) {
      this.emitCount({
        start,
        end: start + this.options.spec.sizeMs,
        topic,
        count: w.topics.count(slot),
        distinctAuthors: w.topics.distinct(slot),
      });
    }
  }

  /** Moves the watermark; fires complete windows (oldest first) and drops expired ones. */
  advance(watermark: number): FiredWindow[] {
    if (watermark <= this.wm) return [];
    this.wm = watermark;
    const { spec, allowedLatenessMs } = this.options;
    const due = [...this.windows.entries()]
      .filter(([start, w]) => !w.fired && isWindowComplete(start, spec, watermark))
      .sort((a, b) => a[0] - b[0]);
    const fired: FiredWindow[] = [];
    for (let i = 0; i < due.length; i++) {
      // At the final watermark no window fires after the last one due: nothing would read its history
      // (at a million new topics, a Map and columns of ~55 MB with their growth).
      const final = watermark === MAX_WATERMARK && i === due.length - 1;
      const f = this.fire(due[i][0], due[i][1], !final);
      if (f !== null) fired.push(f);
    }
    for (const [start] of this.windows) {
      if (isWindowExpired(start, spec, allowedLatenessMs, watermark)) this.windows.delete(start);
    }
    if (fired.length > 0) this.pruneHistory(fired[fired.length - 1].start);
    return fired;
  }

  /**
   * Null when every topic of the window fired before a restore: nothing is
   * left to fire. `recordHistory`: fold the window's counts into the trend
   * history (false when no window can fire after this one).
   */
  private fire(start: number, w: WindowState, recordHistory: boolean): FiredWindow | null {
    const end = start + this.options.spec.sizeMs;
    const already = w.firedTopics;
    w.fired = true;
    w.firedTopics = undefined;
    if (already !== undefined && already.size === w.topics.size) return null;
    const candidates = new TopCandidates(this.options.top);
    // Room for every topic at once: growing by doubling would leave copies behind as garbage.
    if (recordHistory) this.history.reserve(w.topics.size);
    this.fireTopics(start, w.topics, already, candidates, recordHistory);
    return { start, end, candidates: candidates.best };
  }

  /**
   * fire()'s loop over the window's topics, a method of its own: V8 compiles
   * a long loop while it runs (on-stack replacement), and with the code after
   * it, which had not run yet, it threw that code away when the loop ended.
   */
  private fireTopics(
    start: number,
    table: TopicTable,
    already: Set<string> | undefined,
    candidates: TopCandidates,
    recordHistory: boolean,
  ): void {
    const { spec, minCount, trendAlpha } = this.options;
    const end = start + spec.sizeMs;
    const history = this.history;
    const scratch: TopicHistory = { mean: 0, variance: 0, lastWindowStart: 0 };
    for (const [topic, slot] of table.entries()) {
      if (already !== undefined && already.has(topic)) continue;
      const count = table.count(slot);
      const distinctAuthors = table.distinct(slot);
      this.emitCount({ start, end, topic, count, distinctAuthors });
      const historySlot = history.slotOf(topic);
      const prior = historySlot === undefined ? undefined : history.load(historySlot, scratch);
      // Score against the windows the topic was absent from too.
      if (prior !== undefined) decayHistory(prior, start, spec.slideMs, trendAlpha);
      if (count >= minCount) {
        const score = Math.round(trendScore(count, prior) * 1e4) / 1e4;
        candidates.offer({ topic, count, distinctAuthors, score });
      }
      if (!recordHistory) continue;
      const next = updateHistory(prior, start, count, spec.slideMs, trendAlpha);
      if (historySlot === undefined) history.set(topic, next);
      else history.store(historySlot, next);
    }
  }

  private pruneHistory(latestStart: number): void {
    const horizon = latestStart - MAX_GAP_WINDOWS * this.options.spec.slideMs;
    this.history.deleteOlderThan(horizon);
  }
}

/** The capture's key groups as blobs (format below), ascending; key groups without state are absent. */
function encodeGroups(capture: TopicWindowCapture, maxParallelism: number): Map<number, Buffer> {
  const groups = new Map<number, KeyGroupContents>();
  const steps = groupCapture(capture, maxParallelism, groups);
  while (!steps.next().done);
  const out = new Map<number, Buffer>();
  for (const kg of [...groups.keys()].sort((a, b) => a - b)) {
    out.set(kg, encodeKeyGroup(kg, maxParallelism, groups.get(kg) as KeyGroupContents));
  }
  return out;
}

/** Entries grouped between two points where an async caller may yield. */
const GROUP_STEP = 2048;

/** Groups a capture by key group; yields every GROUP_STEP entries (a sync caller just runs it through). */
function* groupCapture(
  capture: TopicWindowCapture,
  maxParallelism: number,
  groups: Map<number, KeyGroupContents>,
): Generator<void, void, void> {
  checkMaxParallelism(maxParallelism);
  const byTopic = new Map<string, KeyGroupContents>();
  let step = 0;
  const groupOf = (topic: string): KeyGroupContents => {
    let g = byTopic.get(topic);
    if (g === undefined) {
      const kg = keyGroupOf(topic, maxParallelism);
      g = groups.get(kg);
      if (g === undefined) groups.set(kg, (g = { windows: new Map(), history: [] }));
      byTopic.set(topic, g);
    }
    return g;
  };
  for (const w of capture.windows) {
    const c = w.columns;
    for (let i = 0; i < c.topics.length; i++) {
      const g = groupOf(c.topics[i]);
      let entries = g.windows.get(w.start);
      if (entries === undefined) g.windows.set(w.start, (entries = []));
      entries.push({ columns: c, index: i, fired: w.fired[i] });
      if (++step % GROUP_STEP === 0) yield;
    }
  }
  const h = capture.history;
  for (let i = 0; i < h.topics.length; i++) {
    groupOf(h.topics[i]).history.push([
      h.topics[i],
      { mean: h.mean[i], variance: h.variance[i], lastWindowStart: h.lastWindowStart[i] },
    ]);
    if (++step % GROUP_STEP === 0) yield;
  }
}

/** What encodeCapture produced, and what it cost the thread that ran it. */
export interface EncodedCapture {
  keyGroups: Map<number, Buffer>;
  /** Time spent encoding, ms (the thread did nothing else meanwhile). */
  busyMs: number;
  /** The longest stretch without yielding to the event loop, ms. */
  longestSliceMs: number;
}

/**
 * Encodes a capture like snapshot(), yielding to the event loop whenever a
 * slice of work has run for `sliceMs`, so the operator keeps processing
 * while a checkpoint is written; the capture's frozen aggregates are never
 * changed meanwhile.
 */
export async function encodeCapture(
  capture: TopicWindowCapture,
  maxParallelism: number,
  sliceMs = 10,
): Promise<EncodedCapture> {
  let busyMs = 0;
  let longestSliceMs = 0;
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<void> => {
    const ran = performance.now() - sliceStart;
    if (ran < sliceMs) return;
    busyMs += ran;
    longestSliceMs = Math.max(longestSliceMs, ran);
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  const groups = new Map<number, KeyGroupContents>();
  const steps = groupCapture(capture, maxParallelism, groups);
  while (!steps.next().done) await maybeYield();
  const keyGroups = new Map<number, Buffer>();
  for (const kg of [...groups.keys()].sort((a, b) => a - b)) {
    keyGroups.set(kg, encodeKeyGroup(kg, maxParallelism, groups.get(kg) as KeyGroupContents));
    await maybeYield();
  }
  const ran = performance.now() - sliceStart;
  return { keyGroups, busyMs: busyMs + ran, longestSliceMs: Math.max(longestSliceMs, ran) };
}

// ---------------------------------------------------------------------------
// Key group blob, version 1 (state-codec.ts: magic, version, CRC32 and primitives):
//
//   "FLTW" | 1 | body | CRC32
//   body:
//     varint maxParallelism, varint key group
//     varint W = windows; W times, by ascending start:
//       zigzag start
//       u8 fired: 0 = no, 1 = yes, 2 = per topic (a window left open by a merging restore)
//       varint T >= 1 = topics; T times, in arrival order:
//         string topic, [u8 fired (0/1) when the window's byte is 2],
//         varint count >= 1, bytes author sketch (HyperLogLog.toBytes)
//     varint H = trend histories; H times: string topic, f64 mean, f64 variance, zigzag lastWindowStart
//
// Every topic must hash to the blob's key group: a blob restored under
// another maxParallelism, or mislabelled, is rejected.

const MAGIC = 'FLTW';
const VERSION = 1;
const KIND = 'topic-window';

interface TopicEntry {
  topic: string;
  count: number;
  authors: HyperLogLog;
  fired: boolean;
}

/** Entry `index` of a captured window's columns. */
interface CapturedEntry {
  columns: TopicColumns;
  index: number;
  fired: boolean;
}

interface KeyGroupContents {
  /** Start -> the group's topics in that window; inserted in ascending start order. */
  windows: Map<number, CapturedEntry[]>;
  history: [string, TopicHistory][];
}

interface DecodedKeyGroup {
  keyGroup: number;
  maxParallelism: number;
  windows: { start: number; topics: TopicEntry[] }[];
  history: [string, TopicHistory][];
}

function encodeKeyGroup(keyGroup: number, maxParallelism: number, g: KeyGroupContents): Buffer {
  const out = new BlobWriter(MAGIC, VERSION);
  out.varint(maxParallelism);
  out.varint(keyGroup);
  out.varint(g.windows.size);
  for (const [start, entries] of g.windows) {
    out.zigzag(start);
    const firedCount = entries.reduce((n, e) => n + (e.fired ? 1 : 0), 0);
    const flag = firedCount === 0 ? 0 : firedCount === entries.length ? 1 : 2;
    out.u8(flag);
    out.varint(entries.length);
    for (const e of entries) {
      out.string(e.columns.topics[e.index]);
      if (flag === 2) out.u8(e.fired ? 1 : 0);
      out.varint(e.columns.counts[e.index]);
      out.bytes(columnSketchBytes(e.columns, e.index));
    }
  }
  out.varint(g.history.length);
  for (const [topic, h] of g.history) {
    out.string(topic);
    out.f64(h.mean);
    out.f64(h.variance);
    out.zigzag(h.lastWindowStart);
  }
  return out.finish();
}

function decodeKeyGroup(blob: Uint8Array): DecodedKeyGroup {
  const r = new BlobReader(KIND, MAGIC, VERSION, blob);
  const { maxParallelism, keyGroup } = r.keyGroupHeader();
  const checkTopic = (topic: string, where: string): void => {
    const kg = keyGroupOf(topic, maxParallelism);
    if (kg !== keyGroup)
      throw r.corrupt(`topic ${JSON.stringify(topic)} ${where} is in key group ${kg}, not ${keyGroup}`);
  };
  const windows: DecodedKeyGroup['windows'] = [];
  // Each window takes at least 1 (start) + 1 (flag) + 1 (count) bytes.
  const windowCount = r.count('window count', 3);
  for (let i = 0; i < windowCount; i++) {
    const start = r.zigzag('window start');
    if (i > 0 && start <= windows[i - 1].start)
      throw r.corrupt(`window starts not ascending (${start} after ${windows[i - 1].start})`);
    const flag = r.u8(`fired flag of window ${start}`);
    if (flag > 2) throw r.corrupt(`window ${start} has fired flag ${flag}`);
    // Each topic takes at least 1 (topic) + 1 (count) + 1 (sketch length) + 1 (sketch) bytes.
    const topicCount = r.count(`topic count of window ${start}`, 4);
    if (topicCount === 0) throw r.corrupt(`window ${start} has no topics`);
    const topics: TopicEntry[] = [];
    const names = new Set<string>();
    for (let t = 0; t < topicCount; t++) {
      const topic = r.string(`topic ${t} of window ${start}`);
      checkTopic(topic, `in window ${start}`);
      if (names.has(topic)) throw r.corrupt(`topic ${JSON.stringify(topic)} twice in window ${start}`);
      names.add(topic);
      let fired = flag === 1;
      if (flag === 2) {
        const f = r.u8(`fired flag of ${JSON.stringify(topic)} in window ${start}`);
        if (f > 1) throw r.corrupt(`topic ${JSON.stringify(topic)} in window ${start} has fired flag ${f}`);
        fired = f === 1;
      }
      const count = r.varint(`count of ${JSON.stringify(topic)} in window ${start}`);
      if (count < 1) throw r.corrupt(`count of ${JSON.stringify(topic)} in window ${start} is ${count}`);
      const sketch = r.bytes(`author sketch of ${JSON.stringify(topic)} in window ${start}`);
      let authors: HyperLogLog;
      try {
        authors = HyperLogLog.fromBytes(sketch);
      } catch (e) {
        throw r.corrupt(
          `author sketch of ${JSON.stringify(topic)} in window ${start}: ${(e as Error).message}`,
          e,
        );
      }
      topics.push({ topic, count, authors, fired });
    }
    windows.push({ start, topics });
  }
  const history: [string, TopicHistory][] = [];
  const historyTopics = new Set<string>();
  // Each history takes at least 1 (topic) + 8 + 8 + 1 bytes.
  const historyCount = r.count('history count', 18);
  for (let i = 0; i < historyCount; i++) {
    const topic = r.string(`history topic ${i}`);
    checkTopic(topic, 'in the history');
    if (historyTopics.has(topic)) throw r.corrupt(`history of ${JSON.stringify(topic)} twice`);
    historyTopics.add(topic);
    const mean = r.f64(`history mean of ${JSON.stringify(topic)}`);
    const variance = r.f64(`history variance of ${JSON.stringify(topic)}`);
    if (!Number.isFinite(mean) || !Number.isFinite(variance))
      throw r.corrupt(`history of ${JSON.stringify(topic)} has mean ${mean}, variance ${variance}`);
    const lastWindowStart = r.zigzag(`history window of ${JSON.stringify(topic)}`);
    history.push([topic, { mean, variance, lastWindowStart }]);
  }
  r.done();
  return { keyGroup, maxParallelism, windows, history };
}
