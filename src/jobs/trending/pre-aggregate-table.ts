import { HLL_PRECISION, HLL_SPARSE_LIMIT, HyperLogLog, setEncoded } from '../../state/hyperloglog';
import type { HashSink } from './partial-batch';

const MIN_SLOTS = 64;
const MIN_PAIRS = 1024;
/** 2^53: encoded hashes are below it, so v / H_SCALE is their top 32 bits (well mixed). */
const H_SCALE = 2 ** 21;

/**
 * What the de-duplication stage holds for one window until it hands it on:
 * per topic a count and the set of its authors' encoded hashes (see
 * encodeHashes), which the window stage merges into its sketches.
 *
 * The hashes of every topic live in one open-addressing set of (slot,
 * hash) pairs instead of a sketch object per topic: an author adds one probe
 * and no allocation (a sketch per topic cost a list copied on every insert,
 * then a growing table, and their garbage). A topic whose distinct hashes
 * pass HLL_SPARSE_LIMIT gets registers of its own, as a sketch turns dense
 * at that size, so the window stage receives exactly what it did from
 * sketches: the sparse values, or registers.
 *
 * Slots are handed out in order; entries() gives topics in arrival order.
 */
export class PreAggregateTable {
  private readonly slots = new Map<string, number>();
  private counts: Float64Array;
  /** Distinct hashes per slot in the pair set (it stops growing once the slot turns dense). */
  private pairsOf: Int32Array;
  /** Registers of the slots past the sparse limit. */
  private readonly dense = new Map<number, Uint8Array>();
  /** The pair set: hash + 1 (0 = empty) and its slot, at most half full. */
  private pairHashes: Float64Array;
  private pairSlots: Int32Array;
  private pairCount = 0;
  /** After group(): the slot's hashes are grouped[groupStart[slot] .. groupStart[slot + 1]). */
  private grouped: Float64Array | undefined;
  private groupStart: Int32Array | undefined;

  /**
   * `expected`: topics and (topic, author) pairs it will likely hold, e.g. the
   * previous window's; sized for them up front, it saves growing step by step
   * (each step re-inserts every pair).
   */
  constructor(expected: { topics: number; pairs: number } = { topics: 0, pairs: 0 }) {
    const slots = powerOfTwoAtLeast(Math.max(MIN_SLOTS, expected.topics));
    this.counts = new Float64Array(slots);
    this.pairsOf = new Int32Array(slots);
    const pairs = powerOfTwoAtLeast(Math.max(MIN_PAIRS, 2 * expected.pairs));
    this.pairHashes = new Float64Array(pairs);
    this.pairSlots = new Int32Array(pairs);
  }

  get size(): number {
    return this.slots.size;
  }

  /** (topic, author) pairs held. */
  get pairs(): number {
    return this.pairCount;
  }

  slotOf(topic: string): number | undefined {
    return this.slots.get(topic);
  }

  /** A new slot for a topic not in the table (count 0, no authors). */
  insert(topic: string): number {
    const slot = this.slots.size;
    if (slot === this.counts.length) {
      this.counts = grown(this.counts, 2 * slot);
      this.pairsOf = grown(this.pairsOf, 2 * slot);
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
    this.grouped = undefined;
    if (this.pairsOf[slot] === HLL_SPARSE_LIMIT + 1) {
      setEncoded(this.dense.get(slot) as Uint8Array, v);
      return;
    }
    const stored = v + 1;
    const hashes = this.pairHashes;
    const mask = hashes.length - 1;
    let i = (((v / H_SCALE) >>> 0) ^ Math.imul(slot, 0x9e3779b1)) & mask;
    for (;;) {
      const h = hashes[i];
      if (h === 0) break;
      if (h === stored && this.pairSlots[i] === slot) return;
      i = (i + 1) & mask;
    }
    if (this.pairsOf[slot] === HLL_SPARSE_LIMIT) {
      // The next distinct hash: a sketch would turn dense now. Its pairs join the registers when grouped.
      this.pairsOf[slot]++;
      const regs = new Uint8Array(1 << HLL_PRECISION);
      setEncoded(regs, v);
      this.dense.set(slot, regs);
      return;
    }
    hashes[i] = stored;
    this.pairSlots[i] = slot;
    this.pairsOf[slot]++;
    if (2 * ++this.pairCount > hashes.length) this.growPairs();
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
    this.group();
    const grouped = this.grouped as Float64Array;
    const start = this.groupStart as Int32Array;
    const regs = this.dense.get(slot);
    if (regs !== undefined) {
      for (let i = start[slot]; i < start[slot + 1]; i++) setEncoded(regs, grouped[i]);
      return regs;
    }
    out.addRun(grouped, start[slot], start[slot + 1]);
    return undefined;
  }

  /** The slot's authors as a sketch (for tests and simple callers). */
  sketch(slot: number): HyperLogLog {
    const hashes: number[] = [];
    const regs = this.appendHashes(slot, hashes);
    return HyperLogLog.fromSerialized(regs !== undefined ? { dense: regs.slice() } : { sparse: hashes });
  }

  /** Sorts the pairs by slot once (a counting sort), for appendHashes. */
  private group(): void {
    if (this.grouped !== undefined) return;
    const start = groupStarts(this.pairsOf, this.slots.size);
    this.grouped = groupHashes(this.pairHashes, this.pairSlots, start, this.pairCount);
    this.groupStart = start;
  }

  private growPairs(): void {
    const oldHashes = this.pairHashes;
    const oldSlots = this.pairSlots;
    const hashes = new Float64Array(2 * oldHashes.length);
    const slots = new Int32Array(2 * oldHashes.length);
    const mask = hashes.length - 1;
    for (let j = 0; j < oldHashes.length; j++) {
      const h = oldHashes[j];
      if (h === 0) continue;
      const slot = oldSlots[j];
      let i = ((((h - 1) / H_SCALE) >>> 0) ^ Math.imul(slot, 0x9e3779b1)) & mask;
      while (hashes[i] !== 0) i = (i + 1) & mask;
      hashes[i] = h;
      slots[i] = slot;
    }
    this.pairHashes = hashes;
    this.pairSlots = slots;
  }
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
 * group()'s loops are functions of their own: V8 compiles a long loop while
 * it runs (on-stack replacement), and with the stores after it, which had
 * not run yet, in the same code, it threw that code away as soon as the
 * loop ended, at every flush (8 deoptimisations in a 1M-tweet run).
 */

/** Where each slot's run starts in the grouped hashes (n + 1 offsets). */
function groupStarts(pairsOf: Int32Array, n: number): Int32Array {
  const start = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) start[s + 1] = start[s] + Math.min(pairsOf[s], HLL_SPARSE_LIMIT);
  return start;
}

/** The pairs' hashes (stored + 1, 0 = free) grouped by slot, each run at start[slot]. */
function groupHashes(
  hashes: Float64Array,
  slots: Int32Array,
  start: Int32Array,
  count: number,
): Float64Array {
  const next = start.slice(0, start.length - 1);
  const grouped = new Float64Array(count);
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i] !== 0) grouped[next[slots[i]]++] = hashes[i] - 1;
  }
  return grouped;
}
