import {
  assignWindows,
  isWindowComplete,
  isWindowExpired,
  lastWindowStart,
  WindowSpec,
} from '../../runtime/windows';
import { encodeHashes, HyperLogLog } from '../../state/hyperloglog';
import { DedupeState, type DedupeDelta, type DedupeSpill } from './dedupe';
import type { TopicMirror } from './topic-dictionary';
import { PreAggregateTable } from './pre-aggregate-table';
import { NO_AUTHOR, type TweetBatch } from './trending-messages';

/** A partial aggregate of one (window, topic) as an object: see partialsOf. */
export interface TopicPartial {
  start: number;
  topic: string;
  count: number;
  authors: HyperLogLog;
}

/** One record for a window that fired already: a partial of its own (count 1). */
export interface LatePartial {
  start: number;
  topic: string;
  /** The author's encoded hashes (encodeHashes), -1 for no author. */
  hash: number;
}

/**
 * What a flush hands out, in the order the window stage should get it: the
 * late singles (arrival order), then per window (in the order first held)
 * its table, topics in arrival order.
 */
export interface FlushedPartials {
  singles: LatePartial[];
  windows: { start: number; table: PreAggregateTable }[];
}

/** The partials of a flush as objects, in flush order: for tests and simple callers (the worker reads the tables). */
export function partialsOf(f: FlushedPartials): TopicPartial[] {
  const out: TopicPartial[] = [];
  for (const s of f.singles) {
    const authors = new HyperLogLog();
    if (s.hash !== -1) authors.addEncoded(s.hash);
    out.push({ start: s.start, topic: s.topic, count: 1, authors });
  }
  for (const { start, table } of f.windows) {
    for (const [topic, slot] of table.entries()) {
      out.push({ start, topic, count: table.count(slot), authors: table.sketch(slot) });
    }
  }
  return out;
}

export interface DedupePreAggregatorOptions {
  spec: WindowSpec;
  allowedLatenessMs: number;
  dedupeHorizonMs: number;
  /** Partials held before a forced flush. */
  maxHeld: number;
  /** Where old de-duplication ids go; without it all stay in memory. */
  spill?: DedupeSpill;
}

/** A snapshot: the de-duplication ids per key group, and the watermark (which belongs to no key group). */
export interface DedupeSnapshot {
  watermark: number;
  /** Key group -> blob (DedupeState.snapshot), ascending; key groups without ids are absent. */
  keyGroups: Map<number, Buffer>;
}

export interface DedupeOutcome {
  duplicates: number;
  /** Tweets late for every window they belong to, as judged here (see addBatch). */
  late: { index: number; timestampMs: number }[];
}

/**
 * Stage 2 of the trending job, for the tweet ids one worker owns: drops
 * re-delivered ids (exactly, over the event-time horizon), assigns windows and
 * pre-aggregates count and author sketch per (window, topic) until the next
 * flush, so only one partial per (window, topic) per worker crosses threads.
 * Records for windows that have already fired (allowed lateness) are not
 * merged: each becomes its own partial, so each emits its own update.
 */
export class DedupePreAggregator {
  private readonly dedupe: DedupeState;
  /** Window start -> the (topic -> count, authors) table held for it. */
  private held = new Map<number, HeldWindow>();
  /** The size of the largest window handed on at the last flush (see newWindow). */
  private expected = { topics: 0, pairs: 0 };
  private heldCount = 0;
  private singles: LatePartial[] = [];
  private wm = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: DedupePreAggregatorOptions) {
    this.dedupe = new DedupeState(options.dedupeHorizonMs, undefined, options.spill);
    // V8 compiles a field stored only once as a constant and throws that code away when it first
    // changes (here: at the first watermark, with addBatch hot). Stored twice, it is known to change.
    this.wm = 0;
    this.wm = Number.NEGATIVE_INFINITY;
  }

  watermark(): number {
    return this.wm;
  }

  /** True when enough is held (or late updates wait) that the caller should flush now. */
  shouldFlush(): boolean {
    return this.heldCount >= this.options.maxHeld || this.singles.length > 0;
  }

  /** `topics`: the sender's topic dictionary, with this batch applied (TopicMirror.apply). */
  addBatch(b: TweetBatch, topics: TopicMirror): DedupeOutcome {
    const { spec, allowedLatenessMs } = this.options;
    const outcome: DedupeOutcome = { duplicates: 0, late: [] };
    // Tumbling windows: a record is in exactly one window, so no array of them per record.
    const tumbling = spec.slideMs === spec.sizeMs;
    const n = b.timestamps.length;
    this.dedupe.warmPacked(b.idHighs, b.idLows, n);
    let otherId = 0;
    for (let i = 0; i < n; i++) {
      const ts = b.timestamps[i];
      // Ids come packed; the rare one that does not pack comes as the next string of otherIds.
      const high = b.idHighs[i];
      if (
        high >= 0
          ? this.dedupe.checkAndAddPacked(high, b.idLows[i], ts)
          : this.dedupe.checkAndAdd(b.otherIds[otherId++], ts)
      ) {
        outcome.duplicates++;
        continue;
      }
      // Normally the local stage's threshold is at least our watermark. Not so for a split that was
      // idle (and so left out of the watermark) while others moved on: judge by both.
      const threshold = Math.max(b.lateThresholds[i], this.wm);
      const start = tumbling ? lastWindowStart(ts, spec.slideMs) : 0;
      const windows = tumbling ? undefined : assignWindows(ts, spec, allowedLatenessMs, threshold);
      if (
        tumbling
          ? isWindowExpired(start, spec, allowedLatenessMs, threshold)
          : (windows as number[]).length === 0
      ) {
        outcome.late.push({ index: i, timestampMs: ts });
        continue;
      }
      // The local stage hashed the author once for all the sketches it goes into; -1 marks "no author".
      const hash = b.authorHighs[i] === NO_AUTHOR ? -1 : encodeHashes(b.authorH1[i], b.authorH2[i]);
      const from = b.topicOffsets[i];
      const to = b.topicOffsets[i + 1];
      if (windows === undefined) this.addToWindow(start, b.topicCodes, topics, from, to, hash);
      else for (const w of windows) this.addToWindow(w, b.topicCodes, topics, from, to, hash);
    }
    return outcome;
  }

  /** Adds one record's topics, codes[from..to) of `topics`, to window `start`. */
  private addToWindow(
    start: number,
    codes: Uint32Array,
    topics: TopicMirror,
    from: number,
    to: number,
    hash: number,
  ): void {
    if (isWindowComplete(start, this.options.spec, this.wm)) {
      for (let t = from; t < to; t++) this.singles.push({ start, topic: topics.topic(codes[t]), hash });
      return;
    }
    let held = this.held.get(start);
    if (held === undefined) this.held.set(start, (held = this.newWindow()));
    const table = held.table;
    const slots = held.slotsOf(topics);
    for (let t = from; t < to; t++) {
      const code = codes[t];
      // Slot + 1 by the sender's code, 0 = not looked up yet: a popular topic's string is hashed once.
      let slot = code < slots.length ? slots[code] - 1 : -1;
      if (slot === -1) {
        const topic = topics.topic(code);
        let s = table.slotOf(topic);
        if (s === undefined) {
          s = table.insert(topic);
          this.heldCount++;
        }
        slot = s;
        held.setSlot(topics, code, slot);
      }
      table.addCount(slot, 1);
      if (hash !== -1) table.addEncoded(slot, hash);
    }
  }

  /** A window's table, sized like the largest held or handed on last (windows of a stream are alike). */
  private newWindow(): HeldWindow {
    const expected = { ...this.expected };
    for (const { table } of this.held.values()) {
      expected.topics = Math.max(expected.topics, table.size);
      expected.pairs = Math.max(expected.pairs, table.pairs);
    }
    return new HeldWindow(expected);
  }

  /**
   * Hands out the late singles and what is held for windows complete at
   * `watermark`, and forgets them. Partials of windows still open stay held:
   * the window stage cannot fire them before a later watermark, and holding
   * them on is what makes pre-aggregation pay (watermarks move with every
   * source batch).
   */
  flushComplete(watermark: number): FlushedPartials {
    const out: FlushedPartials = { singles: this.singles, windows: [] };
    this.singles = [];
    for (const [start, { table }] of this.held) {
      if (!isWindowComplete(start, this.options.spec, watermark)) continue;
      if (out.windows.length === 0) this.expected = { topics: 0, pairs: 0 };
      this.expected.topics = Math.max(this.expected.topics, table.size);
      this.expected.pairs = Math.max(this.expected.pairs, table.pairs);
      out.windows.push({ start, table });
      this.heldCount -= table.size;
      this.held.delete(start);
    }
    return out;
  }

  /** What shouldFlush asked for: everything when too much is held, else the late singles. */
  flushDue(): FlushedPartials {
    return this.heldCount >= this.options.maxHeld ? this.flush() : this.flushComplete(this.wm);
  }

  /** Hands out everything held (late singles first) and forgets it. */
  flush(): FlushedPartials {
    return this.flushComplete(Number.POSITIVE_INFINITY);
  }

  /** Moves the watermark and expires de-duplication state past the horizon. Flush before forwarding it. */
  advance(watermark: number): void {
    if (watermark > this.wm) this.wm = watermark;
    this.dedupe.expire(this.wm);
  }

  /** De-duplication ids remembered, in memory and on disk. */
  dedupeSize(): number {
    return this.dedupe.size;
  }

  /** De-duplication ids held in memory. */
  dedupeInMemory(): number {
    return this.dedupe.inMemory;
  }

  /**
   * Snapshots the de-duplication state per key group (keyGroupOf(id,
   * maxParallelism)). Held partials are not part of it: the checkpoint
   * protocol flushes them at the barrier, so this throws while any are held
   * (flush first).
   */
  snapshot(maxParallelism: number): DedupeSnapshot {
    if (this.heldCount > 0 || this.singles.length > 0) {
      throw new Error(
        `DedupePreAggregator.snapshot: ${this.heldCount + this.singles.length} partials are held; flush before snapshotting`,
      );
    }
    return { watermark: this.wm, keyGroups: this.dedupe.snapshot(maxParallelism) };
  }

  /**
   * The checkpoint part of this operator, taken at a barrier in O(buckets):
   * the ids added since the previous checkpoint (encode them with
   * encodeDelta, asynchronously) and the watermark. Like snapshot, it
   * throws while partials are held.
   */
  takeDelta(): { watermark: number; delta: DedupeDelta } {
    if (this.heldCount > 0 || this.singles.length > 0) {
      throw new Error(
        `DedupePreAggregator.takeDelta: ${this.heldCount + this.singles.length} partials are held; flush first`,
      );
    }
    return { watermark: this.wm, delta: this.dedupe.takeDelta() };
  }

  /**
   * Restores a fresh operator from every live delta of a checkpoint (see
   * DedupeState.restoreDeltas), keeping the key groups `owns` accepts, and
   * the watermark (the minimum over the workers that took them).
   */
  restoreDeltas(
    watermark: number,
    containers: Iterable<Uint8Array>,
    owns: (keyGroup: number) => boolean,
    maxParallelism: number,
  ): void {
    this.checkFresh(watermark);
    this.dedupe.restoreDeltas(containers, owns, watermark, maxParallelism);
    this.wm = watermark;
  }

  /**
   * Restores a fresh operator from any set of key-group blobs (one worker's
   * snapshot, or after rescaling the key groups this worker now owns, from
   * several snapshots) and the watermark: the snapshot's, or when merging
   * several, the minimum of theirs. Ids keep their time buckets, so they
   * expire as they would have. See DedupeState.restore for errors.
   */
  restore(watermark: number, blobs: Iterable<Uint8Array>): void {
    this.checkFresh(watermark);
    this.dedupe.restore(blobs);
    // Nothing to drop (the snapshot was taken at this watermark); it tells the state where it is.
    this.dedupe.expire(watermark);
    this.wm = watermark;
  }

  private checkFresh(watermark: number): void {
    if (
      this.wm !== Number.NEGATIVE_INFINITY ||
      this.dedupe.size > 0 ||
      this.heldCount > 0 ||
      this.singles.length > 0
    )
      throw new Error('DedupePreAggregator.restore: the operator must be fresh (no state, no watermark)');
    if (typeof watermark !== 'number' || Number.isNaN(watermark))
      throw new RangeError(`DedupePreAggregator.restore: bad watermark ${watermark}`);
  }
}

/**
 * A window's held table, and per sender dictionary (TopicMirror) the slots of
 * its codes, valid for one epoch of that dictionary.
 */
class HeldWindow {
  readonly table: PreAggregateTable;
  private readonly caches = new Map<TopicMirror, { epoch: number; slots: Int32Array }>();

  constructor(expected: { topics: number; pairs: number }) {
    this.table = new PreAggregateTable(expected);
  }

  /** The code -> slot + 1 cache (0 = unknown) of `topics`, emptied when its dictionary has started over. */
  slotsOf(topics: TopicMirror): Int32Array {
    let cache = this.caches.get(topics);
    if (cache === undefined || cache.epoch !== topics.epoch) {
      cache = { epoch: topics.epoch, slots: new Int32Array(64) };
      this.caches.set(topics, cache);
    }
    return cache.slots;
  }

  /** Records code -> slot (after slotsOf for the same `topics`). */
  setSlot(topics: TopicMirror, code: number, slot: number): void {
    const cache = this.caches.get(topics) as { slots: Int32Array };
    if (code >= cache.slots.length) {
      const bigger = new Int32Array(Math.max(2 * cache.slots.length, code + 1));
      bigger.set(cache.slots);
      cache.slots = bigger;
    }
    cache.slots[code] = slot + 1;
  }
}
