/**
 * kafka://HOST:PORT/TOPIC sink: counts, trends and dead-letter records as
 * Kafka records (value: the JSON line; key: "TOPIC@WINDOW_START" for counts
 * and trends, none for dead letters; headers: kind=counts|trends|dead-letter
 * and epoch=N). All kinds go to TOPIC unless trends-topic / dead-letter-topic
 * name others. A read_committed consumer sees every result exactly once.
 *
 * Protocol (with checkpoints), for epoch n:
 *   write      buffers n's records in memory.
 *   preCommit  stages them durably in a local file (staging/epoch-n.staged,
 *              fsynced, renamed into place) before the checkpoint's metadata
 *              is written.
 *   commit     one Kafka transaction (transactional, idempotent producer):
 *              n's records plus a marker, offset n committed for consumer
 *              group "<transactional-id>.epochs" on TOPIC partition 0
 *              (sendOffsets), so the records and "n is committed" become
 *              visible atomically; then the staged file is removed.
 *   recover    (restore from checkpoint c) connecting the producer with the
 *              same transactional id fences the dead run's producer and aborts
 *              its open transaction; the marker then says which epoch was last
 *              committed (m). Staged epochs <= m are done (removed); staged
 *              epochs in (m, c] are produced again by commit (their checkpoint
 *              completed, the crash came before or during commit); staged
 *              epochs > c are dropped (the job produces them again).
 * A commit that fails (a broker restart) reconnects the producer, which
 * settles any transaction still in flight, reads the marker and re-sends
 * only if epoch n is not in, so retries never double an epoch.
 *
 * Without checkpoints the records are sent in a transaction every 200 ms.
 *
 * Limits: restoring an older checkpoint than the last committed epoch (an
 * explicit --restore of an old one, or a corrupt newest one skipped) cannot
 * take back what Kafka already shows: those epochs appear again (logged).
 * The staging folder must survive a restart, like the checkpoint folder.
 */
import * as path from 'node:path';
import {
  Partitioners,
  type Admin,
  type Kafka,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import { FloeError, OptionError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import { withRetry } from '../../runtime/retry';
import type {
  ConnectorLog,
  OutputKind,
  ParsedUri,
  SinkConnector,
  SinkContext,
  SinkWriter,
} from '../contract';
import { EpochStaging, type StagedRecord } from './epoch-staging';
import { connectAdmin, createKafka, kafkaError, kafkaRetriable } from './kafka-client';
import { kafkaSinkSchema, parseKafkaAddress } from './kafka-options';

const LOOSE_FLUSH_MS = 200;
/**
 * Bytes per produce request inside a transaction: a broker takes at most
 * message.max.bytes (1 MB by default) per partition's record batch, and all
 * of a request may land on one partition.
 */
const REQUEST_BYTES = 512 * 1024;

interface SinkSettings {
  brokers: string[];
  topic: string;
  topics: Record<OutputKind, string>;
  transactionalId: string;
  commitAttempts: number;
}

/** Key of a counts or trends line: its topic and window, so updates of one result share a partition. */
export function recordKey(kind: OutputKind, line: string): string | null {
  if (kind === 'dead-letter') return null;
  try {
    const o = JSON.parse(line) as { topic?: unknown; window_start?: unknown };
    return typeof o.topic === 'string' && typeof o.window_start === 'string'
      ? `${o.topic}@${o.window_start}`
      : null;
  } catch {
    return null;
  }
}

function isFenced(err: unknown): boolean {
  const type = (err as { type?: string; cause?: { type?: string } })?.type;
  const causeType = (err as { cause?: { type?: string } })?.cause?.type;
  return [type, causeType].some(
    (t) =>
      t === 'PRODUCER_FENCED' ||
      t === 'INVALID_PRODUCER_EPOCH' ||
      t === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  );
}

class KafkaSinkWriter implements SinkWriter {
  readonly transactional = true;
  private producer: Producer;
  private readonly pending = new Map<number, StagedRecord[]>();
  private loose: StagedRecord[] = [];
  private looseTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private readonly markerGroup: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    producer: Producer,
    private readonly settings: SinkSettings,
    private readonly staging: EpochStaging,
    private readonly log: ConnectorLog,
  ) {
    this.producer = producer;
    this.markerGroup = `${settings.transactionalId}.epochs`;
  }

  write(kind: OutputKind, lines: string, epoch?: number): void {
    if (this.failure !== null) throw kafkaError('SINK_IO', 'kafka sink', this.failure);
    let target: StagedRecord[];
    if (epoch === undefined) {
      target = this.loose;
      this.looseTimer ??= setTimeout(() => this.flushLoose(), LOOSE_FLUSH_MS);
    } else {
      target = this.pending.get(epoch) ?? [];
      this.pending.set(epoch, target);
    }
    let at = 0;
    while (at < lines.length) {
      let nl = lines.indexOf('\n', at);
      if (nl === -1) nl = lines.length;
      if (nl > at) target.push({ kind, line: lines.slice(at, nl) });
      at = nl + 1;
    }
  }

  private flushLoose(): void {
    this.looseTimer = null;
    const records = this.loose;
    this.loose = [];
    if (records.length === 0) return;
    this.chain = this.chain
      .then(() => this.send(records, undefined))
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  private messages(records: StagedRecord[], epoch: number | undefined): TopicMessages[] {
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const topic = this.settings.topics[r.kind];
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      const headers: Record<string, string> = { kind: r.kind };
      if (epoch !== undefined) headers.epoch = String(epoch);
      list.push({ key: recordKey(r.kind, r.line), value: r.line, headers });
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  /** One transaction: the records and (for an epoch) the marker saying it is committed. */
  private async send(records: StagedRecord[], epoch: number | undefined): Promise<void> {
    const txn = await this.producer.transaction();
    try {
      for (let at = 0; at < records.length;) {
        let bytes = 0;
        let end = at;
        while (end < records.length && (end === at || bytes + records[end].line.length < REQUEST_BYTES)) {
          bytes += records[end].line.length + 64;
          end++;
        }
        await txn.sendBatch({ topicMessages: this.messages(records.slice(at, end), epoch), acks: -1 });
        at = end;
      }
      if (epoch !== undefined) {
        await txn.sendOffsets({
          consumerGroupId: this.markerGroup,
          topics: [{ topic: this.settings.topic, partitions: [{ partition: 0, offset: String(epoch) }] }],
        });
        // Fault injection for tests (FLOE_CRASH_AT=mid-commit:<n>, as in the file sink): die with the transaction sent but not committed.
        const crash = /^mid-commit:(\d+)$/.exec(process.env.FLOE_CRASH_AT ?? '');
        if (crash !== null && epoch >= Number(crash[1])) process.kill(process.pid, 'SIGKILL');
      }
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  /** The last epoch whose transaction committed (-1: none). Exact once the producer has (re)connected. */
  async lastCommitted(): Promise<number> {
    const offsets = await this.admin.fetchOffsets({
      groupId: this.markerGroup,
      topics: [this.settings.topic],
    });
    const p0 = offsets.flatMap((t) => t.partitions).find((p) => p.partition === 0);
    return p0 === undefined ? -1 : Number(p0.offset);
  }

  /** A new producer with the same transactional id: waits out or aborts whatever transaction was in flight. */
  private async reconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    this.producer = newProducer(this.kafka, this.settings.transactionalId);
    await this.producer.connect();
  }

  async preCommit(epoch: number): Promise<void> {
    await this.chain;
    if (this.failure !== null) throw kafkaError('SINK_IO', 'kafka sink', this.failure);
    await this.staging.write(epoch, this.pending.get(epoch) ?? []);
  }

  async commit(epoch: number): Promise<void> {
    const records = this.pending.get(epoch) ?? (await this.staging.read(epoch));
    if (records === undefined || records.length === 0) {
      this.pending.delete(epoch);
      return;
    }
    try {
      await withRetry(
        async (attempt) => {
          if (attempt > 1) {
            await this.reconnect();
            if ((await this.lastCommitted()) >= epoch) return;
          }
          await this.send(records, epoch);
        },
        {
          attempts: this.settings.commitAttempts,
          initialDelayMs: 500,
          maxDelayMs: 10_000,
          retryOn: (err) => kafkaRetriable(err) && !isFenced(err),
          onRetry: (err, attempt, delayMs) =>
            this.log('warn', 'kafka sink: commit failed, retrying', {
              epoch,
              attempt,
              delayMs,
              error: (err as Error)?.message,
            }),
        },
      );
    } catch (err) {
      throw kafkaError('SINK_IO', `kafka sink: committing epoch ${epoch} to ${this.settings.topic}`, err);
    }
    this.pending.delete(epoch);
    await this.staging.remove(epoch);
  }

  async recover(epoch: number): Promise<void> {
    const last = await this.lastCommitted();
    if (last > epoch) {
      this.log(
        'warn',
        'kafka sink: the topic already holds epochs after the restored checkpoint; they will appear again',
        {
          restored: epoch,
          lastCommitted: last,
          topic: this.settings.topic,
        },
      );
    }
    for (const e of await this.staging.epochs()) {
      if (e <= last || e > epoch) await this.staging.remove(e);
      else {
        this.log('info', 'kafka sink: committing an epoch staged before the crash', { epoch: e });
        await this.commit(e);
      }
    }
  }

  async close(): Promise<void> {
    if (this.looseTimer !== null) clearTimeout(this.looseTimer);
    this.flushLoose();
    await this.chain;
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    if (this.failure !== null) throw kafkaError('SINK_IO', 'kafka sink', this.failure);
  }

  describe(): string {
    return `kafka://${this.settings.brokers.join(',')}/${this.settings.topic}`;
  }
}

function newProducer(kafka: Kafka, transactionalId: string): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    // Java's murmur2 partitioning (kafkajs 2's default); naming it silences kafkajs' notice.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

export const kafkaSink: SinkConnector = {
  scheme: 'kafka',
  usage:
    'kafka://HOST:PORT/TOPIC  records with header kind=counts|trends|dead-letter; exactly once with checkpoints (one transaction per epoch); ?transactional-id=, ?staging=DIR',
  async open(uri: ParsedUri, context?: SinkContext): Promise<SinkWriter> {
    const { brokers, topic } = parseKafkaAddress(uri, 'sink');
    const opts = parseOptions(kafkaSinkSchema, uri.params, 'kafka');
    const log: ConnectorLog = context?.log ?? (() => undefined);
    const transactionalId = opts['transactional-id'] ?? `floe-${topic}`;
    if (!/^[a-zA-Z0-9._-]+$/.test(transactionalId))
      throw new OptionError('kafka.transactional-id', "letters, digits, '.', '_', '-' only");
    const topics: Record<OutputKind, string> = {
      counts: topic,
      trends: opts['trends-topic'] ?? topic,
      'dead-letter': opts['dead-letter-topic'] ?? topic,
    };
    const kafka = createKafka({ brokers, clientId: 'floe-sink', log });
    const admin = await connectAdmin(kafka, brokers, opts['connect-attempts'], 'SINK_IO', log);
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [...new Set(Object.values(topics))].filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          topics: missing.map((t) => ({ topic: t, numPartitions: opts.partitions })),
          waitForLeaders: true,
        });
        log('info', 'kafka sink: created topics', { topics: missing, partitions: opts.partitions });
      }
      const producer = newProducer(kafka, transactionalId);
      // Connecting a transactional producer fences any older one with the same id.
      await producer.connect();
      const staging = new EpochStaging(opts.staging ?? path.join('.floe', 'kafka-sink', transactionalId));
      return new KafkaSinkWriter(
        kafka,
        admin,
        producer,
        { brokers, topic, topics, transactionalId, commitAttempts: opts['commit-attempts'] },
        staging,
        log,
      );
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      if (err instanceof FloeError) throw err;
      throw kafkaError('SINK_IO', `kafka sink ${topic}`, err);
    }
  },
};
