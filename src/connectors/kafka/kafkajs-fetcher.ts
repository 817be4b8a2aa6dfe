/**
 * The kafkajs PartitionFetcher (`?client=kafkajs`): reads chosen partitions
 * of one topic from chosen offsets, inside one worker thread, for all of that
 * worker's Kafka splits at once (one connection set and one fetch loop per
 * worker, not per partition).
 *
 * kafkajs only consumes through a consumer group. This uses a group of its
 * own (a fresh id per fetcher, so no other process ever joins it and a
 * SIGKILLed run never holds up a restarted one's join) whose assigner hands
 * this single member exactly the partitions asked for: kafkajs' missing
 * assign(). Offsets are never committed to that group; where to read is ours:
 * after every (re)join the partitions are sought to the next offset not yet
 * fetched, and anything older that arrives anyway is dropped.
 */
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Consumer, type EachBatchPayload, type PartitionAssigner } from 'kafkajs';
import { FloeError } from '../../runtime/errors';
import { withRetry } from '../../runtime/retry';
import { createKafka, kafkaError, kafkaRetriable } from './kafka-client';
import {
  buffered,
  MAX_BUFFERED,
  PartitionQueue,
  STALL_MS,
  START_ATTEMPTS,
  type FetcherOptions,
  type PartitionFetcher,
} from './partition-fetcher';

export class KafkajsPartitionFetcher implements PartitionFetcher {
  private readonly queues = new Map<number, PartitionQueue>();
  private consumer: Consumer | null = null;
  private starting: Promise<void> | null = null;
  private failure: FloeError | null = null;
  private drained: (() => void) | null = null;
  private readonly groupId = `floe-reader-${randomUUID()}`;
  /** Counts starts, so that a superseded start's retries stop. */
  private generation = 0;
  /** Processing time of the last completed fetch (empty ones too), ms; 0 before the first. */
  private lastFetchAt = 0;

  constructor(private readonly options: FetcherOptions) {}

  /** Registers a partition starting at `offset`; once fetching has started, the consumer re-joins to take it. */
  add(partition: number, offset: number): PartitionQueue {
    const q = new PartitionQueue(partition, offset);
    this.queues.set(partition, q);
    if (this.starting !== null && this.failure === null) {
      // The assignment is fixed per join: a new consumer (in a new join) asks for the new set.
      this.starting = null;
      void this.ensureStarted().catch(() => undefined);
    }
    return q;
  }

  /** Starts fetching (once); resolves when the consumer has joined. Throws what made it fail. */
  ensureStarted(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.starting !== null) return this.starting;
    const generation = ++this.generation;
    // A newer start (partitions added) supersedes this one, retries included.
    const superseded = (): boolean => generation !== this.generation;
    this.starting = withRetry(() => (superseded() ? Promise.resolve() : this.start(superseded)), {
      attempts: START_ATTEMPTS,
      initialDelayMs: 500,
      maxDelayMs: 10_000,
      retryOn: (err) => kafkaRetriable(err) && this.queues.size > 0 && !superseded(),
      onRetry: (err, attempt, delayMs) => {
        this.options.log?.('warn', 'kafka source: cannot start reading yet, retrying', {
          attempt,
          delayMs,
          error: (err as Error)?.message,
        });
      },
    }).catch((err: unknown) => {
      if (superseded()) return;
      this.failure = kafkaError('SOURCE_IO', `kafka source ${this.options.topic}`, err);
      throw this.failure;
    });
    return this.starting;
  }

  /**
   * True while no fetch has completed lately (joining, or the broker is
   * unreachable): the partitions are not idle, only cut off, and must keep
   * holding the watermark back, or their records would be late once the
   * broker is back.
   */
  stalled(now: number): boolean {
    return now - this.lastFetchAt > STALL_MS + this.options.fetchMaxWaitMs;
  }

  /** Reader side: throws a fatal fetch error, if any. */
  check(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** A reader took records: the fetch loop may go on. */
  notifyTaken(): void {
    if (this.drained !== null && this.buffered() < MAX_BUFFERED / 2) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }

  private buffered(): number {
    return buffered(this.queues);
  }

  isEmpty(): boolean {
    return this.queues.size === 0;
  }

  /** Stops fetching a partition (its bounded split ended or its reader closed). */
  async release(partition: number): Promise<void> {
    this.queues.delete(partition);
    if (this.consumer !== null && this.queues.size > 0) {
      this.consumer.pause([{ topic: this.options.topic, partitions: [partition] }]);
      return;
    }
    if (this.queues.size === 0) await this.close();
  }

  async close(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    const d = this.drained;
    this.drained = null;
    d?.();
    await c?.disconnect().catch(() => undefined);
  }

  private assigner(): PartitionAssigner {
    const topic = this.options.topic;
    const wanted = (): number[] => [...this.queues.keys()].sort((a, b) => a - b);
    return () => ({
      name: 'FloeChosenPartitions',
      version: 1,
      protocol: ({ topics }) => ({
        name: 'FloeChosenPartitions',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(wanted())),
        }),
      }),
      // Each member gets what it asked for (the group has one member: ours).
      assign: async ({ members }) =>
        members.map(({ memberId, memberMetadata }) => {
          const meta = AssignerProtocol.MemberMetadata.decode(memberMetadata);
          const partitions = meta ? (JSON.parse(meta.userData.toString() || '[]') as number[]) : [];
          return {
            memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({
              version: 1,
              assignment: { [topic]: partitions },
              userData: Buffer.alloc(0),
            }),
          };
        }),
    });
  }

  private async start(superseded: () => boolean): Promise<void> {
    const { brokers, topic, log } = this.options;
    // A failed attempt, or the consumer of a superseded start, is left behind: drop it first.
    await this.consumer?.disconnect().catch(() => undefined);
    if (superseded()) return;
    const kafka = createKafka({ brokers, clientId: 'floe-source', log });
    const consumer = kafka.consumer({
      groupId: this.groupId,
      partitionAssigners: [this.assigner()],
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: this.options.fetchMaxBytes,
      maxBytes: Math.max(this.options.fetchMaxBytes * 4, 50 * 1024 * 1024),
      maxWaitTimeInMs: this.options.fetchMaxWaitMs,
      readUncommitted: false,
      // Broker restarts: kafkajs restarts the consumer after its retries; keep doing so.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    // After every join (the first, and each after a broker restart or rebalance): read on from where we are.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const q of this.queues.values()) {
        consumer.seek({ topic, partition: q.partition, offset: String(q.fetchedNext) });
      }
    });
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
    });
    // A fetch that held only transaction markers never reaches eachBatch; its offsets still count as read.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const q = this.queues.get(payload.partition);
      if (q !== undefined && payload.batchSize === 0) q.skipTo(Number(payload.lastOffset) + 1);
    });
    let joined = false;
    let crashedWhileStarting: unknown = null;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.consumer !== consumer) return;
      if (!joined) {
        crashedWhileStarting = payload.error;
        return;
      }
      if (!kafkaRetriable(payload.error)) {
        this.failure = kafkaError('SOURCE_IO', `kafka source ${topic}`, payload.error);
        return;
      }
      // kafkajs gave up on this consumer (a broker gone for a while), but it may come back: start another.
      log?.('warn', 'kafka source: consumer stopped, starting again', { error: payload.error.message });
      this.starting = null;
      void this.ensureStarted().catch(() => undefined);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // kafkajs fetches on from the offsets it resolved (autoCommit is off: nothing goes to the group).
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
    // kafkajs reports a failed first join through the crash event, not through run().
    if (superseded()) {
      await consumer.disconnect().catch(() => undefined);
      return;
    }
    if (crashedWhileStarting !== null) throw crashedWhileStarting;
    joined = true;
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const q = this.queues.get(batch.partition);
    if (q === undefined || isStale()) return;
    // kafkajs' values are slices of its response buffer, never written again.
    for (const m of batch.messages) q.add(Number(m.offset), m.value, 0, m.value?.length ?? 0);
    q.advance(Number(batch.lastOffset()));
    // Backpressure: the worker reads slower than Kafka delivers; wait, but keep the group membership alive.
    while (this.consumer !== null && this.buffered() >= MAX_BUFFERED && isRunning() && !isStale()) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, 1000);
      });
      await heartbeat().catch(() => undefined);
    }
  }
}
