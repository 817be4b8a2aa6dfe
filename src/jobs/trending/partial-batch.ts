import type { PartialBatch } from './trending-messages';

/** Where a table puts a slot's author hashes (encoded, below 2^53): one at a time or as a run. */
export interface HashSink {
  add(v: number): void;
  /** values[from, to), copied now. */
  addRun(values: Float64Array, from: number, to: number): void;
}

/** A table of partials by slot (PreAggregateTable). */
export interface PartialSource {
  count(slot: number): number;
  /** Puts a sparse sketch's hashes into `out`, or returns registers the caller may hand over. */
  appendHashesTo(slot: number, out: HashSink): Uint8Array | undefined;
}

/** Collects partials for one destination worker into a PartialBatch (see there for the layout). */
export class PartialBatchBuilder implements HashSink {
  private starts: number[] = [];
  // The arrays are holey (see holey()): a batch from a peer arrives structured-cloned, and clones
  // are holey; with one elements kind, the window stage's addBatch is not recompiled for the second.
  private topics: string[] = holey();
  private counts: number[] = [];
  private hashOffsets: number[] = [0];
  /**
   * The hashes column as it will be sent: a flush hands on hundreds of
   * thousands of them, which went into a JS array one push at a time and
   * were then copied into a typed array; a table's runs are copied in one
   * step instead.
   */
  private hashes = new Float64Array(1024);
  private hashCount = 0;
  private denseIndex: number[] = holey();
  private dense: Uint8Array[] = holey();

  get length(): number {
    return this.starts.length;
  }

  /** One tweet's partial: count 1 and its author's encoded hashes, or -1 for no author. */
  addSingle(start: number, topic: string, hash: number): void {
    this.starts.push(start);
    this.topics.push(topic);
    this.counts.push(1);
    if (hash !== -1) this.add(hash);
    this.hashOffsets.push(this.hashCount);
  }

  /** The partial held in a table slot. */
  addSlot(start: number, topic: string, table: PartialSource, slot: number): void {
    const dense = table.appendHashesTo(slot, this);
    if (dense !== undefined) {
      this.denseIndex.push(this.starts.length);
      this.dense.push(dense);
    }
    this.starts.push(start);
    this.topics.push(topic);
    this.counts.push(table.count(slot));
    this.hashOffsets.push(this.hashCount);
  }

  add(v: number): void {
    if (this.hashCount === this.hashes.length) this.grow(this.hashCount + 1);
    this.hashes[this.hashCount++] = v;
  }

  addRun(values: Float64Array, from: number, to: number): void {
    const n = to - from;
    if (this.hashCount + n > this.hashes.length) this.grow(this.hashCount + n);
    this.hashes.set(values.subarray(from, to), this.hashCount);
    this.hashCount += n;
  }

  private grow(needed: number): void {
    let length = this.hashes.length * 2;
    while (length < needed) length *= 2;
    const hashes = new Float64Array(length);
    hashes.set(this.hashes.subarray(0, this.hashCount));
    this.hashes = hashes;
  }

  /** The batch, and the buffers to transfer with it. */
  build(): { batch: PartialBatch; transfer: ArrayBuffer[] } {
    const batch: PartialBatch = {
      starts: Float64Array.from(this.starts),
      topics: this.topics,
      counts: Float64Array.from(this.counts),
      hashOffsets: Uint32Array.from(this.hashOffsets),
      // A copy of its own, just long enough (the builder's column has room to spare).
      hashes: this.hashes.slice(0, this.hashCount),
      denseIndex: this.denseIndex,
      dense: this.dense,
    };
    // Buffers of their own (from(); registers a table has done with): safe to hand over.
    const transfer: ArrayBuffer[] = [
      batch.starts,
      batch.counts,
      batch.hashOffsets,
      batch.hashes,
      ...batch.dense,
    ].map((a) => a.buffer as ArrayBuffer);
    return { batch, transfer };
  }
}

/** An empty array with holey elements, as structured clone makes them (V8 keeps the kind as it grows). */
function holey<T>(): T[] {
  const a = new Array<T>(1);
  a.length = 0;
  return a;
}
