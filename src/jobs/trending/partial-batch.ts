import type { PartialBatch } from './trending-messages';

/** A table of partials by slot (PreAggregateTable; TopicTable has the same two methods). */
export interface PartialSource {
  count(slot: number): number;
  /** Appends a sparse sketch's hashes to `out`, or returns registers the caller may hand over. */
  appendHashes(slot: number, out: number[]): Uint8Array | undefined;
}

/** Collects partials for one destination worker into a PartialBatch (see there for the layout). */
export class PartialBatchBuilder {
  private starts: number[] = [];
  private topics: string[] = [];
  private counts: number[] = [];
  private hashOffsets: number[] = [0];
  private hashes: number[] = [];
  private denseIndex: number[] = [];
  private dense: Uint8Array[] = [];

  get length(): number {
    return this.starts.length;
  }

  /** One tweet's partial: count 1 and its author's encoded hashes, or -1 for no author. */
  addSingle(start: number, topic: string, hash: number): void {
    this.starts.push(start);
    this.topics.push(topic);
    this.counts.push(1);
    if (hash !== -1) this.hashes.push(hash);
    this.hashOffsets.push(this.hashes.length);
  }

  /** The partial held in a table slot. */
  addSlot(start: number, topic: string, table: PartialSource, slot: number): void {
    const dense = table.appendHashes(slot, this.hashes);
    if (dense !== undefined) {
      this.denseIndex.push(this.starts.length);
      this.dense.push(dense);
    }
    this.starts.push(start);
    this.topics.push(topic);
    this.counts.push(table.count(slot));
    this.hashOffsets.push(this.hashes.length);
  }

  /** The batch, and the buffers to transfer with it. */
  build(): { batch: PartialBatch; transfer: ArrayBuffer[] } {
    const batch: PartialBatch = {
      starts: Float64Array.from(this.starts),
      topics: this.topics,
      counts: Float64Array.from(this.counts),
      hashOffsets: Uint32Array.from(this.hashOffsets),
      hashes: Float64Array.from(this.hashes),
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
