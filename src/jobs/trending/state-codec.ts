/**
 * Byte-level helpers for the trending job's per-key-group operator snapshots
 * (TopicWindowOperator, DedupeState). Every blob is
 *
 *   4 bytes magic (ASCII, one per operator) | 1 byte version | body | 4 bytes CRC32 (big-endian)
 *
 * where the CRC (IEEE, as zlib) covers every byte before it, so a flipped or
 * truncated blob is rejected before its body is read. Body primitives:
 * - varint: unsigned LEB128 of a non-negative safe integer (at most 8 bytes);
 * - zigzag: a safe integer mapped to a varint (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...);
 * - f64: IEEE 754 double, little-endian;
 * - string: varint (byte length * 2 + form), then the bytes; form 0 is UTF-8,
 *   form 1 is UTF-16LE, used only for strings with unpaired surrogates, which
 *   UTF-8 cannot carry (so every JS string round-trips exactly);
 * - bytes: varint length, then the bytes;
 * - raw: bytes without a length, for counts the reader already has.
 */
import { isUtf8 } from 'node:buffer';
import { crc32 } from 'node:zlib';
import { StateBackendError } from '../../state/keyed-state-backend';
import { MAX_KEY_GROUPS } from '../../state/keyed-state-backend';

const CRC_BYTES = 4;
const HEADER_BYTES = 5;
const MAX_VARINT_BYTES = 8; // 2^56 > 2^53
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws unless 1 <= maxParallelism <= MAX_KEY_GROUPS (an integer). */
export function checkMaxParallelism(maxParallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_KEY_GROUPS)
    throw new RangeError(
      `maxParallelism must be an integer in [1, ${MAX_KEY_GROUPS}], got ${maxParallelism}`,
    );
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Appends primitives to a growing buffer; finish() adds the CRC. */
export class BlobWriter {
  private buf: Buffer;
  private at = 0;

  constructor(magic: string, version: number, sizeHint = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(sizeHint, 64));
    this.at = this.buf.write(magic, 0, 'latin1');
    this.buf[this.at++] = version;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.at++] = v;
  }

  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot encode ${v} as an unsigned varint`);
    this.reserve(MAX_VARINT_BYTES);
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.at++] = v;
  }

  zigzag(v: number): void {
    if (!Number.isSafeInteger(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER / 2)
      throw new RangeError(`cannot encode ${v} as a zigzag varint`);
    this.varint(zigzag(v));
  }

  f64(v: number): void {
    this.reserve(8);
    this.at = this.buf.writeDoubleLE(v, this.at);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  string(s: string): void {
    const utf16 = LONE_SURROGATE.test(s);
    const encoding = utf16 ? 'utf16le' : 'utf8';
    const len = Buffer.byteLength(s, encoding);
    this.varint(len * 2 + (utf16 ? 1 : 0));
    this.reserve(len);
    this.at += this.buf.write(s, this.at, len, encoding);
  }

  /** Bytes as they are, without a length: the reader must know how many. */
  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** The blob: everything written, then the CRC32. The writer must not be used afterwards. */
  finish(): Buffer {
    this.reserve(CRC_BYTES);
    this.buf.writeUInt32BE(crc32(this.buf.subarray(0, this.at)), this.at);
    this.at += CRC_BYTES;
    // A copy at exact size: a subarray would pin the (possibly much larger) growth buffer.
    return Buffer.from(this.buf.subarray(0, this.at));
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/**
 * Reads a blob written by BlobWriter. The constructor checks length, magic,
 * version and CRC; every read checks bounds. All failures throw
 * StateBackendError('corrupt-blob') (code STATE_CORRUPT) naming the blob kind.
 */
export class BlobReader {
  private readonly buf: Buffer;
  private at = HEADER_BYTES;
  private readonly end: number;

  constructor(
    private readonly kind: string,
    magic: string,
    version: number,
    input: Uint8Array,
  ) {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.buf = buf;
    if (buf.length < HEADER_BYTES + CRC_BYTES)
      throw this.corrupt(`${buf.length} bytes is shorter than any valid blob (truncated?)`);
    const got = buf.toString('latin1', 0, 4);
    if (got !== magic)
      throw this.corrupt(`bad magic 0x${buf.subarray(0, 4).toString('hex')} (expected "${magic}")`);
    if (buf[4] !== version) throw this.corrupt(`unsupported version ${buf[4]} (this build reads ${version})`);
    this.end = buf.length - CRC_BYTES;
    const stored = buf.readUInt32BE(this.end);
    const computed = crc32(buf.subarray(0, this.end));
    if (stored !== computed) {
      throw this.corrupt(
        `CRC32 mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed ` +
          `0x${computed.toString(16).padStart(8, '0')}): corrupted or truncated`,
      );
    }
  }

  /** Reads and checks the header every per-key-group blob starts with: max parallelism, then key group. */
  keyGroupHeader(): { maxParallelism: number; keyGroup: number } {
    const maxParallelism = this.maxParallelism();
    const keyGroup = this.varint('key group');
    if (keyGroup >= maxParallelism) {
      throw this.corrupt(`key group ${keyGroup} out of range for maxParallelism ${maxParallelism}`);
    }
    return { maxParallelism, keyGroup };
  }

  /** Reads a max parallelism and checks its range. */
  maxParallelism(): number {
    const maxParallelism = this.varint('maxParallelism');
    try {
      checkMaxParallelism(maxParallelism);
    } catch (e) {
      throw this.corrupt((e as Error).message);
    }
    return maxParallelism;
  }

  corrupt(message: string, cause?: unknown): StateBackendError {
    return new StateBackendError('corrupt-blob', `${this.kind} state blob rejected: ${message}`, { cause });
  }

  remaining(): number {
    return this.end - this.at;
  }

  u8(field: string): number {
    if (this.at >= this.end) throw this.corrupt(`${field} runs past the end`);
    return this.buf[this.at++];
  }

  varint(field: string): number {
    let v = 0;
    for (let i = 0, scale = 1; i < MAX_VARINT_BYTES; i++, scale *= 0x80) {
      if (this.at >= this.end) throw this.corrupt(`${field} runs past the end`);
      const byte = this.buf[this.at++];
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(v)) throw this.corrupt(`${field} ${v} is not a safe integer`);
        return v;
      }
    }
    throw this.corrupt(`${field} is not a valid varint`);
  }

  /** A count of items each taking at least minBytes: bounded by the bytes left, before anything is allocated. */
  count(field: string, minBytes: number): number {
    const n = this.varint(field);
    if (n * minBytes > this.remaining())
      throw this.corrupt(`${field} ${n} cannot fit in the ${this.remaining()} bytes left`);
    return n;
  }

  zigzag(field: string): number {
    const z = this.varint(field);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  f64(field: string): number {
    if (this.at + 8 > this.end) throw this.corrupt(`${field} runs past the end`);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  bytes(field: string): Buffer {
    const len = this.varint(`${field} length`);
    if (len > this.remaining()) throw this.corrupt(`${field} (${len} bytes) runs past the end`);
    const out = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }

  string(field: string): string {
    const header = this.varint(`${field} length`);
    const len = Math.floor(header / 2);
    if (len > this.remaining()) throw this.corrupt(`${field} (${len} bytes) runs past the end`);
    const raw = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    if (header % 2 === 1) {
      if (len % 2 !== 0) throw this.corrupt(`${field} is UTF-16 of odd length ${len}`);
      return raw.toString('utf16le');
    }
    if (!isUtf8(raw)) throw this.corrupt(`${field} is not valid UTF-8`);
    return raw.toString('utf8');
  }

  /** `n` bytes written by BlobWriter.raw. */
  raw(field: string, n: number): Buffer {
    if (n > this.remaining()) throw this.corrupt(`${field} (${n} bytes) runs past the end`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Throws unless every byte before the CRC was read. */
  done(): void {
    if (this.at !== this.end) throw this.corrupt(`${this.end - this.at} unexpected bytes at the end`);
  }
}
