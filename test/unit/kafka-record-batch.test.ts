import { gzipSync } from 'node:zlib';
import { crc32c } from '../../src/connectors/kafka/crc32c';
import {
  decodeFetchResponse,
  decodeMetadataResponse,
  encodeFetchRequest,
} from '../../src/connectors/kafka/kafka-fetch-protocol';
import { RequestWriter } from '../../src/connectors/kafka/kafka-connection';
import { decodeRecordSet, type DecodeOptions } from '../../src/connectors/kafka/record-batch-decoder';
import { FloeError } from '../../src/runtime/errors';

/*
 * Record batches built by hand, byte by byte, after the Kafka protocol guide
 * (RecordBatch v2), independently of the decoder.
 */

function varint(n: number): number[] {
  let v = ((n << 1) ^ (n >> 31)) >>> 0; // zigzag
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

interface TestRecord {
  offsetDelta: number;
  key?: Buffer | null;
  value: string | Buffer | null;
  headers?: [string, string][];
  timestampDelta?: number;
}

function encodeRecord(r: TestRecord): Buffer {
  const bytes = (b: Buffer | string | null | undefined): number[] => {
    if (b === null || b === undefined) return varint(-1);
    const buf = typeof b === 'string' ? Buffer.from(b) : b;
    return [...varint(buf.length), ...buf];
  };
  const body = [
    0, // attributes
    ...varint(r.timestampDelta ?? 0),
    ...varint(r.offsetDelta),
    ...bytes(r.key),
    ...bytes(r.value),
    ...varint(r.headers?.length ?? 0),
  ];
  for (const [k, v] of r.headers ?? []) body.push(...bytes(k), ...bytes(v));
  return Buffer.from([...varint(body.length), ...body]);
}

interface TestBatch {
  baseOffset: number;
  records: TestRecord[];
  attributes?: number;
  producerId?: number;
  magic?: number;
  gzip?: boolean;
  /** Overrides the records' last offset delta (compacted batches). */
  lastOffsetDelta?: number;
}

function encodeBatch(b: TestBatch): Buffer {
  let records = Buffer.concat(b.records.map(encodeRecord));
  if (b.gzip === true) records = gzipSync(records);
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(BigInt(b.baseOffset), 0);
  header.writeInt32BE(49 + records.length, 8);
  header.writeInt32BE(0, 12); // partition leader epoch
  header.writeInt8(b.magic ?? 2, 16);
  header.writeInt16BE((b.attributes ?? 0) | (b.gzip === true ? 1 : 0), 21);
  header.writeInt32BE(b.lastOffsetDelta ?? Math.max(0, ...b.records.map((r) => r.offsetDelta)), 23);
  header.writeBigInt64BE(1_700_000_000_000n, 27);
  header.writeBigInt64BE(1_700_000_000_000n, 35);
  header.writeBigInt64BE(BigInt(b.producerId ?? -1), 43);
  header.writeInt16BE(0, 51);
  header.writeInt32BE(-1, 53);
  header.writeInt32BE(b.records.length, 57);
  const batch = Buffer.concat([header, records]);
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  return batch;
}

const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

/** A transaction marker: control record key (version 0, type 0 abort / 1 commit), value (version, coordinator epoch). */
function marker(offset: number, producerId: number, commit: boolean): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  return encodeBatch({
    baseOffset: offset,
    attributes: CONTROL | TRANSACTIONAL,
    producerId,
    records: [{ offsetDelta: 0, key, value }],
  });
}

const options = (over: Partial<DecodeOptions> = {}): DecodeOptions => ({
  topic: 't',
  partition: 0,
  fetchOffset: 0,
  abortedTransactions: null,
  ...over,
});

/** Decodes `set`; records with their values read as strings (null: a tombstone). */
function decode(set: Buffer, over: Partial<DecodeOptions> = {}) {
  const out: { offset: number; buf: Buffer | null; start: number; end: number }[] = [];
  const res = decodeRecordSet(set, 0, set.length, options(over), {
    add: (offset, buf, start, end) => out.push({ offset, buf, start, end }),
  });
  const records = out.map((r) => ({
    offset: r.offset,
    value: r.buf === null ? null : r.buf.toString('utf8', r.start, r.end),
  }));
  return { ...res, records, raw: out };
}

const values = (n: number, from = 0): TestRecord[] =>
  Array.from({ length: n }, (_, i) => ({ offsetDelta: i, value: `{"n":${from + i}}` }));

function thrown(fn: () => unknown): FloeError {
  try {
    fn();
  } catch (e) {
    return e as FloeError;
  }
  throw new Error('expected an error');
}

describe('crc32c', () => {
  it('matches the published check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
  });

  it('gives the same result at any alignment and length (the 8-byte loop and the tail agree)', () => {
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff));
    const bytewise = (b: Buffer, s: number, e: number): number => {
      let c = ~0;
      for (let i = s; i < e; i++) {
        c ^= b[i];
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    for (let s = 0; s < 9; s++)
      for (let e = s; e <= 100; e += 7) expect(crc32c(data, s, e)).toBe(bytewise(data, s, e));
  });
});

describe('record batch decoder', () => {
  it('decodes offsets and values, skipping keys and headers; null values are tombstones', () => {
    const set = encodeBatch({
      baseOffset: 100,
      records: [
        { offsetDelta: 0, key: Buffer.from('k1'), value: 'plain', headers: [['h', 'v']] },
        { offsetDelta: 1, key: null, value: 'über ⚽ #tag', timestampDelta: -5 },
        { offsetDelta: 2, key: Buffer.from('gone'), value: null },
        { offsetDelta: 3, value: '' },
      ],
    });
    const r = decode(set, { fetchOffset: 100 });
    expect(r.records).toEqual([
      { offset: 100, value: 'plain' },
      { offset: 101, value: 'über ⚽ #tag' },
      { offset: 102, value: null },
      { offset: 103, value: '' },
    ]);
    expect(r).toMatchObject({ nextOffset: 104, batches: 1, partial: false });
  });

  it('reads several batches, dropping records before the fetch offset (a batch returned whole)', () => {
    const set = Buffer.concat([
      encodeBatch({ baseOffset: 0, records: values(5) }),
      encodeBatch({ baseOffset: 5, records: values(3, 5) }),
      encodeBatch({ baseOffset: 8, records: values(2, 8) }),
    ]);
    const r = decode(set, { fetchOffset: 3 });
    expect(r.records.map((x) => x.offset)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(r.records[0].value).toBe('{"n":3}');
    expect(r).toMatchObject({ nextOffset: 10, batches: 3, partial: false });
    // A batch wholly before the fetch offset contributes nothing.
    expect(decode(set, { fetchOffset: 8 }).records.map((x) => x.offset)).toEqual([8, 9]);
  });

  it('ignores a truncated last batch: the next fetch starts at its base offset', () => {
    const whole = Buffer.concat([
      encodeBatch({ baseOffset: 0, records: values(4) }),
      encodeBatch({ baseOffset: 4, records: values(4, 4) }),
    ]);
    const first = encodeBatch({ baseOffset: 0, records: values(4) }).length;
    for (const cut of [first + 5, first + 12, first + 40, first + 61, whole.length - 1]) {
      const r = decode(whole.subarray(0, cut));
      expect(r.records.map((x) => x.offset)).toEqual([0, 1, 2, 3]);
      expect(r).toMatchObject({ nextOffset: 4, batches: 1, partial: true });
    }
    // Nothing complete at all: no progress, no error.
    expect(decode(whole.subarray(0, 30), { fetchOffset: 0 })).toMatchObject({
      records: [],
      nextOffset: 0,
      batches: 0,
      partial: true,
    });
  });

  it('fails on a CRC mismatch, naming partition and offset', () => {
    const set = encodeBatch({ baseOffset: 42, records: values(3) });
    set[set.length - 2] ^= 0x01; // a flipped bit inside a value
    const err = thrown(() => decode(set, { fetchOffset: 42, partition: 3 }));
    expect(err).toBeInstanceOf(FloeError);
    expect(err.code).toBe('SOURCE_IO');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/t\/3: record batch at offset 42: CRC-32C mismatch/);
  });

  it('skips control batches (transaction markers) but counts their offsets as read', () => {
    const set = Buffer.concat([
      encodeBatch({ baseOffset: 0, attributes: TRANSACTIONAL, producerId: 7, records: values(2) }),
      marker(2, 7, true),
    ]);
    const r = decode(set);
    expect(r.records.map((x) => x.offset)).toEqual([0, 1]);
    expect(r).toMatchObject({ nextOffset: 3, batches: 2 });
    // A fetch that holds only a marker moves the position on.
    expect(decode(marker(2, 7, true), { fetchOffset: 2 })).toMatchObject({ records: [], nextOffset: 3 });
  });

  it('read_committed: drops the batches of aborted transactions and keeps later committed ones', () => {
    const set = Buffer.concat([
      encodeBatch({ baseOffset: 0, records: values(1) }), // not transactional
      encodeBatch({ baseOffset: 1, attributes: TRANSACTIONAL, producerId: 7, records: values(2, 1) }), // aborted
      encodeBatch({ baseOffset: 3, attributes: TRANSACTIONAL, producerId: 8, records: values(1, 3) }), // committed
      marker(4, 7, false), // abort of producer 7's transaction
      marker(5, 8, true),
      encodeBatch({ baseOffset: 6, attributes: TRANSACTIONAL, producerId: 7, records: values(1, 6) }), // committed
      marker(7, 7, true),
    ]);
    const r = decode(set, { abortedTransactions: [{ producerId: 7, firstOffset: 1 }] });
    expect(r.records.map((x) => x.value)).toEqual(['{"n":0}', '{"n":3}', '{"n":6}']);
    expect(r.nextOffset).toBe(8);
    // Without the aborted list (what read_uncommitted would see) all data batches come through.
    expect(decode(set).records.map((x) => x.offset)).toEqual([0, 1, 2, 3, 6]);
  });

  it('decompresses gzip batches', () => {
    const set = Buffer.concat([
      encodeBatch({ baseOffset: 0, gzip: true, records: values(50) }),
      encodeBatch({ baseOffset: 50, records: values(1, 50) }),
    ]);
    const r = decode(set, { fetchOffset: 10 });
    expect(r.records.length).toBe(41);
    expect(r.records[0]).toEqual({ offset: 10, value: '{"n":10}' });
    expect(r.nextOffset).toBe(51);
  });

  it.each([
    [2, 'snappy'],
    [3, 'lz4'],
    [4, 'zstd'],
  ])('fails clearly on codec %i (%s), which the native client does not support', (codec, name) => {
    const set = encodeBatch({ baseOffset: 9, attributes: codec, records: values(1) });
    const err = thrown(() => decode(set, { fetchOffset: 9 }));
    expect(err).toBeInstanceOf(FloeError);
    expect(err.message).toContain(
      `compression ${name} is not supported by the native client (supported: none, gzip)`,
    );
    expect(err.message).toContain('client=kafkajs');
  });

  it('fails clearly on the old message formats (magic 0 and 1)', () => {
    const set = encodeBatch({ baseOffset: 0, magic: 1, records: values(1) });
    expect(thrown(() => decode(set)).message).toMatch(/message format v1 is not supported/);
  });

  it('leaves values where they are: byte ranges of the record set, not copies', () => {
    const set = encodeBatch({
      baseOffset: 0,
      records: [{ offsetDelta: 0, key: Buffer.from('k'), value: 'abc' }],
    });
    const r = decode(set);
    expect(r.raw[0].buf).toBe(set);
    expect(set.toString('utf8', r.raw[0].start, r.raw[0].end)).toBe('abc');
    // A gzip batch's values are ranges of its decompressed records instead.
    const z = decode(encodeBatch({ baseOffset: 0, gzip: true, records: values(2) }));
    expect(z.raw[0].buf).not.toBe(set);
    expect(z.raw[0].buf).toBe(z.raw[1].buf);
    expect(z.records[1].value).toBe('{"n":1}');
  });

  it('steps over offsets a compacted batch no longer holds', () => {
    const set = Buffer.concat([
      encodeBatch({
        baseOffset: 10,
        lastOffsetDelta: 9,
        records: [
          { offsetDelta: 2, value: 'a' },
          { offsetDelta: 7, value: 'b' },
        ],
      }),
    ]);
    const r = decode(set, { fetchOffset: 10 });
    expect(r.records).toEqual([
      { offset: 12, value: 'a' },
      { offset: 17, value: 'b' },
    ]);
    expect(r.nextOffset).toBe(20);
  });

  it('reads offsets beyond 32 bits exactly', () => {
    const base = 2 ** 40 + 5;
    const r = decode(encodeBatch({ baseOffset: base, records: values(2) }), { fetchOffset: base });
    expect(r.records.map((x) => x.offset)).toEqual([base, base + 1]);
  });
});

describe('fetch protocol', () => {
  it('encodes a Fetch v4 request: read_committed, each partition at its offset', () => {
    const body = encodeFetchRequest({
      topic: 'tw',
      partitions: [
        { partition: 0, offset: 5 },
        { partition: 3, offset: 2 ** 33 },
      ],
      maxWaitMs: 100,
      maxBytes: 8000,
      partitionMaxBytes: 2000,
    });
    const expected = new RequestWriter()
      .int32(-1)
      .int32(100)
      .int32(1)
      .int32(8000)
      .int8(1)
      .int32(1)
      .string('tw')
      .int32(2)
      .int32(0)
      .int64(5)
      .int32(2000)
      .int32(3)
      .int64(2 ** 33)
      .int32(2000)
      .bytes();
    expect(body.equals(expected)).toBe(true);
  });

  it('locates each partition of a Fetch v4 response, with its error and aborted transactions', () => {
    const records = encodeBatch({ baseOffset: 0, records: values(2) });
    const w = new RequestWriter()
      .int32(0) // throttle
      .int32(2)
      .string('other')
      .int32(1)
      .int32(0)
      .int16(0)
      .int64(1)
      .int64(1)
      .int32(-1)
      .int32(0)
      .string('tw')
      .int32(2)
      // partition 1: records, one aborted transaction
      .int32(1)
      .int16(0)
      .int64(2)
      .int64(2)
      .int32(1)
      .int64(9)
      .int64(0)
      .int32(records.length);
    const head = w.bytes();
    const tail = new RequestWriter()
      // partition 2: not the leader any more
      .int32(2)
      .int16(6)
      .int64(-1)
      .int64(-1)
      .int32(-1)
      .int32(-1)
      .bytes();
    const body = Buffer.concat([head, records, tail]);
    const parts = decodeFetchResponse(body, 'tw');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({
      partition: 1,
      errorCode: 0,
      highWatermark: 2,
      abortedTransactions: [{ producerId: 9, firstOffset: 0 }],
    });
    expect(body.subarray(parts[0].recordsStart, parts[0].recordsEnd).equals(records)).toBe(true);
    expect(parts[1]).toMatchObject({ partition: 2, errorCode: 6, abortedTransactions: null });
    expect(parts[1].recordsEnd).toBe(parts[1].recordsStart);
  });

  it('reads partition leaders from a Metadata v4 response', () => {
    const body = new RequestWriter()
      .int32(0)
      .int32(1)
      .int32(1)
      .string('127.0.0.1')
      .int32(9092)
      .string(null)
      .string('cluster')
      .int32(1)
      .int32(1)
      .int16(0)
      .string('tw')
      .int8(0)
      .int32(2)
      .int16(0)
      .int32(0)
      .int32(1)
      .int32(1)
      .int32(1)
      .int32(1)
      .int32(1)
      .int16(5)
      .int32(1)
      .int32(-1)
      .int32(0)
      .int32(0)
      .bytes();
    const meta = decodeMetadataResponse(body, 'tw');
    expect(meta.errorCode).toBe(0);
    expect(meta.brokers.get(1)).toEqual({ nodeId: 1, host: '127.0.0.1', port: 9092 });
    expect(meta.partitions.get(0)).toEqual({ leader: 1, errorCode: 0 });
    expect(meta.partitions.get(1)).toEqual({ leader: -1, errorCode: 5 });
  });
});
