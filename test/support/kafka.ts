/**
 * A real Kafka broker for integration tests (scripts/services.js, the same
 * code as `npm run services -- start kafka`: Apache Kafka from Maven Central,
 * KRaft, 127.0.0.1, free ports), and an independent read_committed reader
 * (plain kafkajs, nothing from src/) to check what a topic holds.
 *
 * If the broker cannot start, startKafka throws and the tests that need it
 * FAIL: never skipped, with or without CI=true.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export interface KafkaService {
  broker: string;
  port: number;
  stateDir: string;
  stop(): Promise<void>;
}

interface ServicesModule {
  startService(
    name: string,
    options: { port?: number; stateDir?: string; detached?: boolean; timeoutMs?: number },
  ): Promise<{ info: { broker: string; port: number }; stop(): Promise<void> }>;
}
const services = require('../../scripts/services.js') as ServicesModule;

/** Starts a broker (fresh state under a temp dir unless `stateDir` is given; `port` 0 picks free ports). */
export async function startKafka(port = 0, stateDir?: string): Promise<KafkaService> {
  const dir = stateDir ?? mkdtempSync(path.join(tmpdir(), 'floe-kafka-'));
  const h = await services.startService('kafka', {
    port,
    stateDir: dir,
    detached: false,
    timeoutMs: 300_000,
  });
  return { broker: h.info.broker, port: h.info.port, stateDir: dir, stop: () => h.stop() };
}

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

const client = (broker: string): Kafka =>
  new Kafka({ brokers: [broker], clientId: 'floe-test', logLevel: logLevel.NOTHING });

/** Every committed record of `topic` (read_committed), up to the end offsets at the call. */
export async function readCommitted(broker: string, topic: string): Promise<ReadRecord[]> {
  const kafka = client(broker);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const next = new Map([...ends.keys()].map((p) => [p, 0]));
  const done = (): boolean => [...ends].every(([p, end]) => (next.get(p) ?? 0) >= end);
  const out: ReadRecord[] = [];
  if (done()) return out;
  const consumer = kafka.consumer({
    groupId: `floe-test-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  // Every batch, including those holding only transaction markers, moves the partition's read position.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const p = payload.partition;
    next.set(p, Math.max(next.get(p) ?? 0, Number(payload.lastOffset) + 1));
    if (done()) finish();
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
        out.push({
          partition: batch.partition,
          offset: Number(m.offset),
          key: m.key === null ? null : m.key.toString(),
          value: m.value === null ? '' : m.value.toString(),
          headers,
        });
      }
    },
  });
  await finished;
  await consumer.disconnect();
  return out;
}

/** Committed offsets of a consumer group for `topic`, by partition (-1: none). */
export async function groupOffsets(
  broker: string,
  group: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = client(broker).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map(res.flatMap((t) => t.partitions).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** End offsets of `topic` by partition. */
export async function endOffsets(broker: string, topic: string): Promise<Map<number, number>> {
  const admin = client(broker).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
