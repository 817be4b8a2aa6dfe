/**
 * Loads JSON lines into a topic (what `floe produce` does): creates the topic
 * when missing, keys each record by its tweet id (so re-deliveries of a tweet
 * share a partition), sends large batches with an idempotent producer and
 * acks from all in-sync replicas.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { Partitioners, type Message } from 'kafkajs';
import type { ConnectorLog } from '../contract';
import { connectAdmin, createKafka, kafkaError } from './kafka-client';
import type { KafkaAddress } from './kafka-options';

/** Cheap tweet id: the first "id_str":"N", "id":"N" or "id":N in the line, without parsing JSON. */
const ID_RE = /"(?:id_str|id)"\s*:\s*"?(\d+)/;

export function tweetKey(line: string): string | null {
  const m = ID_RE.exec(line);
  return m === null ? null : m[1];
}

export interface ProduceOptions {
  partitions: number;
  batchSize: number;
  connectAttempts: number;
  log?: ConnectorLog;
  /** Called after each acknowledged batch: records so far, bytes of input consumed so far. */
  onProgress?(records: number, bytes: number): void;
}

export interface ProduceResult {
  records: number;
  bytes: number;
  createdTopic: boolean;
  partitions: number;
}

export async function produceFile(
  file: string,
  to: KafkaAddress,
  options: ProduceOptions,
): Promise<ProduceResult> {
  const { brokers, topic } = to;
  const kafka = createKafka({ brokers, clientId: 'floe-produce', log: options.log });
  const admin = await connectAdmin(kafka, brokers, options.connectAttempts, 'SINK_IO', options.log);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Java's murmur2 partitioning (kafkajs 2's default); naming it silences kafkajs' notice.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let createdTopic = false;
  let partitions: number;
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      createdTopic = await admin.createTopics({
        topics: [{ topic, numPartitions: options.partitions }],
        waitForLeaders: true,
      });
    }
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
    await producer.connect();
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw kafkaError('SINK_IO', `kafka produce ${topic}`, err);
  }
  let records = 0;
  let bytes = 0;
  let batch: Message[] = [];
  let batchBytes = 0;
  // A request carries one record batch per partition, and a broker takes at most message.max.bytes
  // (1 MB by default) per record batch: stay well under that per partition.
  const maxBatchBytes = partitions * 768 * 1024;
  // One request in flight while the next batch is read and cut into lines.
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = async (): Promise<void> => {
    const messages = batch;
    batch = [];
    batchBytes = 0;
    await inFlight;
    const doneBytes = bytes;
    inFlight = producer.send({ topic, messages, acks: -1 }).then(() => {
      records += messages.length;
      options.onProgress?.(records, doneBytes);
    });
  };
  try {
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    const stream = file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
    let rest = '';
    // A chunk can end inside a multi-byte character: the decoder holds its first bytes back.
    const decoder = new StringDecoder('utf8');
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes = input.bytesRead;
      const text = rest + decoder.write(chunk);
      let at = 0;
      for (;;) {
        const nl = text.indexOf('\n', at);
        if (nl === -1) break;
        let end = nl;
        if (end > at && text.charCodeAt(end - 1) === 13) end--;
        if (end > at) {
          const line = text.slice(at, end);
          batch.push({ key: tweetKey(line), value: line });
          batchBytes += line.length + 40;
          if (batch.length >= options.batchSize || batchBytes >= maxBatchBytes) await flush();
        }
        at = nl + 1;
      }
      rest = text.slice(at);
    }
    rest += decoder.end();
    if (rest.trim() !== '') batch.push({ key: tweetKey(rest), value: rest.trimEnd() });
    if (batch.length > 0) await flush();
    await inFlight;
  } catch (err) {
    throw kafkaError('SINK_IO', `kafka produce ${topic}`, err);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  return { records, bytes, createdTopic, partitions };
}
