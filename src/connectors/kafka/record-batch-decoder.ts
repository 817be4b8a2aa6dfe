/**
 * Decodes the record set of one partition in a Fetch response: a sequence of
 * Kafka RecordBatch v2 (magic 2), the only format Kafka 3.x writes. Made for
 * the native fetch path: offsets as plain numbers (never 64-bit objects or
 * strings), values left where they are in the response (a byte range, not a
 * copy and not a string: the reader makes strings only if the job asks for
 * them), keys, timestamps and headers skipped without allocating anything.
 *
 * What a record set may hold, and what this does with it:
 * - a truncated last batch (the broker cuts the response at the size asked
 *   for): ignored, it is fetched again from its base offset next time;
 * - batches that start before the offset asked for (the broker returns the
 *   whole batch holding it): records before it dropped;
 * - control batches (transaction markers): skipped, their offsets still count
 *   as read;
 * - read_committed: batches of aborted transactions (listed in the response)
 *   skipped as Kafka's own consumer does;
 * - compression none and gzip; snappy, lz4 and zstd fail with a clear error.
 *
 * Every complete batch's CRC-32C is checked first: a mismatch is corruption,
 * never data.
 *
 * Batch layout (offsets within the batch): baseOffset int64 @0,
 * batchLength int32 @8 (bytes after this field), partitionLeaderEpoch int32 @12,
 * magic int8 @16, crc uint32 @17 (of bytes @21..end), attributes int16 @21,
 * lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp int64 @35,
 * producerId int64 @43, producerEpoch int16 @51, baseSequence int32 @53,
 * recordCount int32 @57, records @61.
 */
import { gunzipSync } from 'node:zlib';
import { FloeError } from '../../runtime/errors';
import { crc32c } from './crc32c';

/**
 * Where decoded records go, one call per record: its offset and its value,
 * the bytes buf[start, end) (buf null: a tombstone). `buf` is never written
 * again (a response buffer of its own), so the range can be handed on as it
 * is. A call per record, not an object per record: thousands of fetched
 * records wait in a queue, and objects that wait survive young-generation
 * GCs and get copied (this halved the scavenge time of a job from Kafka).
 */
export interface RecordSink {
  add(offset: number, buf: Buffer | null, start: number, end: number): void;
}

/** An aborted transaction listed in a read_committed Fetch response. */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface DecodeOptions {
  /** For error messages. */
  topic: string;
  partition: number;
  /** The offset the fetch asked for: records before it are dropped. */
  fetchOffset: number;
  /** read_committed: the response's aborted transactions (null or empty: none). */
  abortedTransactions: AbortedTransaction[] | null;
}

export interface DecodeResult {
  /** The offset after the last complete batch (data, control or aborted); fetchOffset when there was none. */
  nextOffset: number;
  /** Complete batches seen. */
  batches: number;
  /** True when the record set ended in a truncated batch. */
  partial: boolean;
}

const HEADER_BYTES = 61;
const COMPRESSION = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const ATTR_COMPRESSION = 0x07;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
/** Control record type of an abort marker (1 is a commit). */
const CONTROL_ABORT = 0;

/** A signed 64-bit big-endian integer as a number (exact up to 2^53, which Kafka offsets and producer ids stay under). */
function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

function corrupt(o: DecodeOptions, offset: number, what: string): FloeError {
  return new FloeError(
    'SOURCE_IO',
    `kafka source ${o.topic}/${o.partition}: record batch at offset ${offset}: ${what}`,
  );
}

/** Reads zigzag varints from a buffer; `pos` moves past what was read. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}

  /** A zigzag-encoded signed varint of at most 32 bits (lengths, deltas, counts). */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    let v = b & 0x7f;
    let shift = 7;
    while (b & 0x80) {
      if (shift > 28) throw new RangeError('varint longer than 5 bytes');
      b = buf[this.pos++];
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    return (v >>> 1) ^ -(v & 1);
  }

  /** Steps over a varlong (timestamp deltas: never needed). */
  skipVarlong(): void {
    while (this.buf[this.pos++] & 0x80);
  }
}

/**
 * Hands the records of `set` (buf[start, end)) at or after the fetch offset
 * to `out` and says where the next fetch starts.
 */
export function decodeRecordSet(
  buf: Buffer,
  start: number,
  end: number,
  options: DecodeOptions,
  out: RecordSink,
): DecodeResult {
  let pos = start;
  let nextOffset = options.fetchOffset;
  let batches = 0;
  const aborted = (options.abortedTransactions ?? []).slice().sort((a, b) => a.firstOffset - b.firstOffset);
  let abortedAt = 0;
  /** Producers whose aborted transaction is open at the current batch. */
  const abortedProducers = new Set<number>();
  while (end - pos >= 12) {
    const baseOffset = int64(buf, pos);
    const batchEnd = pos + 12 + buf.readInt32BE(pos + 8);
    if (batchEnd > end || end - pos < HEADER_BYTES) return { nextOffset, batches, partial: true };
    const magic = buf.readInt8(pos + 16);
    if (magic !== 2)
      throw corrupt(
        options,
        baseOffset,
        `message format v${magic} is not supported by the native client (only v2, written by Kafka 0.11 and later); use ?client=kafkajs`,
      );
    const crc = buf.readUInt32BE(pos + 17);
    if (crc32c(buf, pos + 21, batchEnd) !== crc)
      throw corrupt(options, baseOffset, 'CRC-32C mismatch (corrupt data from the broker)');
    batches++;
    const attributes = buf.readInt16BE(pos + 21);
    const lastOffset = baseOffset + buf.readInt32BE(pos + 23);
    const producerId = int64(buf, pos + 43);
    const count = buf.readInt32BE(pos + 57);
    const batchStart = pos;
    pos = batchEnd;
    if (lastOffset < options.fetchOffset) continue;
    nextOffset = Math.max(nextOffset, lastOffset + 1);
    while (abortedAt < aborted.length && aborted[abortedAt].firstOffset <= lastOffset) {
      abortedProducers.add(aborted[abortedAt++].producerId);
    }
    if (attributes & ATTR_CONTROL) {
      // A control batch holds one control record; its key says commit or abort.
      if (abortedProducers.has(producerId) && controlType(buf, batchStart, batchEnd) === CONTROL_ABORT) {
        abortedProducers.delete(producerId);
      }
      continue;
    }
    if (attributes & ATTR_TRANSACTIONAL && abortedProducers.has(producerId)) continue;
    let records = buf;
    let rpos = batchStart + HEADER_BYTES;
    let rend = batchEnd;
    const codec = attributes & ATTR_COMPRESSION;
    if (codec === 1) {
      records = gunzipSync(buf.subarray(rpos, rend));
      rpos = 0;
      rend = records.length;
    } else if (codec !== 0) {
      throw corrupt(
        options,
        baseOffset,
        `compression ${COMPRESSION[codec] ?? codec} is not supported by the native client (supported: none, gzip); use ?client=kafkajs with a codec, or produce without it`,
      );
    }
    decodeRecords(records, rpos, rend, count, baseOffset, options, out);
  }
  return { nextOffset, batches, partial: pos < end };
}

function decodeRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  options: DecodeOptions,
  out: RecordSink,
): void {
  const c = new Cursor(buf, start);
  const from = options.fetchOffset;
  try {
    for (let i = 0; i < count; i++) {
      const length = c.varint();
      const recordEnd = c.pos + length;
      if (recordEnd > end) throw new RangeError('record runs past its batch');
      c.pos++; // attributes: unused
      c.skipVarlong(); // timestamp delta
      const offset = baseOffset + c.varint();
      const keyLength = c.varint();
      if (keyLength > 0) c.pos += keyLength;
      const valueLength = c.varint();
      if (offset >= from) {
        if (valueLength < 0) out.add(offset, null, 0, 0);
        else out.add(offset, buf, c.pos, c.pos + valueLength);
      }
      // Headers are skipped whole: the record's length says where it ends.
      c.pos = recordEnd;
    }
  } catch (err) {
    if (err instanceof RangeError) throw corrupt(options, baseOffset, `malformed record: ${err.message}`);
    throw err;
  }
}

/** Type of the control record in a control batch (key: version int16, type int16); -1 when unreadable. */
function controlType(buf: Buffer, batchStart: number, batchEnd: number): number {
  const c = new Cursor(buf, batchStart + HEADER_BYTES);
  if (c.pos >= batchEnd) return -1;
  c.varint(); // length
  c.pos++; // attributes
  c.skipVarlong(); // timestamp delta
  c.varint(); // offset delta
  const keyLength = c.varint();
  if (keyLength < 4 || c.pos + 4 > batchEnd) return -1;
  return buf.readInt16BE(c.pos + 2);
}
