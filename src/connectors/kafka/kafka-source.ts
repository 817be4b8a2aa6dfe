/**
 * kafka://HOST:PORT/TOPIC source: one split per partition, read inside the
 * worker that owns it. A split's position is the next offset to read; it
 * lives in checkpoints, and a restore seeks there, so the job reads every
 * record exactly once into its state no matter what Kafka's consumer groups
 * remember. Offsets are reported to Kafka (consumer group `group`) only after
 * a checkpoint completes, for lag monitoring; reading never uses them.
 *
 * `?bounded=latest` ends each partition at the end offset seen when the job
 * first started (kept in the position, so a restore ends at the same place).
 */
import { Partitioners } from 'kafkajs';
import { FloeError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type {
  ConnectorLog,
  ParsedUri,
  PlanContext,
  PollResult,
  RawRecords,
  RecordBatch,
  SourceConnector,
  SplitDescriptor,
  SplitReader,
  SplitReaderContext,
} from '../contract';
import { rawRecordBatch } from '../contract';
import { connectAdmin, createKafka, kafkaError } from './kafka-client';
import {
  kafkaSourceSchema,
  parseKafkaAddress,
  type KafkaClientKind,
  type KafkaPosition,
  type KafkaSplitConfig,
} from './kafka-options';
import { KafkajsPartitionFetcher } from './kafkajs-fetcher';
import { NativePartitionFetcher } from './native-fetcher';
import type { PartitionFetcher, PartitionQueue } from './partition-fetcher';

/**
 * One fetcher per (brokers, topic) in this worker thread, shared by the
 * worker's readers of that topic. Module state is per thread: workers never share it.
 */
const fetchers = new Map<string, PartitionFetcher>();

/** Bytes of an oversize record kept for its dead-letter report. */
const OVERSIZE_PREFIX_BYTES = 1024;

/** Pause of a poll while the fetcher is cut off from the broker, ms. */
const STALLED_POLL_MS = 50;

/** Main thread: split id -> end offset of a bounded split as planned (for reporting ended splits' offsets). */
const plannedEnds = new Map<string, number>();

function fetcherFor(cfg: KafkaSplitConfig, context: SplitReaderContext): PartitionFetcher {
  const client = cfg.client ?? 'native';
  const key = `${client}:${cfg.brokers.join(',')}/${cfg.topic}`;
  let f = fetchers.get(key);
  if (f === undefined) {
    const options = {
      brokers: cfg.brokers,
      topic: cfg.topic,
      fetchMaxBytes: cfg.fetchMaxBytes,
      fetchMaxWaitMs: cfg.fetchMaxWaitMs,
      log: context.log,
    };
    f = client === 'kafkajs' ? new KafkajsPartitionFetcher(options) : new NativePartitionFetcher(options);
    fetchers.set(key, f);
  }
  return f;
}

class KafkaPartitionReader implements SplitReader {
  private readonly queue: PartitionQueue;
  private readonly fetcher: PartitionFetcher;
  private readonly end: number | null;
  private stopped = false;
  private released = false;

  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: KafkaSplitConfig,
    private readonly context: SplitReaderContext,
    position: KafkaPosition | undefined,
  ) {
    this.end = position?.end !== undefined ? position.end : cfg.end;
    this.fetcher = fetcherFor(cfg, context);
    this.queue = this.fetcher.add(cfg.partition, position?.offset ?? cfg.start);
  }

  private atEnd(): boolean {
    return this.end !== null && this.queue.nextOffset() >= this.end;
  }

  async poll(maxRecords: number): Promise<PollResult> {
    if (this.stopped || this.atEnd()) {
      await this.release();
      return 'end';
    }
    this.fetcher.check();
    // Joining takes a moment: the runner polls other splits (and passes barriers) meanwhile.
    void this.fetcher.ensureStarted().catch(() => undefined);
    if (this.queue.length === 0) {
      if (!this.fetcher.stalled(Date.now())) return 'idle';
      // Cut off from the broker: an empty batch, not 'idle', so the split keeps holding the watermark back.
      await new Promise((resolve) => setTimeout(resolve, STALLED_POLL_MS));
      return rawRecordBatch({ buffers: [], starts: [], ends: [] }, []);
    }
    const raw: RawRecords = { buffers: [], starts: [], ends: [] };
    const oversize: RecordBatch['oversize'] = [];
    const limit = this.context.maxRecordBytes;
    this.queue.take(maxRecords, this.end, (_offset, buf, start, end) => {
      if (buf === null) return; // a tombstone: nothing for the job
      if (end - start > limit) {
        oversize.push({
          prefix: buf.toString('utf8', start, start + OVERSIZE_PREFIX_BYTES),
          bytes: end - start,
        });
      } else {
        raw.buffers.push(buf);
        raw.starts.push(start);
        raw.ends.push(end);
      }
    });
    this.fetcher.notifyTaken();
    return rawRecordBatch(raw, oversize);
  }

  position(): unknown {
    const p: KafkaPosition = { offset: this.queue.nextOffset() };
    if (this.end !== null) p.end = this.end;
    return p;
  }

  stop(): void {
    this.stopped = true;
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.fetcher.release(this.cfg.partition);
    if (this.fetcher.isEmpty()) fetchers.forEach((f, k) => f === this.fetcher && fetchers.delete(k));
  }

  async close(): Promise<void> {
    await this.release();
  }
}

export const kafkaSource: SourceConnector = {
  scheme: 'kafka',
  usage:
    'kafka://HOST:PORT/TOPIC  JSON lines, one per record; a split per partition; ?bounded=latest stops at the end offsets seen at start; ?group=ID for lag monitoring; ?client=native|kafkajs',

  async planSplits(uri: ParsedUri, context: PlanContext): Promise<SplitDescriptor[]> {
    const { brokers, topic } = parseKafkaAddress(uri, 'source');
    const opts = parseOptions(kafkaSourceSchema, uri.params, 'kafka');
    const kafka = createKafka({ brokers, clientId: 'floe-plan', log: context.log, retries: 2 });
    const admin = await connectAdmin(kafka, brokers, opts['connect-attempts'], 'SOURCE_IO', context.log);
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(topic))
        throw new FloeError(
          'SOURCE_NOT_FOUND',
          `kafka source: topic ${topic} does not exist on ${brokers.join(',')}`,
        );
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets
        .sort((a, b) => a.partition - b.partition)
        .map((o) => {
          const low = Number(o.low);
          const high = Number(o.high);
          const cfg: KafkaSplitConfig = {
            brokers,
            topic,
            partition: o.partition,
            start: opts.from === 'latest' ? high : low,
            end: opts.bounded === 'latest' ? high : null,
            fetchMaxBytes: opts['fetch-max-bytes'],
            fetchMaxWaitMs: opts['fetch-max-wait'],
            client: opts.client as KafkaClientKind,
          };
          return {
            id: `kafka:${topic}/${o.partition}`,
            connector: 'kafka',
            bounded: cfg.end !== null,
            config: cfg,
          };
        });
    } catch (err) {
      throw kafkaError('SOURCE_IO', `kafka source ${topic}`, err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },

  async discoverSplits(uri: ParsedUri, context: PlanContext): Promise<SplitDescriptor[]> {
    const opts = parseOptions(kafkaSourceSchema, uri.params, 'kafka');
    if (opts.bounded !== 'none' || !opts.discover) return [];
    // A partition found while running is new: all of it is unread, whatever `from` says.
    const all = await this.planSplits({ ...uri, params: { ...uri.params, from: 'earliest' } }, context);
    return all;
  },

  createReader(split: SplitDescriptor, context: SplitReaderContext, position?: unknown): SplitReader {
    return new KafkaPartitionReader(
      split,
      split.config as KafkaSplitConfig,
      context,
      position as KafkaPosition | undefined,
    );
  },

  notifyCheckpointComplete: (uri, checkpointId, positions, log) =>
    offsetReporter.report(uri, checkpointId, positions, log),
};

/**
 * Commits the offsets of completed checkpoints to a consumer group that no
 * consumer joins (reading never depends on it), so the usual lag tools see
 * the job's progress. A consumer can only commit for a group it is a member
 * of; a transactional producer's sendOffsets can commit for any group, so
 * that is what this uses (one small transaction per report). Reports never
 * overlap: a newer checkpoint arriving meanwhile replaces the waiting one.
 */
class OffsetReporter {
  private running = false;
  /** Split id -> the last position a checkpoint recorded. */
  private readonly lastKnown = new Map<string, KafkaPosition>();
  private waiting: {
    uri: ParsedUri;
    id: number;
    positions: Record<string, unknown>;
    log: ConnectorLog;
  } | null = null;

  async report(
    uri: ParsedUri,
    id: number,
    positions: Record<string, unknown>,
    log: ConnectorLog,
  ): Promise<void> {
    this.waiting = { uri, id, positions, log };
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting !== null) {
        const next = this.waiting;
        this.waiting = null;
        await this.commit(next.uri, next.id, next.positions, next.log);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(
    uri: ParsedUri,
    id: number,
    positions: Record<string, unknown>,
    log: ConnectorLog,
  ): Promise<void> {
    const { brokers, topic } = parseKafkaAddress(uri, 'source');
    const opts = parseOptions(kafkaSourceSchema, uri.params, 'kafka');
    const group = opts.group ?? `floe-${topic}`;
    const partitions: { partition: number; offset: string }[] = [];
    for (const [splitId, pos] of Object.entries(positions)) {
      const m = /^kafka:(.+)\/(\d+)$/.exec(splitId);
      if (m === null || m[1] !== topic) continue;
      let offset: number | null | undefined;
      if (pos !== null && typeof pos === 'object') {
        const p = pos as KafkaPosition;
        this.lastKnown.set(splitId, p);
        offset = p.offset;
      } else {
        // An ended (bounded) split has no position any more: it was read up to its end.
        offset = this.lastKnown.get(splitId)?.end ?? plannedEnds.get(splitId);
      }
      if (offset === null || offset === undefined) continue;
      partitions.push({ partition: Number(m[2]), offset: String(offset) });
    }
    if (partitions.length === 0) return;
    const producer = createKafka({ brokers, clientId: 'floe-offsets', log, retries: 3 }).producer({
      transactionalId: `${group}.offsets`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const txn = await producer.transaction();
      try {
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions }] });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
      log('debug', 'kafka source: offsets committed for lag monitoring', { checkpoint: id, group });
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }
}

const offsetReporter = new OffsetReporter();
