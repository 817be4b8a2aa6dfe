import { HyperLogLog, sparseBytes } from '../../state/hyperloglog';

const MIN_CAPACITY = 16;

/**
 * Count and author sketch per topic of one window, compact enough for a
 * million topics: a topic -> slot Map and typed-array columns, instead of an
 * object and a HyperLogLog per topic (~220 bytes each with their arrays).
 * Most topics of a large vocabulary have one author, so a sketch holding a
 * single hash lives inline in `ones` as its encoded hash (see encodeHashes);
 * only a second distinct hash makes a HyperLogLog, listed in `objects` (no
 * array slot per topic: at 500k topics a holey array of 4-6 MB, and as
 * much again in the copies it left behind while growing). A slot then costs
 * the Map entry, ~17 bytes of columns and its topic string.
 *
 * Slots are handed out in order and never reused (a table is dropped whole
 * with its window), so iterating the Map gives topics in arrival order.
 *
 * Copy-on-write for asynchronous checkpoints: freeze() marks every sketch
 * object as held by a capture; changing a frozen one replaces it with a copy.
 * Counts and inline hashes are copied by the capture instead (copyColumns).
 */
export class TopicTable {
  private readonly slots = new Map<string, number>();
  private counts = new Float64Array(MIN_CAPACITY);
  /**
   * The slot's sketch: > 0: encoded hash + 1 of a sketch holding exactly that
   * hash; 0: no authors; < 0: -(index + 1) of its object in `objects`.
   */
  private ones = new Float64Array(MIN_CAPACITY);
  /** Sketch objects, for slots with two or more distinct hashes (or merged from a dense one). */
  private objects: HyperLogLog[] = [];
  /** 1: the slot's sketch object is held by a capture; copy it before changing it. */
  private frozen = new Uint8Array(MIN_CAPACITY);

  get size(): number {
    return this.slots.size;
  }

  slotOf(topic: string): number | undefined {
    return this.slots.get(topic);
  }

  /** A new slot for a topic not in the table (count 0, no authors). */
  insert(topic: string): number {
    const slot = this.slots.size;
    if (slot === this.counts.length) this.grow();
    this.slots.set(topic, slot);
    return slot;
  }

  /** The topic's slot, inserted when absent. */
  slotFor(topic: string): number {
    const s = this.slots.get(topic);
    return s === undefined ? this.insert(topic) : s;
  }

  /** Topic -> slot, in arrival order. */
  entries(): IterableIterator<[string, number]> {
    return this.slots.entries();
  }

  topics(): IterableIterator<string> {
    return this.slots.keys();
  }

  count(slot: number): number {
    return this.counts[slot];
  }

  addCount(slot: number, n: number): void {
    this.counts[slot] += n;
  }

  /** Distinct authors: exact for sparse sketches, the HyperLogLog estimate for dense ones. */
  distinct(slot: number): number {
    const one = this.ones[slot];
    if (one < 0) return this.objects[-one - 1].estimate();
    return one === 0 ? 0 : 1;
  }

  /** Adds one author by its encoded hashes (encodeHashes). */
  addEncoded(slot: number, v: number): void {
    const one = this.ones[slot];
    if (one < 0) this.writable(slot, -one - 1).addEncoded(v);
    else if (one === 0) this.ones[slot] = v + 1;
    else if (one !== v + 1) this.promote(slot).addEncoded(v);
  }

  /** Adds the authors values[from..to) (encoded hashes, e.g. a sparse sketch's). */
  addEncodedRun(slot: number, values: ArrayLike<number>, from: number, to: number): void {
    // Inline while it stays one hash; then one sketch takes the rest in one step.
    let i = from;
    for (; i < to && this.ones[slot] >= 0; i++) this.addEncoded(slot, values[i]);
    if (i < to) this.writable(slot, -this.ones[slot] - 1).addEncodedRun(values, i, to);
  }

  /**
   * addEncodedRun for hashes the caller vouches are distinct (one partial's,
   * see PartialBatch): a slot without authors takes two or more of them as
   * they are. Most (window, topic) slots of a window stage get their first
   * partial this way, and the duplicate checks were most of a merge.
   */
  addDistinctRun(slot: number, values: ArrayLike<number>, from: number, to: number): void {
    if (to - from >= 2 && this.ones[slot] === 0)
      this.attach(slot, HyperLogLog.fromDistinctEncoded(values, from, to));
    else this.addEncodedRun(slot, values, from, to);
  }

  /** Merges a sketch into the slot's; `other` is not kept or changed. */
  mergeSketch(slot: number, other: HyperLogLog): void {
    const one = this.ones[slot];
    if (one < 0) this.writable(slot, -one - 1).merge(other);
    else if (!other.isDense() && other.estimate() <= 1) {
      // Stays inline: a one-hash sketch is its only hash.
      for (const v of sparseOf(other)) this.addEncoded(slot, v);
    } else this.promote(slot).merge(other);
  }

  /** The slot's sketch as an object: its own (do not change it) or a new one for an inline hash. */
  sketch(slot: number): HyperLogLog {
    const one = this.ones[slot];
    if (one < 0) return this.objects[-one - 1];
    const h = new HyperLogLog();
    if (one !== 0) h.addEncoded(one - 1);
    return h;
  }

  /**
   * Appends the slot's author sketch to `out` as encoded hashes (a sparse sketch's values, in no
   * particular order), or returns a copy of its registers when it is dense.
   */
  appendHashes(slot: number, out: number[]): Uint8Array | undefined {
    const one = this.ones[slot];
    if (one >= 0) {
      if (one !== 0) out.push(one - 1);
      return undefined;
    }
    const sk = this.objects[-one - 1];
    if (sk.appendSparseTo(out)) return undefined;
    const s = sk.toSerialized();
    return 'dense' in s ? s.dense : undefined;
  }

  /** Marks every sketch object as held by a capture (see the class comment). */
  freeze(): void {
    this.frozen.fill(1, 0, this.slots.size);
  }

  /** The columns as of now, for a capture: copies of counts and inline hashes, the sketch objects shared. */
  copyColumns(): TopicColumns {
    const n = this.slots.size;
    return {
      topics: [...this.slots.keys()],
      counts: this.counts.slice(0, n),
      ones: this.ones.slice(0, n),
      objects: this.objects.slice(),
    };
  }

  /** Sketch object `index` (of `slot`), copied first when a capture holds it. */
  private writable(slot: number, index: number): HyperLogLog {
    const sk = this.objects[index];
    if (this.frozen[slot] === 0) return sk;
    const copy = sk.clone();
    this.objects[index] = copy;
    this.frozen[slot] = 0;
    return copy;
  }

  /** Moves an inline hash (if any) into a new sketch object. */
  private promote(slot: number): HyperLogLog {
    const h = new HyperLogLog();
    const one = this.ones[slot];
    if (one > 0) h.addEncoded(one - 1);
    return this.attach(slot, h);
  }

  /** Makes `h` (held by no capture) the slot's sketch object. */
  private attach(slot: number, h: HyperLogLog): HyperLogLog {
    this.objects.push(h);
    this.ones[slot] = -this.objects.length;
    this.frozen[slot] = 0;
    return h;
  }

  private grow(): void {
    const capacity = this.counts.length * 2;
    const counts = new Float64Array(capacity);
    counts.set(this.counts);
    this.counts = counts;
    const ones = new Float64Array(capacity);
    ones.set(this.ones);
    this.ones = ones;
    const frozen = new Uint8Array(capacity);
    frozen.set(this.frozen);
    this.frozen = frozen;
  }
}

/** A table's contents at a capture; see TopicTable.copyColumns. */
export interface TopicColumns {
  topics: string[];
  counts: Float64Array;
  /** As TopicTable's `ones`: an inline hash + 1, 0, or -(index + 1) in `objects`. */
  ones: Float64Array;
  objects: HyperLogLog[];
}

/** toBytes() of entry i's sketch in a capture. */
export function columnSketchBytes(c: TopicColumns, i: number): Uint8Array {
  const one = c.ones[i];
  if (one < 0) return c.objects[-one - 1].toBytes();
  return sparseBytes(one === 0 ? [] : [one - 1]);
}

function sparseOf(h: HyperLogLog): number[] {
  const s = h.toSerialized();
  return 'sparse' in s ? s.sparse : [];
}
