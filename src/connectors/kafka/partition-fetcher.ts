/**
 * What the Kafka source's readers need from a Kafka client, inside one
 * worker thread: fetch chosen partitions of one topic from chosen offsets
 * (one fetcher per worker and topic, for all of that worker's Kafka splits),
 * into one queue per partition. Two implementations, chosen by the source's
 * `client` option: kafkajs (kafkajs-fetcher.ts) and our own Fetch requests
 * over node:net (native-fetcher.ts).
 */
import type { ConnectorLog } from '../contract';
import type { RecordSink } from './record-batch-decoder';

/**
 * One partition's fetched records not yet handed to its reader, in columns
 * (offset, buffer, start, end): no object per record, since records wait here
 * long enough to survive young-generation GCs (see RecordSink).
 */
export class PartitionQueue implements RecordSink {
  private offsets: number[] = [];
  private bufs: (Buffer | null)[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private head = 0;
  /** Offset after the last record (or control record) fetched; where the next fetch starts. */
  fetchedNext: number;

  constructor(
    readonly partition: number,
    start: number,
  ) {
    this.fetchedNext = start;
  }

  get length(): number {
    return this.offsets.length - this.head;
  }

  /** Offset of the first record not handed out yet. */
  nextOffset(): number {
    return this.head < this.offsets.length ? this.offsets[this.head] : this.fetchedNext;
  }

  /** One fetched record; dropped when fetched before (a re-join or a stale fetch). Call advance() after a batch. */
  add(offset: number, buf: Buffer | null, start: number, end: number): void {
    if (offset < this.fetchedNext) return;
    this.offsets.push(offset);
    this.bufs.push(buf);
    this.starts.push(start);
    this.ends.push(end);
  }

  /** The fetch got up to `lastOffset` (records, markers or aborted records alike): the next starts after it. */
  advance(lastOffset: number): void {
    this.fetchedNext = Math.max(this.fetchedNext, lastOffset + 1);
  }

  /** Advances past offsets that carried nothing to read (transaction markers, aborted records). */
  skipTo(offset: number): void {
    this.fetchedNext = Math.max(this.fetchedNext, offset);
  }

  /**
   * Hands out up to `max` records in offset order, stopping before
   * `endOffset` (null: no end), to `each`; returns how many.
   */
  take(
    max: number,
    endOffset: number | null,
    each: (offset: number, buf: Buffer | null, start: number, end: number) => void,
  ): number {
    const stop = Math.min(this.offsets.length, this.head + max);
    let i = this.head;
    for (; i < stop; i++) {
      if (endOffset !== null && this.offsets[i] >= endOffset) break;
      each(this.offsets[i], this.bufs[i], this.starts[i], this.ends[i]);
    }
    const taken = i - this.head;
    this.head = i;
    if (this.head > 4096 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.bufs = this.bufs.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}

export interface FetcherOptions {
  brokers: string[];
  topic: string;
  fetchMaxBytes: number;
  fetchMaxWaitMs: number;
  log?: ConnectorLog;
}

/** Attempts to (re)connect and start fetching (a broker restarting): about 2 minutes in all. */
export const START_ATTEMPTS = 16;

/** A fetcher with no completed fetch for this long (plus the fetch wait) is cut off from the broker. */
export const STALL_MS = 3000;

/** Records a fetcher holds per worker before its fetch loop waits for readers to catch up. */
export const MAX_BUFFERED = 50_000;

export interface PartitionFetcher {
  /** Registers a partition starting at `offset`; a running fetcher picks it up. */
  add(partition: number, offset: number): PartitionQueue;
  /** Starts fetching (once); resolves when connected. Throws what made it fail. */
  ensureStarted(): Promise<void>;
  /**
   * True while no fetch has completed lately (connecting, or the broker is
   * unreachable): the partitions are not idle, only cut off, and must keep
   * holding the watermark back, or their records would be late once the
   * broker is back.
   */
  stalled(now: number): boolean;
  /** Reader side: throws a fatal fetch error, if any. */
  check(): void;
  /** A reader took records: the fetch loop may go on. */
  notifyTaken(): void;
  isEmpty(): boolean;
  /** Stops fetching a partition (its bounded split ended or its reader closed); closes when none is left. */
  release(partition: number): Promise<void>;
  close(): Promise<void>;
}

/** Records buffered in a fetcher's queues. */
export function buffered(queues: Map<number, PartitionQueue>): number {
  let n = 0;
  for (const q of queues.values()) n += q.length;
  return n;
}
