/**
 * The native PartitionFetcher (`?client=native`, the default): Fetch requests
 * of our own over node:net, record batches decoded by record-batch-decoder.ts.
 * kafkajs spends most of a read in decoding (a 64-bit object and a string per
 * offset and timestamp, a Buffer per key and value) and in the garbage that
 * makes; this path turns each record into an offset number and the byte
 * range of its value in the response, and nothing else (bench/KAFKA.md has
 * the numbers).
 *
 * No consumer group at all: a fetch names partitions and offsets directly
 * (what kafkajs lacks as assign()), so nothing is joined, rebalanced or
 * heartbeated, and the next offset to fetch is always ours. One loop per
 * fetcher: find each partition's leader (Metadata), send one Fetch per leader
 * for all of this worker's partitions at their next offsets, decode, repeat.
 * A lost connection or a moved leader sends it back to the Metadata step,
 * with bounded retries (START_ATTEMPTS) before the source fails.
 */
import { FloeError } from '../../runtime/errors';
import { backoffDelay, withRetry } from '../../runtime/retry';
import { kafkaError } from './kafka-client';
import { KafkaConnection } from './kafka-connection';
import {
  API_FETCH,
  API_METADATA,
  decodeFetchResponse,
  decodeMetadataResponse,
  encodeFetchRequest,
  encodeMetadataRequest,
  ERROR,
  errorName,
  FETCH_VERSION,
  METADATA_VERSION,
  retriableErrorCode,
  type FetchPartitionRequest,
} from './kafka-fetch-protocol';
import {
  buffered,
  MAX_BUFFERED,
  PartitionQueue,
  STALL_MS,
  START_ATTEMPTS,
  type FetcherOptions,
  type PartitionFetcher,
} from './partition-fetcher';
import { decodeRecordSet } from './record-batch-decoder';

const CONNECT_TIMEOUT_MS = 3000;
/** A request gets this long beyond the broker's fetch wait before the connection counts as dead. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Thrown inside the loop when a partition's leader must be looked up again; never leaves the fetcher. */
class StaleMetadata extends Error {}

export class NativePartitionFetcher implements PartitionFetcher {
  private readonly queues = new Map<number, PartitionQueue>();
  /** host:port -> open connection. */
  private readonly connections = new Map<string, KafkaConnection>();
  /** Partition -> host:port of its leader, as the last Metadata said. */
  private leaders = new Map<number, string>();
  private started: Promise<void> | null = null;
  private failure: FloeError | null = null;
  private closed = false;
  private drained: (() => void) | null = null;
  /** Processing time of the last completed fetch (empty ones too), ms; 0 before the first. */
  private lastFetchAt = 0;

  constructor(private readonly options: FetcherOptions) {}

  add(partition: number, offset: number): PartitionQueue {
    const q = new PartitionQueue(partition, offset);
    this.queues.set(partition, q);
    return q;
  }

  ensureStarted(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.started === null) {
      this.started = new Promise<void>((resolve, reject) => {
        void this.run(resolve).catch((err: unknown) => {
          this.failure = kafkaError('SOURCE_IO', `kafka source ${this.options.topic}`, err);
          reject(this.failure);
        });
      });
      // Readers poll ensureStarted without awaiting it; the failure reaches them through check().
      this.started.catch(() => undefined);
    }
    return this.started;
  }

  stalled(now: number): boolean {
    return now - this.lastFetchAt > STALL_MS + this.options.fetchMaxWaitMs;
  }

  check(): void {
    if (this.failure !== null) throw this.failure;
  }

  notifyTaken(): void {
    if (this.drained !== null && buffered(this.queues) < MAX_BUFFERED / 2) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }

  isEmpty(): boolean {
    return this.queues.size === 0;
  }

  async release(partition: number): Promise<void> {
    this.queues.delete(partition);
    if (this.queues.size === 0) await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
    const d = this.drained;
    this.drained = null;
    d?.();
  }

  /**
   * The fetch loop: connect (bounded retries), fetch until something goes
   * wrong, and again. Returns when closed; throws what cannot be retried.
   */
  private async run(onConnected: () => void): Promise<void> {
    const { log, topic } = this.options;
    /** Failed rounds since the last successful fetch: a broker that answers Metadata but never Fetch must not loop forever. */
    let failures = 0;
    while (!this.closed) {
      await withRetry(() => this.refreshMetadata(), {
        attempts: START_ATTEMPTS,
        initialDelayMs: 500,
        maxDelayMs: 10_000,
        retryOn: (err) => !this.closed && err instanceof FloeError && err.retriable,
        onRetry: (err, attempt, delayMs) =>
          log?.('warn', 'kafka source: cannot reach the partition leaders yet, retrying', {
            topic,
            attempt,
            delayMs,
            error: (err as Error)?.message,
          }),
      });
      onConnected();
      try {
        for (;;) {
          if (this.closed) return;
          await this.fetchRound();
          failures = 0;
        }
      } catch (err) {
        if (this.closed) return;
        if (err instanceof StaleMetadata) {
          // Leadership moving (a broker restarting) or a partition added: look again, soon.
          if (++failures >= START_ATTEMPTS)
            throw new FloeError('SOURCE_IO', `kafka source ${topic}: partition leaders keep moving`, {
              retriable: true,
            });
          await new Promise((resolve) =>
            setTimeout(resolve, backoffDelay(failures, 100, 10_000, Math.random)),
          );
          continue;
        }
        if (!(err instanceof FloeError && err.retriable) || ++failures >= START_ATTEMPTS) throw err;
        for (const c of this.connections.values()) c.close();
        this.connections.clear();
        const delayMs = backoffDelay(failures, 500, 10_000, Math.random);
        log?.('warn', 'kafka source: fetching failed, reconnecting', {
          topic,
          attempt: failures,
          delayMs,
          error: err.message,
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private connection(address: string): KafkaConnection {
    let c = this.connections.get(address);
    if (c === undefined || c.closed) {
      const colon = address.lastIndexOf(':');
      c = new KafkaConnection({
        host: address.slice(0, colon),
        port: Number(address.slice(colon + 1)),
        clientId: 'floe-source',
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
      this.connections.set(address, c);
    }
    return c;
  }

  /** Asks the bootstrap brokers in turn where each partition's leader is. */
  private async refreshMetadata(): Promise<void> {
    const { brokers, topic } = this.options;
    let lastError: unknown;
    for (const address of brokers) {
      if (this.closed) return;
      try {
        const body = await this.connection(address).request(
          API_METADATA,
          METADATA_VERSION,
          encodeMetadataRequest(topic),
          REQUEST_TIMEOUT_MS,
        );
        const meta = decodeMetadataResponse(body, topic);
        if (meta.errorCode !== ERROR.NONE)
          throw new FloeError('SOURCE_IO', `kafka source ${topic}: metadata: ${errorName(meta.errorCode)}`, {
            retriable: retriableErrorCode(meta.errorCode),
          });
        const leaders = new Map<number, string>();
        for (const partition of this.queues.keys()) {
          const p = meta.partitions.get(partition);
          const broker = p === undefined ? undefined : meta.brokers.get(p.leader);
          if (broker === undefined)
            throw new FloeError('SOURCE_IO', `kafka source ${topic}/${partition}: no leader known yet`, {
              retriable: true,
            });
          leaders.set(partition, `${broker.host}:${broker.port}`);
        }
        this.leaders = leaders;
        return;
      } catch (err) {
        this.connections.get(address)?.close();
        this.connections.delete(address);
        if (err instanceof FloeError && !err.retriable) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  /** One Fetch per leader for every partition, at its next offset; records into the queues. */
  private async fetchRound(): Promise<void> {
    // Backpressure: the worker reads slower than Kafka delivers.
    while (!this.closed && buffered(this.queues) >= MAX_BUFFERED) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, 1000);
      });
    }
    if (this.closed) return;
    if (this.queues.size === 0) {
      // Between the last reader leaving and close(), or before the first arrives.
      await new Promise((resolve) => setTimeout(resolve, this.options.fetchMaxWaitMs));
      return;
    }
    const byLeader = new Map<string, { q: PartitionQueue; offset: number }[]>();
    for (const q of this.queues.values()) {
      const leader = this.leaders.get(q.partition);
      if (leader === undefined) throw new StaleMetadata(); // a partition added since the last Metadata
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push({ q, offset: q.fetchedNext });
    }
    await Promise.all([...byLeader].map(([leader, parts]) => this.fetchFrom(leader, parts)));
    this.lastFetchAt = Date.now();
  }

  private async fetchFrom(leader: string, parts: { q: PartitionQueue; offset: number }[]): Promise<void> {
    const { topic, fetchMaxBytes, fetchMaxWaitMs } = this.options;
    const request = encodeFetchRequest({
      topic,
      partitions: parts.map<FetchPartitionRequest>(({ q, offset }) => ({ partition: q.partition, offset })),
      maxWaitMs: fetchMaxWaitMs,
      maxBytes: Math.max(fetchMaxBytes * parts.length, fetchMaxBytes),
      partitionMaxBytes: fetchMaxBytes,
    });
    const body = await this.connection(leader).request(
      API_FETCH,
      FETCH_VERSION,
      request,
      fetchMaxWaitMs + REQUEST_TIMEOUT_MS,
    );
    let stale = false;
    for (const p of decodeFetchResponse(body, topic)) {
      const asked = parts.find((x) => x.q.partition === p.partition);
      // A partition released (or released and added again) while the fetch was out: not ours any more.
      if (
        asked === undefined ||
        this.queues.get(p.partition) !== asked.q ||
        asked.q.fetchedNext !== asked.offset
      )
        continue;
      if (p.errorCode === ERROR.OFFSET_OUT_OF_RANGE)
        throw new FloeError(
          'SOURCE_IO',
          `kafka source ${topic}/${p.partition}: offset ${asked.offset} is out of range (deleted by retention, or the topic was recreated); exactly-once reading cannot go on`,
        );
      if (p.errorCode !== ERROR.NONE) {
        if (!retriableErrorCode(p.errorCode))
          throw new FloeError(
            'SOURCE_IO',
            `kafka source ${topic}/${p.partition}: fetch: ${errorName(p.errorCode)}`,
          );
        stale = true;
        continue;
      }
      if (p.recordsEnd === p.recordsStart) continue;
      const res = decodeRecordSet(
        body,
        p.recordsStart,
        p.recordsEnd,
        {
          topic,
          partition: p.partition,
          fetchOffset: asked.offset,
          abortedTransactions: p.abortedTransactions,
        },
        asked.q,
      );
      asked.q.advance(res.nextOffset - 1);
    }
    if (stale) throw new StaleMetadata();
  }
}
