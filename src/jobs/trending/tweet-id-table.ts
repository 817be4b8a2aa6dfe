/**
 * Compact storage for tweet ids, the bulk of the trending job's state: a
 * canonical id of up to 20 digits is held as two numbers, `high` (all but
 * the last 9 digits, below 10^11, exact in a double) and `low` (the last 9
 * digits), in typed arrays. A JS Map of id strings costs about 100 bytes per
 * id and a string hash per lookup; this costs 36 bytes per id (table at most
 * half full, plus the per-bucket list) and no allocation.
 */

import { fmix32 } from '../../runtime/hash';

const LOW_DIGITS = 9;
const MAX_DIGITS = 20;

/** The result of packId, reused to avoid an allocation per call. */
export const packed = { high: 0, low: 0 };

/**
 * Packs a canonical decimal id (1 to 20 digits, no leading zero unless it is
 * "0") into `packed`; false for anything else (held as a string instead).
 */
export function packId(id: string): boolean {
  return packIdIn(id, 0, id.length);
}

/**
 * packId(s.slice(start, end)) without the substring (the local stage packs ids
 * where they sit in the line).
 */
export function packIdIn(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > MAX_DIGITS || (n > 1 && s.charCodeAt(start) === 48)) return false;
  let high = 0;
  let low = 0;
  const split = end - LOW_DIGITS;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (i < split) high = high * 10 + d;
    else low = low * 10 + d;
  }
  packed.high = high;
  packed.low = low;
  return true;
}

/** packIdIn for a key given as the bytes [start, end) of `bytes` (digits are one byte each in UTF-8). */
export function packIdBytes(bytes: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > MAX_DIGITS || (n > 1 && bytes[start] === 48)) return false;
  let high = 0;
  let low = 0;
  const split = end - LOW_DIGITS;
  for (let i = start; i < end; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) return false;
    if (i < split) high = high * 10 + d;
    else low = low * 10 + d;
  }
  packed.high = high;
  packed.low = low;
  return true;
}

/** The id packId packed into (high, low). */
export function unpackId(high: number, low: number): string {
  return high === 0 ? String(low) : String(high) + String(low).padStart(LOW_DIGITS, '0');
}

/** Distinct from any packed low (< 10^9): marks an empty slot. */
const EMPTY = 0xffffffff;
const MIN_CAPACITY = 1024;

/** A 32-bit hash of a packed id (murmur3's finaliser over both parts). */
export function hashOf(high: number, low: number): number {
  // high < 2^37: fold its upper bits in, then murmur3's finaliser.
  return fmix32(
    Math.imul(low ^ 0x9e3779b9, 0x85ebca6b) ^ (high >>> 0) ^ Math.imul((high / 0x100000000) | 0, 0xc2b2ae35),
  );
}

/** A set of packed ids: open addressing with linear probing and backward-shift deletion (no tombstones). */
export class PackedIdSet {
  private highs = new Float64Array(MIN_CAPACITY);
  private lows = new Uint32Array(MIN_CAPACITY).fill(EMPTY);
  private mask = MIN_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Reads the home slot of each of ids[0 .. n) and returns a number made of
   * them (keep it somewhere, so the reads are not dropped). A table of a
   * million ids is far bigger than the caches, so each probe waits for
   * memory; these reads do not depend on each other, so the CPU overlaps
   * their misses, and the probes of the batch that follow find their lines
   * loaded.
   */
  warm(highs: Float64Array, lowIds: Uint32Array, n: number): number {
    const mask = this.mask;
    const lows = this.lows;
    const slotHighs = this.highs;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      const i = hashOf(highs[k], lowIds[k]) & mask;
      acc += lows[i] + slotHighs[i];
    }
    return acc;
  }

  has(high: number, low: number): boolean {
    for (let i = hashOf(high, low) & this.mask; ; i = (i + 1) & this.mask) {
      const l = this.lows[i];
      if (l === EMPTY) return false;
      if (l === low && this.highs[i] === high) return true;
    }
  }

  /** Adds the id; false when it was there already. */
  add(high: number, low: number): boolean {
    if ((this.count + 1) * 2 > this.lows.length) this.grow();
    for (let i = hashOf(high, low) & this.mask; ; i = (i + 1) & this.mask) {
      const l = this.lows[i];
      if (l === EMPTY) {
        this.highs[i] = high;
        this.lows[i] = low;
        this.count++;
        return true;
      }
      if (l === low && this.highs[i] === high) return false;
    }
  }

  /** Removes the id; false when it was not there. */
  delete(high: number, low: number): boolean {
    const mask = this.mask;
    let i = hashOf(high, low) & mask;
    for (; ; i = (i + 1) & mask) {
      const l = this.lows[i];
      if (l === EMPTY) return false;
      if (l === low && this.highs[i] === high) break;
    }
    // Shift later members of the probe run back, so lookups never stop at a hole before them.
    let hole = i;
    for (let j = (i + 1) & mask; this.lows[j] !== EMPTY; j = (j + 1) & mask) {
      const home = hashOf(this.highs[j], this.lows[j]) & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.highs[hole] = this.highs[j];
      this.lows[hole] = this.lows[j];
      hole = j;
    }
    this.lows[hole] = EMPTY;
    this.count--;
    // Shrink at an eighth full (to a quarter), so memory follows the live ids when many leave at once
    // (a bucket expiring or moving to disk after a burst); the gap to the growth threshold avoids thrashing.
    if (this.lows.length > MIN_CAPACITY && this.count * 8 < this.lows.length)
      this.resize(this.lows.length / 2);
    return true;
  }

  private grow(): void {
    this.resize(this.lows.length * 2);
  }

  private resize(capacity: number): void {
    const oldHighs = this.highs;
    const oldLows = this.lows;
    this.highs = new Float64Array(capacity);
    this.lows = new Uint32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < oldLows.length; i++) if (oldLows[i] !== EMPTY) this.add(oldHighs[i], oldLows[i]);
  }
}

/**
 * An append-only list of packed ids. Growing replaces the arrays and never
 * changes the old ones, so a slice of `highs`/`lows` taken earlier stays
 * valid while the list grows: checkpoints encode such slices later.
 */
export class PackedIdList {
  highs = new Float64Array(64);
  lows = new Uint32Array(64);
  length = 0;

  push(high: number, low: number): void {
    if (this.length === this.lows.length) {
      const highs = new Float64Array(this.length * 2);
      const lows = new Uint32Array(this.length * 2);
      highs.set(this.highs);
      lows.set(this.lows);
      this.highs = highs;
      this.lows = lows;
    }
    this.highs[this.length] = high;
    this.lows[this.length] = low;
    this.length++;
  }
}
