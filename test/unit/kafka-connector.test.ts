import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseUri } from '../../src/connectors/contract';
import { EpochStaging } from '../../src/connectors/kafka/epoch-staging';
import {
  kafkaSinkSchema,
  kafkaSourceSchema,
  parseKafkaAddress,
} from '../../src/connectors/kafka/kafka-options';
import { tweetKey } from '../../src/connectors/kafka/kafka-producer';
import { recordKey } from '../../src/connectors/kafka/kafka-sink';
import { PartitionQueue } from '../../src/connectors/kafka/partition-fetcher';
import { OptionError } from '../../src/runtime/errors';
import { parseOptions } from '../../src/runtime/options';

describe('kafka URI and options', () => {
  it('reads brokers and topic from kafka://HOST:PORT[,HOST:PORT]/TOPIC', () => {
    expect(parseKafkaAddress(parseUri('kafka://127.0.0.1:9092/tweets'), 'source')).toEqual({
      brokers: ['127.0.0.1:9092'],
      topic: 'tweets',
    });
    expect(parseKafkaAddress(parseUri('kafka://a:1,b:2/t.x-y_z?bounded=latest'), 'sink')).toEqual({
      brokers: ['a:1', 'b:2'],
      topic: 't.x-y_z',
    });
  });

  it.each([
    ['kafka://127.0.0.1:9092', /expected kafka:\/\/HOST:PORT\/TOPIC/],
    ['kafka://127.0.0.1/tweets', /broker "127.0.0.1" is not HOST:PORT/],
    ['kafka://h:70000/tweets', /is not HOST:PORT/],
    ['kafka://h:9092/', /topic "" must be/],
    ['kafka://h:9092/a b', /topic "a b" must be/],
    ['kafka:///tweets', /no broker/],
  ])('rejects %s naming the option', (raw, message) => {
    const err = (() => {
      try {
        parseKafkaAddress(parseUri(raw), 'source');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe('source');
    expect((err as Error).message).toMatch(message);
  });

  it('source options: defaults, bounded=latest, unknown keys rejected by name', () => {
    const d = parseOptions(kafkaSourceSchema, {}, 'kafka');
    expect(d).toMatchObject({ bounded: 'none', from: 'earliest', 'connect-attempts': 5 });
    expect(d.group).toBeUndefined();
    expect(
      parseOptions(kafkaSourceSchema, { bounded: 'latest', 'fetch-max-bytes': '1MB' }, 'kafka'),
    ).toMatchObject({ bounded: 'latest', 'fetch-max-bytes': 1024 * 1024 });
    expect(() => parseOptions(kafkaSourceSchema, { bounded: 'earliest' }, 'kafka')).toThrow(
      /option kafka.bounded: expected one of none, latest/,
    );
    expect(() => parseOptions(kafkaSourceSchema, { boundd: 'latest' }, 'kafka')).toThrow(
      /option kafka.boundd: unknown option/,
    );
  });

  it('source client: native by default, kafkajs on request, anything else rejected by name', () => {
    expect(parseOptions(kafkaSourceSchema, {}, 'kafka').client).toBe('native');
    expect(parseOptions(kafkaSourceSchema, { client: 'kafkajs' }, 'kafka').client).toBe('kafkajs');
    expect(() => parseOptions(kafkaSourceSchema, { client: 'rdkafka' }, 'kafka')).toThrow(
      /option kafka.client: expected one of native, kafkajs/,
    );
  });

  it('sink options: defaults and validation', () => {
    expect(parseOptions(kafkaSinkSchema, {}, 'kafka')).toMatchObject({ partitions: 1, 'commit-attempts': 8 });
    expect(() => parseOptions(kafkaSinkSchema, { partitions: '0' }, 'kafka')).toThrow(
      /option kafka.partitions: must be at least 1/,
    );
  });
});

describe('record keys', () => {
  it('tweet id without parsing: id_str, quoted id, numeric id; none when absent', () => {
    expect(tweetKey('{"created_at":"x","id_str":"1234","user":{"id_str":"9"}}')).toBe('1234');
    expect(tweetKey('{"data":{"id":"77","author_id":"5"}}')).toBe('77');
    expect(tweetKey('{"id": 42, "text":"hi"}')).toBe('42');
    expect(tweetKey('{"text":"no id"}')).toBeNull();
  });

  it('results are keyed by topic and window; dead letters have no key', () => {
    const line = '{"window_start":"2022-01-01T00:00:00.000Z","window_end":"x","topic":"#a","count":1}';
    expect(recordKey('counts', line)).toBe('#a@2022-01-01T00:00:00.000Z');
    expect(recordKey('trends', line)).toBe('#a@2022-01-01T00:00:00.000Z');
    expect(recordKey('dead-letter', line)).toBeNull();
    expect(recordKey('counts', 'not json')).toBeNull();
  });
});

describe('PartitionQueue', () => {
  const fill = (q: PartitionQueue, offsets: number[], last: number): void => {
    for (const o of offsets) {
      const buf = Buffer.from(String(o));
      q.add(o, buf, 0, buf.length);
    }
    q.advance(last);
  };
  const take = (q: PartitionQueue, max: number, end: number | null = null): number[] => {
    const got: number[] = [];
    q.take(max, end, (offset, buf, start, stop) => {
      expect(buf?.toString('utf8', start, stop)).toBe(String(offset));
      got.push(offset);
    });
    return got;
  };

  it('hands out records in order; the position is the first record not handed out', () => {
    const q = new PartitionQueue(0, 10);
    expect(q.nextOffset()).toBe(10);
    fill(q, [10, 11, 12], 12);
    expect(take(q, 2)).toEqual([10, 11]);
    expect(q.nextOffset()).toBe(12);
    expect(take(q, 5)).toEqual([12]);
    expect(q.nextOffset()).toBe(13);
  });

  it('drops records fetched again (a re-join or a stale fetch) and steps over transaction markers', () => {
    const q = new PartitionQueue(0, 0);
    fill(q, [0, 1], 1);
    fill(q, [0, 1, 2], 2);
    expect(take(q, 10)).toEqual([0, 1, 2]);
    // offsets 3 (a record) and 4 (its commit marker): the batch's last offset counts the marker
    fill(q, [3], 4);
    expect(take(q, 10)).toEqual([3]);
    expect(q.nextOffset()).toBe(5);
    q.skipTo(7);
    expect(q.nextOffset()).toBe(7);
    q.skipTo(6);
    expect(q.nextOffset()).toBe(7);
  });

  it('stops before the end offset of a bounded split, leaving the rest where it was', () => {
    const q = new PartitionQueue(0, 0);
    fill(q, [0, 1, 2, 3], 3);
    expect(take(q, 10, 2)).toEqual([0, 1]);
    expect(q.nextOffset()).toBe(2);
    expect(q.length).toBe(2);
  });

  it('keeps handing out the right records after compacting its columns', () => {
    const q = new PartitionQueue(0, 0);
    const n = 20_000;
    fill(
      q,
      Array.from({ length: n }, (_, i) => i),
      n - 1,
    );
    const got: number[] = [];
    while (q.length > 0) got.push(...take(q, 3000));
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(q.nextOffset()).toBe(n);
  });
});

describe('EpochStaging', () => {
  it('stages an epoch durably, reads it back, lists and removes it; empty epochs get no file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-kstage-'));
    const s = new EpochStaging(dir);
    await s.write(3, [
      { kind: 'counts', line: '{"a":"x\\ty"}' },
      { kind: 'dead-letter', line: '{"reason":"late"}' },
    ]);
    await s.write(4, []);
    await s.write(12, [{ kind: 'trends', line: '{}' }]);
    expect(await s.epochs()).toEqual([3, 12]);
    expect(await s.read(3)).toEqual([
      { kind: 'counts', line: '{"a":"x\\ty"}' },
      { kind: 'dead-letter', line: '{"reason":"late"}' },
    ]);
    expect(await s.read(4)).toBeUndefined();
    await s.remove(3);
    expect(await s.epochs()).toEqual([12]);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('a damaged staged file is an error, not silently skipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-kstage-'));
    writeFileSync(path.join(dir, 'epoch-0000000005.staged'), 'bogus line\n');
    await expect(new EpochStaging(dir).read(5)).rejects.toThrow(/staged epoch 5 .* is damaged/);
  });
});
