import { OptionError } from '../../runtime/errors';
import type { Schema } from '../../runtime/options';
import type { ParsedUri } from '../contract';

/** The clients that can fetch a source's records (partition-fetcher.ts). */
export const KAFKA_CLIENTS = ['native', 'kafkajs'] as const;
export type KafkaClientKind = (typeof KAFKA_CLIENTS)[number];

/** kafka://HOST:PORT[,HOST:PORT...]/TOPIC source options (query string). */
export const kafkaSourceSchema = {
  bounded: {
    type: 'enum',
    values: ['none', 'latest'],
    default: 'none',
    doc: 'latest: stop at the end offsets seen when the job first started (tests, benches, backfills); none: read forever',
  },
  from: {
    type: 'enum',
    values: ['earliest', 'latest'],
    default: 'earliest',
    doc: 'where a partition without a checkpointed offset starts',
  },
  discover: {
    type: 'boolean',
    default: true,
    doc: 'unbounded: pick up partitions added to the topic while the job runs (checked every 5 s; they are read from their start)',
  },
  group: {
    type: 'string',
    doc: 'consumer group that completed checkpoints commit offsets to, for lag monitoring (default: floe-TOPIC); never used to read',
  },
  'fetch-max-bytes': {
    type: 'bytes',
    default: 2 * 1024 * 1024,
    min: 1024,
    doc: 'most bytes one fetch asks for per partition',
  },
  'fetch-max-wait': {
    type: 'duration',
    default: 100,
    min: 0,
    doc: 'how long the broker may hold a fetch for more data',
  },
  'connect-attempts': {
    type: 'int',
    default: 5,
    min: 1,
    doc: 'attempts to reach the broker at start before the job fails',
  },
  client: {
    type: 'enum',
    values: KAFKA_CLIENTS,
    default: 'native',
    doc: 'how records are fetched: native (Fetch requests of our own, record batches v2, compression none or gzip) or kafkajs (any codec kafkajs has)',
  },
} satisfies Schema;

/** kafka://HOST:PORT/TOPIC sink options. */
export const kafkaSinkSchema = {
  'transactional-id': {
    type: 'string',
    doc: 'Kafka transactional id (default: floe-TOPIC); stable across restarts so a restarted job fences the old producer; one per concurrently running job',
  },
  staging: {
    type: 'string',
    doc: 'folder where each epoch is staged between pre-commit and commit; must survive restarts (default: .floe/kafka-sink/TRANSACTIONAL-ID)',
  },
  'trends-topic': { type: 'string', doc: 'topic for trends (default: TOPIC)' },
  'dead-letter-topic': { type: 'string', doc: 'topic for dead-letter records (default: TOPIC)' },
  partitions: {
    type: 'int',
    default: 1,
    min: 1,
    doc: 'partitions of a topic the sink creates because it is missing',
  },
  'connect-attempts': {
    type: 'int',
    default: 5,
    min: 1,
    doc: 'attempts to reach the broker at start before the job fails',
  },
  'commit-attempts': {
    type: 'int',
    default: 8,
    min: 1,
    doc: 'attempts to commit one epoch (across broker restarts) before the checkpoint fails',
  },
} satisfies Schema;

export interface KafkaAddress {
  brokers: string[];
  topic: string;
}

/** "HOST:PORT[,HOST:PORT]/TOPIC" (the path of kafka://...) into brokers and topic. */
export function parseKafkaAddress(uri: ParsedUri, option: 'source' | 'sink' | 'to'): KafkaAddress {
  const slash = uri.path.indexOf('/');
  const form = 'expected kafka://HOST:PORT/TOPIC';
  if (slash === -1) throw new OptionError(option, `${form}, got ${JSON.stringify(uri.raw)}`);
  const brokers = uri.path
    .slice(0, slash)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const topic = uri.path.slice(slash + 1);
  if (brokers.length === 0) throw new OptionError(option, `${form}: no broker in ${JSON.stringify(uri.raw)}`);
  for (const b of brokers) {
    const m = /^([^:/\s]+):(\d{1,5})$/.exec(b);
    if (m === null || Number(m[2]) === 0 || Number(m[2]) > 65535)
      throw new OptionError(option, `${form}: broker ${JSON.stringify(b)} is not HOST:PORT`);
  }
  // Kafka's own rule for topic names.
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic))
    throw new OptionError(
      option,
      `${form}: topic ${JSON.stringify(topic)} must be 1-249 of letters, digits, '.', '_', '-'`,
    );
  return { brokers, topic };
}

/** What a Kafka split (one partition) carries to its worker. */
export interface KafkaSplitConfig {
  brokers: string[];
  topic: string;
  partition: number;
  /** Offset to start at when the checkpoint has no position for the split. */
  start: number;
  /** bounded=latest: the first offset not to read (the end seen at plan time); null: unbounded. */
  end: number | null;
  fetchMaxBytes: number;
  fetchMaxWaitMs: number;
  /** Absent in splits planned before the option existed: the default. */
  client?: KafkaClientKind;
}

/** A Kafka split's position in checkpoints: the next offset to read, and the end a bounded split keeps across restores. */
export interface KafkaPosition {
  offset: number;
  end?: number | null;
}

/** `floe produce` options. */
export const kafkaProduceSchema = {
  partitions: {
    type: 'int',
    default: 4,
    min: 1,
    doc: 'partitions of the topic when it has to be created (an existing topic keeps its own)',
  },
  'batch-size': {
    type: 'int',
    default: 20_000,
    min: 1,
    doc: 'records per produce request',
  },
  'connect-attempts': {
    type: 'int',
    default: 5,
    min: 1,
    doc: 'attempts to reach the broker before giving up',
  },
} satisfies Schema;
