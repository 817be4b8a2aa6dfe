import { HLL_PRECISION, HLL_SPARSE_LIMIT, HyperLogLog, setEncoded } from '../../state/hyperloglog';
import type { HashSink } from './partial-batch';

const MIN_SLOTS = 64;
const MIN_PAIRS = 1024;
/** 2^53: encoded hashes are below it, so v / H_SCALE is their top 32 bits (well mixed). */
const H_SCALE = 2 ** 21;
/** Scratch set for de-duplicating one slot's run: a run stops at HLL_SPARSE_LIMIT + 1 distinct (<= 38% full). */
const SCRATCH_SIZE = 4096;

/**
 * What the de-duplication stage holds for one window until it hands it on:
 * per topic a count and the set of its authors' encoded hashes (see
 * encodeHashes), which the window stage merges into its sketches.
 *
 * Authors are appended to a log of (slot, hash) pairs, duplicates and all,
 * and made distinct only when the log is full or read (`compact`): grouped
 * by slot (a counting sort), then each slot's run de-duplicated in a small
 * table that stays in cache. The open-addressing set of pairs this replaced
 * took a cache miss per add on a table of several MB (~0.14 us an add
 * alone, more at p=2, where two workers share the caches), and each growth
 * re-inserted every pair; an append is a sequential store (1M tweets: CPU
 * -5 to -7%, bench/FASTPATH.md, session 11). A topic whose distinct hashes
 * pass HLL_SPARSE_LIMIT gets registers of its own, as a sketch turns dense
 * at that size, and later adds go straight to them; so the window stage
 * receives exactly what it did from sketches: the sparse values, or
 * registers.
 *
 * Slots are handed out in order; entries() gives topics in arrival order.
 */
export class PreAggregateTable {
  private readonly slots = new Map<string, number>();
  private counts: Float64Array;
  /**
   * Per slot: its entries in the log (distinct up to the last compaction,
   * anything since); or, once it has registers (its authors go there, not to
   * the log), -(1 + their index in `dense`).
   */
  private logged: Int32Array;
  /** Registers of the slots past the sparse limit (an array, not a map: popular topics are looked up per add). */
  private readonly dense: Uint8Array[] = registersList();
  /**
   * The log: first the runs the last compaction kept (grouped by slot, slot
   * s's at runStart[s]), then every author added since, with its slot in
   * logSlots (which the runs do not need).
   */
  private logHashes: Float64Array;
  private logSlots: Int32Array;
  private logCount = 0;
  private runStart: Int32Array = new Int32Array(1);
  /**
   * A spare hash array of the log's size, which a compaction sorts into (and
   * the log's becomes the spare); none after the log grew.
   */
  private spare: Float64Array | undefined;
  private readonly scratch = new Scratch();

  /**
   * `expected`: topics and (topic, author) pairs it will likely hold, e.g. the
   * previous window's; sized for them up front, it saves growing step by step.
   */
  constructor(expected: { topics: number; pairs: number } = { topics: 0, pairs: 0 }) {
    const slots = powerOfTwoAtLeast(Math.max(MIN_SLOTS, expected.topics));
    this.counts = new Float64Array(slots);
    this.logged = new Int32Array(slots);
    const pairs = powerOfTwoAtLeast(Math.max(MIN_PAIRS, 2 * expected.pairs));
    this.logHashes = new Float64Array(pairs);
    this.logSlots = new Int32Array(pairs);
  }

  get size(): number {
    return this.slots.size;
  }

  /** (topic, author) pairs held in the log: distinct after a look at the hashes, an upper bound between. */
  get pairs(): number {
    return this.logCount;
  }

  slotOf(topic: string): number | undefined {
    return this.slots.get(topic);
  }

  /** A new slot for a topic not in the table (count 0, no authors). */
  insert(topic: string): number {
    const slot = this.slots.size;
    if (slot === this.counts.length) {
      this.counts = grown(this.counts, 2 * slot);
      this.logged = grown(this.logged, 2 * slot);
    }
    this.slots.set(topic, slot);
    return slot;
  }

  /** Topic -> slot, in arrival order. */
  entries(): IterableIterator<[string, number]> {
    return this.slots.entries();
  }

  count(slot: number): number {
    return this.counts[slot];
  }

  addCount(slot: number, n: number): void {
    this.counts[slot] += n;
  }

  /** Adds one author by its encoded hashes (below 2^53). */
  addEncoded(slot: number, v: number): void {
    let logged = this.logged[slot];
    if (logged >= 0 && this.logCount === this.logHashes.length) {
      this.compact();
      // The compaction may have found this slot's run past the limit.
      logged = this.logged[slot];
    }
    if (logged < 0) {
      setEncoded(this.dense[-logged - 1], v);
      return;
    }
    const i = this.logCount++;
    this.logHashes[i] = v;
    this.logSlots[i] = slot;
    this.logged[slot] = logged + 1;
  }

  /**
   * Appends the slot's author hashes to `out` (in no particular order), or
   * returns its registers when it is dense (the table's own: hand them on,
   * do not keep the table).
   */
  appendHashes(slot: number, out: number[]): Uint8Array | undefined {
    return this.appendHashesTo(slot, {
      add: (v) => out.push(v),
      addRun: (values, from, to) => {
        for (let i = from; i < to; i++) out.push(values[i]);
      },
    });
  }

  /** appendHashes into a HashSink: the slot's hashes go as one run. */
  appendHashesTo(slot: number, out: HashSink): Uint8Array | undefined {
    if (this.logCount !== this.runs() || this.runStart.length !== this.slots.size + 1) this.compact();
    const logged = this.logged[slot];
    if (logged < 0) return this.dense[-logged - 1];
    out.addRun(this.logHashes, this.runStart[slot], this.runStart[slot + 1]);
    return undefined;
  }

  /** The slot's authors as a sketch (for tests and simple callers). */
  sketch(slot: number): HyperLogLog {
    const hashes: number[] = [];
    const regs = this.appendHashes(slot, hashes);
    return HyperLogLog.fromSerialized(regs !== undefined ? { dense: regs.slice() } : { sparse: hashes });
  }

  /** Entries at the log's start that are compacted runs. */
  private runs(): number {
    return this.runStart[this.runStart.length - 1];
  }

  /**
   * Groups the log by slot and makes each run distinct; a run past the
   * sparse limit becomes the slot's registers and leaves the log. Grows the
   * log while the distinct pairs fill more than half of it or the slots
   * outnumber its entries: a compaction is linear in both, so the next one
   * waits for at least as many appends as it costs.
   */
  private compact(): void {
    const n = this.slots.size;
    const start = groupStarts(this.logged, n);
    const hashes = this.spare ?? new Float64Array(this.logHashes.length);
    moveRuns(this.logHashes, this.runStart, start, hashes);
    scatter(this.logHashes, this.logSlots, this.runs(), this.logCount, start, this.runStart, hashes);
    const kept = this.distinctRuns(hashes, start, n);
    this.spare = this.logHashes;
    this.logHashes = hashes;
    this.logCount = kept;
    this.runStart = start;
    let length = hashes.length;
    while (2 * kept > length || n > length) length *= 2;
    if (length > hashes.length) {
      this.logHashes = grown(hashes, length);
      this.logSlots = new Int32Array(length);
      this.spare = undefined;
    }
  }

  /**
   * De-duplicates each slot's run of the grouped `hashes` in place, moving
   * the runs down over what was dropped; rewrites start[] and logged[] for
   * the result and returns the pairs kept.
   */
  private distinctRuns(hashes: Float64Array, start: Int32Array, n: number): number {
    const scratch = this.scratch;
    let w = 0;
    let from = start[0];
    for (let s = 0; s < n; s++) {
      const to = start[s + 1];
      start[s] = w;
      if (this.logged[s] < 0) {
        from = to;
        continue;
      }
      if (to - from === 1) {
        hashes[w++] = hashes[from];
      } else if (to > from) {
        const runStart = w;
        scratch.clear();
        let i = from;
        for (; i < to; i++) {
          const v = hashes[i];
          if (!scratch.add(v)) continue;
          if (w - runStart === HLL_SPARSE_LIMIT) break;
          hashes[w++] = v;
        }
        if (i < to) {
          // One distinct hash past the limit: a sketch would turn dense now.
          const regs = new Uint8Array(1 << HLL_PRECISION);
          for (let j = runStart; j < w; j++) setEncoded(regs, hashes[j]);
          for (; i < to; i++) setEncoded(regs, hashes[i]);
          this.dense.push(regs);
          this.logged[s] = -this.dense.length;
          w = runStart;
          from = to;
          continue;
        }
      }
      this.logged[s] = w - start[s];
      from = to;
    }
    start[n] = w;
    return w;
  }
}

/** A set of encoded hashes for one run at a time: cleared in O(1) by a new generation. */
class Scratch {
  private readonly keys = new Float64Array(SCRATCH_SIZE);
  private readonly marks = new Int32Array(SCRATCH_SIZE);
  private generation = 0;

  clear(): void {
    if (++this.generation === 0x7fffffff) {
      this.marks.fill(0);
      this.generation = 1;
    }
  }

  /** True when v was not in the set (and is now). */
  add(v: number): boolean {
    const mask = SCRATCH_SIZE - 1;
    let i = ((v / H_SCALE) >>> 0) & mask;
    for (;;) {
      if (this.marks[i] !== this.generation) {
        this.marks[i] = this.generation;
        this.keys[i] = v;
        return true;
      }
      if (this.keys[i] === v) return false;
      i = (i + 1) & mask;
    }
  }
}

/**
 * An empty list whose elements kind already holds objects. A `[]` holds
 * small integers until its first push turns it: that changed its map, and
 * V8 threw away the compaction's code each time a new table's list turned
 * (4-5 deoptimisations per worker in a 1M-tweet run, "wrong map" and "not a
 * Smi" at the push).
 */
function registersList(): Uint8Array[] {
  const list = [new Uint8Array(0)];
  list.pop();
  return list;
}

function powerOfTwoAtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

function grown<T extends Float64Array | Int32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/*
 * compact()'s loops are functions of their own: V8 compiles a long loop while
 * it runs (on-stack replacement), and with the stores after it, which had
 * not run yet, in the same code, it threw that code away as soon as the
 * loop ended, at every flush.
 */

/** Where each slot's run starts when the log is grouped (n + 1 offsets; a dense slot's run is empty). */
function groupStarts(logged: Int32Array, n: number): Int32Array {
  const start = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) start[s + 1] = start[s] + Math.max(logged[s], 0);
  return start;
}

/**
 * Copies the kept runs (slot s's at runStart[s], for the slots there were
 * then) to the front of each slot's place in `out` (start[s]).
 */
function moveRuns(hashes: Float64Array, runStart: Int32Array, start: Int32Array, out: Float64Array): void {
  const runs = runStart.length - 1;
  for (let s = 0; s < runs; s++) {
    const from = runStart[s];
    const to = runStart[s + 1];
    if (to - from === 1) out[start[s]] = hashes[from];
    else if (to > from) out.set(hashes.subarray(from, to), start[s]);
  }
}

/** The log's added entries [from, count) grouped by slot into `out`, each after its slot's kept run. */
function scatter(
  hashes: Float64Array,
  slots: Int32Array,
  from: number,
  count: number,
  start: Int32Array,
  runStart: Int32Array,
  out: Float64Array,
): void {
  const next = start.slice(0, start.length - 1);
  const runs = runStart.length - 1;
  for (let s = 0; s < runs; s++) next[s] += runStart[s + 1] - runStart[s];
  for (let i = from; i < count; i++) out[next[slots[i]]++] = hashes[i];
}
