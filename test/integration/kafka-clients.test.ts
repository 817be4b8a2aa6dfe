/**
 * Both clients of the Kafka source (`?client=native`, our own Fetch path, and
 * `?client=kafkajs`) read the same real topic and hand the job the same
 * records: plain batches, gzip-compressed batches, tombstones, committed and
 * aborted transactions (read_committed: aborted records never appear), a
 * record over the size limit (oversize), transaction markers stepped over,
 * and each partition's position ends at the topic's end offset (markers
 * included), as a checkpoint would record it. The records also come as byte
 * ranges (RecordBatch.raw, for a job that reads bytes) equal to the lines.
 *
 * The topic is written with kafkajs' own producers (plain, gzip, transactional),
 * not through src/, so the decoder meets batches it did not build.
 */
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseUri } from '../../src/connectors/contract';
import { kafkaSource } from '../../src/connectors/kafka/kafka-source';
import { endOffsets, startKafka, type KafkaService } from '../support/kafka';

let kafka: KafkaService;
const TOPIC = 'mixed';
/** Values a read_committed reader must see, by partition, in offset order. */
const expected = new Map<number, string[]>([
  [0, []],
  [1, []],
]);

beforeAll(async () => {
  kafka = await startKafka();
  const client = new Kafka({ brokers: [kafka.broker], clientId: 'floe-test', logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const plain = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const txn = client.producer({
    transactionalId: 'floe-test-txn',
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await plain.connect();
  await txn.connect();
  const msgs = (partition: number, tag: string, n: number): { partition: number; value: string }[] =>
    Array.from({ length: n }, (_, i) => ({ partition, value: `{"tag":"${tag}","i":${i},"text":"über ⚽"}` }));
  const sent = (list: { partition: number; value: string }[]): void => {
    for (const m of list) expected.get(m.partition)!.push(m.value);
  };
  for (const p of [0, 1]) {
    const a = msgs(p, 'plain', 300);
    await plain.send({ topic: TOPIC, messages: a });
    sent(a);
    const g = msgs(p, 'gzip', 500);
    await plain.send({ topic: TOPIC, compression: CompressionTypes.GZIP, messages: g });
    sent(g);
    // A tombstone: no value, nothing for the job.
    await plain.send({ topic: TOPIC, messages: [{ partition: p, key: 'k', value: null }] });
    // An aborted transaction with plain records written while it was open.
    const t1 = await txn.transaction();
    await t1.send({ topic: TOPIC, messages: msgs(p, 'aborted', 200) });
    const b = msgs(p, 'between', 50);
    await plain.send({ topic: TOPIC, messages: b });
    sent(b);
    await t1.abort();
    // A committed one, gzip.
    const t2 = await txn.transaction();
    const c = msgs(p, 'committed', 200);
    await t2.send({ topic: TOPIC, compression: CompressionTypes.GZIP, messages: c });
    await t2.commit();
    sent(c);
    // Longer than the readers' record limit: reported as oversize, not as a line.
    await plain.send({ topic: TOPIC, messages: [{ partition: p, value: `{"long":"${'x'.repeat(5000)}"}` }] });
    const z = msgs(p, 'last', 10);
    await plain.send({ topic: TOPIC, messages: z });
    sent(z);
  }
  await plain.disconnect();
  await txn.disconnect();
}, 600_000);

afterAll(async () => {
  await kafka?.stop();
});

/** Reads every partition through the connector (bounded=latest) to its end: values and final positions. */
async function readAll(client: string): Promise<{
  values: Map<number, string[]>;
  oversize: Map<number, { prefix: string; bytes: number }[]>;
  positions: Map<number, number>;
}> {
  const uri = parseUri(`kafka://${kafka.broker}/${TOPIC}?bounded=latest&client=${client}`);
  const splits = await kafkaSource.planSplits(uri, { parallelism: 1, now: () => Date.now() });
  const values = new Map<number, string[]>();
  const positions = new Map<number, number>();
  const oversize = new Map<number, { prefix: string; bytes: number }[]>();
  await Promise.all(
    splits.map(async (split) => {
      const partition = (split.config as { partition: number }).partition;
      const reader = kafkaSource.createReader(split, { maxRecordBytes: 4096, now: () => Date.now() });
      const got: string[] = [];
      const long: { prefix: string; bytes: number }[] = [];
      for (;;) {
        const pos = reader.position() as { offset: number };
        const res = await reader.poll(1000);
        if (res === 'end') {
          positions.set(partition, pos.offset);
          break;
        }
        if (res === 'idle') await new Promise((r) => setTimeout(r, 5));
        else {
          // The records as byte ranges (for a job that reads bytes) say the same as the lines.
          const raw = (res as { raw?: { buffers: Buffer[]; starts: number[]; ends: number[] } }).raw;
          expect(raw?.starts.map((s, k) => raw.buffers[k].toString('utf8', s, raw.ends[k]))).toEqual(
            res.lines,
          );
          got.push(...res.lines);
          long.push(...res.oversize);
        }
      }
      await reader.close();
      values.set(partition, got);
      oversize.set(partition, long);
    }),
  );
  return { values, oversize, positions };
}

test.each(['native', 'kafkajs'])(
  'client=%s reads plain, gzip, tombstones and transactions as read_committed, to the end offsets',
  async (client) => {
    const { values, oversize, positions } = await readAll(client);
    for (const p of [0, 1])
      expect(oversize.get(p)).toEqual([{ prefix: `{"long":"${'x'.repeat(1024 - 9)}`, bytes: 5011 }]);
    expect(values.get(0)).toEqual(expected.get(0));
    expect(values.get(1)).toEqual(expected.get(1));
    expect(expected.get(0)!.length).toBe(300 + 500 + 50 + 200 + 10);
    const ends = await endOffsets(kafka.broker, TOPIC);
    // Each partition's end counts the tombstone, the aborted records and both markers.
    expect(Object.fromEntries(positions)).toEqual(Object.fromEntries(ends));
  },
);
