/**
 * HyperLogLog distinct counter, sized for "distinct authors per (window, topic)" in the
 * trending job, where up to ~1e6 sketches are alive at once and most hold 1-3 authors.
 *
 * Contract:
 * - estimate() is exact (up to 53-bit hash collisions, probability ~n^2 / 2^54, i.e. ~1e-10
 *   at the sparse limit) while the sketch holds at most HLL_SPARSE_LIMIT = 1536 distinct keys.
 * - Beyond that the sketch turns dense: m = 2^14 registers and Ertl's improved raw
 *   estimator. Relative standard error is ~1.04 / sqrt(m) ~= 0.81% for n >> m and lower
 *   (~0.6%) for n of a few thousand; no bias tables are needed anywhere in the range, and
 *   the estimate is unbiased to within ~0.1%. 2% is ~2.5 standard errors, so roughly 1 key
 *   set in 80 of size >= 1e5 lands outside it; no p = 14 sketch can promise more.
 * - merge() is a lossless union: merging sketches gives exactly the sketch (same bytes) of
 *   the combined input, whatever mode each side is in. It is commutative and idempotent.
 * - Serialized forms (toSerialized/toBytes) are part of the checkpoint format: the hash
 *   seeds, precision, sparse encoding and rank cap below must never change without a new
 *   format byte, or sketches restored from old checkpoints would silently miscount.
 *
 * Hashing: two murmur3 hashes with different seeds give h1 and h2. The register index is
 * the top 14 bits of h1. The rank is taken over the 18 low bits of h1 followed by the top
 * 21 bits of h2 (q = 39 rank bits, ranks 1..40), not the full 50 bits, because the sparse
 * form stores only h1 and the top 21 bits of h2 (53 bits, a safe integer) and a sketch must
 * compute the same registers whether it saw a key directly or replayed it from the sparse
 * set. The cap only matters past ~m * 2^39 distinct keys.
 */
import { murmur3 } from '../runtime/hash';

const SEED1 = 0x9747b28c;
const SEED2 = 0x5bd1e995;

/** Precision p: m = 2^p registers. Fixed because it is baked into the serialized formats. */
export const HLL_PRECISION = 14;
const M = 1 << HLL_PRECISION;
const LOW_BITS = 32 - HLL_PRECISION; // rank bits taken from h1
const LOW_MASK = (1 << LOW_BITS) - 1;
const H2_BITS = 21; // bits of h2 kept by the sparse encoding: 32 + 21 = 53
const H2_SHIFT = 32 - H2_BITS;
const H2_SCALE = 2 ** H2_BITS;
const Q = LOW_BITS + H2_BITS; // 39
/** Largest register value: all Q rank bits zero. */
export const HLL_MAX_RANK = Q + 1;

/**
 * Sparse limit. The largest sparse table is a Float64Array of 2048 slots (8 bytes each,
 * load factor <= 0.75), i.e. 16 KiB, the same as the dense Uint8Array(16384): the sparse
 * form never costs more than the dense one, and converting at 1536 rather than earlier keeps
 * counts exact for all but the busiest topics.
 */
export const HLL_SPARSE_LIMIT = 1536;
/**
 * Up to this many hashes live in a plain number[] reallocated at exact size on each new
 * distinct hash: a linear scan of 16 doubles is as fast as hashing, and an exact-size array
 * costs 48 + 8n bytes where a typed array costs ~200 bytes before its first element.
 */
const LIST_LIMIT = 16;
const TABLE_MIN_CAPACITY = 32;

const ALPHA_INF = 1 / (2 * Math.LN2);

// A module binding rather than Math.clz32 in the hot path: global lookups are several times
// slower inside vm contexts (jest, sandboxes), and it costs nothing in plain Node.
const clz32 = Math.clz32;

const EMPTY: readonly number[] = [];

/** First hash of a key; pair with hashKeyH2 and addHashes to hash a key once for many sketches. */
export function hashKeyH1(key: string): number {
  return murmur3(key, SEED1);
}

/** Second hash of a key; see hashKeyH1. */
export function hashKeyH2(key: string): number {
  return murmur3(key, SEED2);
}

/**
 * A key's two hashes as one sparse value (h1 * 2^21 + the top 21 bits of h2, a safe integer):
 * the form sparse sketches store and serialize. Callers holding many tiny sketches can keep
 * these numbers themselves and hand them to addEncoded / sparseBytes.
 */
export function encodeHashes(h1: number, h2: number): number {
  return (h1 >>> 0) * H2_SCALE + (h2 >>> H2_SHIFT);
}

/**
 * toBytes() of the sparse sketch holding exactly `values` (distinct encoded hashes, ascending),
 * without building the sketch.
 */
export function sparseBytes(values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(1 + varintLength(n) + SPARSE_ENTRY_BYTES * n);
  out[0] = FORMAT_SPARSE_V1;
  let o = writeVarint(out, 1, n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const h1 = Math.floor(v / H2_SCALE);
    const lo = v - h1 * H2_SCALE;
    out[o++] = h1 & 0xff;
    out[o++] = (h1 >>> 8) & 0xff;
    out[o++] = (h1 >>> 16) & 0xff;
    out[o++] = h1 >>> 24;
    out[o++] = lo & 0xff;
    out[o++] = (lo >>> 8) & 0xff;
    out[o++] = lo >>> 16;
  }
  return out;
}

/**
 * Plain, structured-clone-friendly form (worker messages). Sparse values are the encoded
 * hashes h1 * 2^21 + (h2 >>> 11), sorted. toSerialized() returns fresh arrays, so the dense
 * buffer may be put in a postMessage transfer list.
 */
export type SerializedHll = { sparse: number[] } | { dense: Uint8Array };

/** toBytes() format byte: layout version and mode in one. */
const FORMAT_SPARSE_V1 = 0x01; // varint count, then per hash: h1 u32 LE, h2 top 21 bits as u24 LE
const FORMAT_DENSE_V1 = 0x02; // registers packed 6 bits each, 4 per 3 bytes, little-endian
const SPARSE_ENTRY_BYTES = 7;
const DENSE_PACKED_BYTES = (M / 4) * 3;

export class HyperLogLog {
  /** Sparse, small: distinct encoded hashes. Never mutated in place, so it can be shared. */
  private list: readonly number[] = EMPTY;
  /** Sparse, larger: open addressing with linear probing; slot = encoded + 1, 0 = free. */
  private table: Float64Array | null = null;
  private tableSize = 0;
  /** Dense registers; once set, list and table are dropped. */
  private registers: Uint8Array | null = null;
  /** Dense estimate, -1 when stale: estimate() costs a pass over all 16384 registers. */
  private cached = -1;

  add(key: string): void {
    this.addHashes(murmur3(key, SEED1), murmur3(key, SEED2));
  }

  /** Adds a key by its two hashes (hashKeyH1, hashKeyH2); both are taken as uint32. */
  addHashes(h1: number, h2: number): void {
    h1 >>>= 0;
    const regs = this.registers;
    if (regs !== null) {
      if (setRegister(regs, h1, h2)) this.cached = -1;
    } else {
      this.insertSparse(h1 * H2_SCALE + (h2 >>> H2_SHIFT));
    }
  }

  estimate(): number {
    const regs = this.registers;
    if (regs === null) return this.table === null ? this.list.length : this.tableSize;
    if (this.cached < 0) this.cached = ertlEstimate(regs);
    return this.cached;
  }

  /** Union: afterwards this sketch is the sketch of both inputs. `other` is not modified. */
  merge(other: HyperLogLog): void {
    if (other === this) return;
    const oRegs = other.registers;
    if (oRegs === null) {
      const oTable = other.table;
      if (oTable === null) {
        const oList = other.list;
        for (let i = 0; i < oList.length; i++) this.insertEncoded(oList[i]);
      } else {
        for (let i = 0; i < oTable.length; i++) {
          const s = oTable[i];
          if (s !== 0) this.insertEncoded(s - 1);
        }
      }
      return;
    }
    if (this.registers === null) this.toDense();
    if (maxRegisters(this.registers as Uint8Array, oRegs)) this.cached = -1;
  }

  isDense(): boolean {
    return this.registers !== null;
  }

  /**
   * Approximate retained memory in bytes on 64-bit V8 without pointer compression (Node's
   * default): object 64, number[] 48 + 8n, typed array ~200 + its buffer. Off-heap buffers
   * are counted too.
   */
  byteSize(): number {
    const object = 64;
    if (this.registers !== null) return object + TYPED_ARRAY_OVERHEAD + M;
    if (this.table !== null) return object + TYPED_ARRAY_OVERHEAD + 8 * this.table.length;
    return this.list.length === 0 ? object : object + 48 + 8 * this.list.length;
  }

  clone(): HyperLogLog {
    const c = new HyperLogLog();
    c.list = this.list;
    c.table = this.table === null ? null : this.table.slice();
    c.tableSize = this.tableSize;
    c.registers = this.registers === null ? null : this.registers.slice();
    c.cached = this.cached;
    return c;
  }

  /**
   * Appends a sparse sketch's encoded hashes to `out` in no particular order (cheaper than
   * toSerialized, which sorts them) and returns true; a dense sketch appends nothing: false.
   */
  appendSparseTo(out: number[]): boolean {
    if (this.registers !== null) return false;
    const table = this.table;
    if (table === null) {
      const list = this.list;
      for (let i = 0; i < list.length; i++) out.push(list[i]);
    } else {
      for (let i = 0; i < table.length; i++) if (table[i] !== 0) out.push(table[i] - 1);
    }
    return true;
  }

  toSerialized(): SerializedHll {
    if (this.registers !== null) return { dense: this.registers.slice() };
    return { sparse: this.sparseValues() };
  }

  static fromSerialized(s: SerializedHll): HyperLogLog {
    const h = new HyperLogLog();
    if (s !== null && typeof s === 'object' && 'dense' in s) {
      const d = s.dense;
      // The tag, not instanceof: a buffer from another realm (vm context) is still fine.
      if (Object.prototype.toString.call(d) !== '[object Uint8Array]' || d.length !== M) {
        throw new RangeError(`HyperLogLog: dense form needs a Uint8Array of ${M} registers`);
      }
      checkRegisters(d);
      h.registers = d.slice();
      return h;
    }
    if (s !== null && typeof s === 'object' && 'sparse' in s && Array.isArray(s.sparse)) {
      for (const v of s.sparse) {
        if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`HyperLogLog: bad sparse hash ${v}`);
        h.insertEncoded(v);
      }
      return h;
    }
    throw new TypeError('HyperLogLog: expected { sparse: number[] } or { dense: Uint8Array }');
  }

  /**
   * The sketch of values[from .. to), encoded hashes (encodeHashes) that the
   * caller vouches are distinct, e.g. one partial's (see PartialBatch): built
   * in the form addEncoded would have reached, without its duplicate checks.
   * Not validated, as addEncoded.
   */
  static fromDistinctEncoded(values: ArrayLike<number>, from: number, to: number): HyperLogLog {
    const h = new HyperLogLog();
    const n = to - from;
    if (n <= LIST_LIMIT) {
      const list: number[] = [];
      for (let i = from; i < to; i++) list.push(values[i]);
      h.list = list;
    } else if (n <= HLL_SPARSE_LIMIT) {
      let capacity = TABLE_MIN_CAPACITY;
      // insertSparse's load limit: at most 3/4 full.
      while (n * 4 > capacity * 3) capacity *= 2;
      const table = new Float64Array(capacity);
      for (let i = from; i < to; i++) tablePut(table, values[i] + 1);
      h.table = table;
      h.tableSize = n;
    } else {
      const regs = new Uint8Array(M);
      for (let i = from; i < to; i++) setEncoded(regs, values[i]);
      h.registers = regs;
    }
    return h;
  }

  /** Compact binary for checkpoints; byte 0 is the format (version and mode). */
  toBytes(): Uint8Array {
    const regs = this.registers;
    if (regs !== null) {
      const out = new Uint8Array(1 + DENSE_PACKED_BYTES);
      out[0] = FORMAT_DENSE_V1;
      for (let i = 0, o = 1; i < M; i += 4, o += 3) {
        const w = regs[i] | (regs[i + 1] << 6) | (regs[i + 2] << 12) | (regs[i + 3] << 18);
        out[o] = w & 0xff;
        out[o + 1] = (w >>> 8) & 0xff;
        out[o + 2] = w >>> 16;
      }
      return out;
    }
    return sparseBytes(this.sparseValues());
  }

  static fromBytes(b: Uint8Array): HyperLogLog {
    if (b.length === 0) throw new RangeError('HyperLogLog: empty buffer');
    const h = new HyperLogLog();
    if (b[0] === FORMAT_DENSE_V1) {
      if (b.length !== 1 + DENSE_PACKED_BYTES) {
        throw new RangeError(
          `HyperLogLog: dense buffer is ${b.length} bytes, expected ${1 + DENSE_PACKED_BYTES}`,
        );
      }
      const regs = new Uint8Array(M);
      for (let i = 0, o = 1; i < M; i += 4, o += 3) {
        const w = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
        regs[i] = w & 63;
        regs[i + 1] = (w >>> 6) & 63;
        regs[i + 2] = (w >>> 12) & 63;
        regs[i + 3] = w >>> 18;
      }
      checkRegisters(regs);
      h.registers = regs;
      return h;
    }
    if (b[0] === FORMAT_SPARSE_V1) {
      const [n, start] = readVarint(b, 1);
      if (b.length !== start + SPARSE_ENTRY_BYTES * n) {
        throw new RangeError(`HyperLogLog: sparse buffer is ${b.length} bytes for ${n} hashes`);
      }
      for (let i = 0, o = start; i < n; i++, o += SPARSE_ENTRY_BYTES) {
        if (b[o + 6] > 0x1f)
          throw new RangeError(`HyperLogLog: sparse hash ${i} has more than ${H2_BITS} low bits`);
        const h1 = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
        const lo = b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16);
        h.insertEncoded(h1 * H2_SCALE + lo);
      }
      return h;
    }
    throw new RangeError(`HyperLogLog: unknown format byte 0x${b[0].toString(16)}`);
  }

  /**
   * Adds a key by its encoded hashes (encodeHashes, or a value of the sparse serialized form).
   * Not validated: the caller vouches for a safe integer below 2^53.
   */
  addEncoded(v: number): void {
    this.insertEncoded(v);
  }

  /**
   * addEncoded for each of values[from .. to), as one step while the sketch
   * stays a short list: one new list instead of a copy per value (the window
   * stage merges a partial's hashes this way).
   */
  addEncodedRun(values: ArrayLike<number>, from: number, to: number): void {
    const list = this.list;
    if (this.table === null && this.registers === null && list.length + (to - from) <= LIST_LIMIT) {
      let added: number[] | undefined;
      for (let i = from; i < to; i++) {
        const v = values[i];
        if (list.indexOf(v) === -1 && (added === undefined || added.indexOf(v) === -1))
          (added ??= []).push(v);
      }
      // concat allocates exactly the slots needed (see insertSparse).
      if (added !== undefined) this.list = list.concat(added);
      return;
    }
    for (let i = from; i < to; i++) this.insertEncoded(values[i]);
  }

  private insertEncoded(v: number): void {
    const regs = this.registers;
    if (regs === null) {
      this.insertSparse(v);
    } else if (setEncoded(regs, v)) {
      this.cached = -1;
    }
  }

  private insertSparse(v: number): void {
    let table = this.table;
    if (table === null) {
      const list = this.list;
      for (let i = 0; i < list.length; i++) if (list[i] === v) return;
      if (list.length < LIST_LIMIT) {
        // concat allocates exactly n + 1 slots, where push would grow capacity to 17+.
        this.list = list.concat(v);
        return;
      }
      table = new Float64Array(TABLE_MIN_CAPACITY);
      for (let i = 0; i < list.length; i++) tablePut(table, list[i] + 1);
      this.table = table;
      this.tableSize = list.length;
      this.list = EMPTY;
    }
    const stored = v + 1;
    const mask = table.length - 1;
    for (let slot = slotOf(v) & mask; ; slot = (slot + 1) & mask) {
      const s = table[slot];
      if (s === stored) return;
      if (s === 0) break;
    }
    const size = this.tableSize + 1;
    if (size > HLL_SPARSE_LIMIT) {
      this.toDense();
      setEncoded(this.registers as Uint8Array, v);
      return;
    }
    if (size * 4 > table.length * 3) {
      const bigger = new Float64Array(table.length * 2);
      for (let i = 0; i < table.length; i++) if (table[i] !== 0) tablePut(bigger, table[i]);
      this.table = table = bigger;
    }
    tablePut(table, stored);
    this.tableSize = size;
  }

  private toDense(): void {
    const regs = new Uint8Array(M);
    const table = this.table;
    if (table === null) {
      for (let i = 0; i < this.list.length; i++) setEncoded(regs, this.list[i]);
    } else {
      for (let i = 0; i < table.length; i++) if (table[i] !== 0) setEncoded(regs, table[i] - 1);
    }
    this.registers = regs;
    this.list = EMPTY;
    this.table = null;
    this.tableSize = 0;
    this.cached = -1;
  }

  private sparseValues(): number[] {
    const values: number[] = [];
    this.appendSparseTo(values);
    // Sorted so that equal sketches serialize to equal bytes (checkpoint diffs, tests).
    return values.sort((a, b) => a - b);
  }
}

/** JSTypedArray + JSArrayBuffer + backing-store bookkeeping, measured on Node 20. */
const TYPED_ARRAY_OVERHEAD = 200;

/** h1 (the encoded value's top 32 bits) is already well mixed by murmur3's finalizer. */
function slotOf(v: number): number {
  return (v / H2_SCALE) >>> 0;
}

function tablePut(table: Float64Array, stored: number): void {
  const mask = table.length - 1;
  let slot = slotOf(stored - 1) & mask;
  while (table[slot] !== 0) slot = (slot + 1) & mask;
  table[slot] = stored;
}

/** Returns whether the register grew. */
function setRegister(regs: Uint8Array, h1: number, h2: number): boolean {
  const low = h1 & LOW_MASK;
  // Rank over low h1 bits then the top H2_BITS of h2; the 0x400 stop bit caps it at Q + 1.
  const rank = low !== 0 ? clz32(low) - HLL_PRECISION + 1 : LOW_BITS + 1 + clz32(h2 | (1 << (H2_SHIFT - 1)));
  const idx = h1 >>> LOW_BITS;
  if (regs[idx] >= rank) return false;
  regs[idx] = rank;
  return true;
}

/**
 * Sets the registers (HLL_PRECISION: 2^14 of them) for one encoded hash, as a dense sketch's
 * addEncoded does; returns whether a register grew. For callers keeping registers of their own.
 */
export function setEncoded(regs: Uint8Array, v: number): boolean {
  const h1 = (v / H2_SCALE) >>> 0;
  return setRegister(regs, h1, (v - h1 * H2_SCALE) << H2_SHIFT);
}

/**
 * Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017), improved
 * raw estimator: alpha_inf m^2 / (m sigma(C_0/m) + sum_k C_k 2^-k + m tau(1 - C_{q+1}/m) 2^-q),
 * with the sum evaluated Horner-style from k = q down.
 */
function ertlEstimate(regs: Uint8Array): number {
  const counts = rankCounts(regs);
  let z = M * tau(1 - counts[Q + 1] / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + counts[k]);
  z += M * sigma(counts[0] / M);
  return Math.round((ALPHA_INF * M * M) / z);
}

/** Throws unless every register holds a possible rank (a function of its own, as maxRegisters). */
function checkRegisters(regs: Uint8Array): void {
  for (let i = 0; i < M; i++) {
    if (regs[i] > HLL_MAX_RANK)
      throw new RangeError(`HyperLogLog: register ${i} is ${regs[i]} > ${HLL_MAX_RANK}`);
  }
}

/**
 * regs = max(regs, other) register by register; whether any grew. A function
 * of its own for the reason rankCounts is (25 deoptimisations of merge in a
 * 1M-tweet run, when the loop was in it).
 */
function maxRegisters(regs: Uint8Array, other: Uint8Array): boolean {
  let changed = false;
  for (let i = 0; i < M; i++) {
    if (other[i] > regs[i]) {
      regs[i] = other[i];
      changed = true;
    }
  }
  return changed;
}

/**
 * Registers per rank. A function of its own: V8 compiled this loop alone
 * while it ran (on-stack replacement) together with the arithmetic after
 * it, which had not run yet, and then threw the code away at that
 * arithmetic on every call (36 deoptimisations in a 1M-tweet run).
 */
function rankCounts(regs: Uint8Array): Int32Array {
  const counts = new Int32Array(HLL_MAX_RANK + 1);
  for (let i = 0; i < M; i++) counts[regs[i]]++;
  return counts;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === prev) return z / 3;
  }
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[o++] = n;
  return o;
}

/** Counts above 2^28 are rejected: no valid sketch has that many sparse hashes. */
function readVarint(b: Uint8Array, o: number): [number, number] {
  let n = 0;
  for (let shift = 0; shift <= 21; shift += 7) {
    if (o >= b.length) break;
    const byte = b[o++];
    n += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [n, o];
  }
  throw new RangeError('HyperLogLog: bad sparse count');
}
