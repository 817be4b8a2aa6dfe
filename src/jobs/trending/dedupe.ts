import { FloeError } from '../../runtime/errors';
import { StateBackendError } from '../../state/keyed-state-backend';
import { keyGroupOf, type KeyGroupRange } from '../../runtime/key-groups';
import type { ColdIdStore } from './cold-id-store';
import { BlobReader, BlobWriter, checkMaxParallelism } from './state-codec';
import { packed, PackedIdList, PackedIdSet, packId, unpackId } from './tweet-id-table';

function* bucketStrings(ids: BucketIds): Generator<string> {
  for (let i = 0; i < ids.packed.length; i++) yield unpackId(ids.packed.highs[i], ids.packed.lows[i]);
  yield* ids.strings;
}

/** The ids of one time bucket: canonical digit ids packed, any others as strings. Both only grow. */
interface BucketIds {
  packed: PackedIdList;
  strings: string[];
}

/**
 * Exact de-duplication of tweet ids over an event-time horizon: an id seen
 * once never counts again while the watermark is within `horizonMs` of the
 * tweet's time. Ids are kept in time buckets so expiry drops whole buckets
 * instead of scanning every id; tweet ids are packed into typed arrays
 * (tweet-id-table.ts), other ids kept as strings.
 */
/** Moving ids that are old but not expired out of memory (cold-id-store.ts). */
export interface DedupeSpill {
  store: ColdIdStore;
  /** Buckets whose end is more than this much event time behind the watermark go to the store. */
  memoryHorizonMs: number;
  /** Spill ids no checkpoint delta holds yet: only when the job takes no checkpoints. */
  spillUncaptured: boolean;
}

export class DedupeState {
  private seenPacked = new PackedIdSet();
  private seenStrings = new Set<string>();
  /** Moves to the cold store under way: their ids are still in the sets above. */
  private moving = 0;
  /** Append-only until the whole bucket expires, which lets a delta capture slices of them without copying. */
  private readonly buckets = new Map<number, BucketIds>();
  /**
   * The bucket bucket() last returned, NaN for none: a batch's ids mostly share one, and a Map lookup
   * per id cost 3-5% of a 1M-tweet run's CPU at p=2 (bench/FASTPATH.md, session 12). Whatever removes
   * buckets forgets it (dropBucket, expire's clear).
   */
  private lastBucket = Number.NaN;
  private lastIds: BucketIds | undefined;
  /** Per bucket: how many of its packed and string ids earlier deltas (or a restore) already hold. */
  private readonly captured = new Map<number, { packed: number; strings: number }>();

  /**
   * Buckets up to these may spill / drop from disk at the watermark of the
   * last look (NaN: look again at the next expire()); they change once per
   * bucket length of event time, so most expire() calls skip the look.
   */
  private spillCheckedUpTo = Number.NaN;
  private dropCheckedUpTo = Number.NaN;

  /**
   * @param horizonMs how long (event time) an id is remembered
   * @param bucketMs the time bucket size: ids expire and spill a bucket at a time
   * @param spill where ids older than spill.memoryHorizonMs go; without it all stay in memory
   */
  constructor(
    private readonly horizonMs: number,
    private readonly bucketMs = 60_000,
    private readonly spill?: DedupeSpill,
  ) {
    // V8 compiles a field stored only once as a constant and throws that code away when it first
    // changes (here: at the first watermark, with checkAndAddPacked hot). Stored twice, it is known to change.
    this.wm = 0;
    this.wm = Number.NEGATIVE_INFINITY;
  }

  /** The watermark of the last expire(). */
  private wm = Number.NEGATIVE_INFINITY;

  /**
   * Records the id; returns true when it was already seen (a duplicate). An
   * id already beyond the horizon when it arrives is not recorded: it would
   * be forgotten at the next expire() anyway, and not holding it keeps the
   * state exactly what a restore rebuilds from checkpoint deltas.
   */
  checkAndAdd(id: string, timestampMs: number): boolean {
    if (packId(id)) return this.checkAndAddPacked(packed.high, packed.low, timestampMs);
    if (this.seenStrings.has(id)) return true;
    const cold = this.spill?.store;
    if (cold !== undefined && cold.size > 0 && cold.hasString(id)) return true;
    const bucket = Math.floor(timestampMs / this.bucketMs);
    if (this.isExpired(bucket, this.wm)) return false;
    this.addTo(this.bucket(bucket), id, false);
    return false;
  }

  /** Loads the id table's lines for a batch of packed ids before they are checked (PackedIdSet.warm). */
  warmPacked(highs: Float64Array, lows: Uint32Array, n: number): void {
    this.warmth = this.seenPacked.warm(highs, lows, n);
  }
  /** What warmPacked read, kept (and not private, which the compiler would call unused) so its reads stay. */
  warmth = 0;

  /**
   * checkAndAdd for an id already packed (packId's high and low parts), as
   * the local stage sends canonical ids: no string, no parsing.
   */
  checkAndAddPacked(high: number, low: number, timestampMs: number): boolean {
    if (this.seenPacked.has(high, low)) return true;
    const cold = this.spill?.store;
    if (cold !== undefined && cold.size > 0 && cold.hasPacked(high, low)) return true;
    const bucket = Math.floor(timestampMs / this.bucketMs);
    if (this.isExpired(bucket, this.wm)) return false;
    packed.high = high;
    packed.low = low;
    this.addTo(this.bucket(bucket), '', true);
    return false;
  }

  private bucket(bucket: number): BucketIds {
    if (bucket === this.lastBucket) return this.lastIds as BucketIds;
    let ids = this.buckets.get(bucket);
    if (ids === undefined) this.buckets.set(bucket, (ids = { packed: new PackedIdList(), strings: [] }));
    this.lastBucket = bucket;
    this.lastIds = ids;
    return ids;
  }

  /** Removes a bucket's list (not its ids from the sets) and what earlier deltas captured of it. */
  private dropBucket(bucket: number): void {
    this.buckets.delete(bucket);
    this.captured.delete(bucket);
    if (bucket === this.lastBucket) {
      this.lastBucket = Number.NaN;
      this.lastIds = undefined;
    }
  }

  /** Adds an id not held yet; `isPacked`: packId(id) returned true and `packed` holds it. */
  private addTo(ids: BucketIds, id: string, isPacked: boolean): void {
    if (isPacked) {
      this.seenPacked.add(packed.high, packed.low);
      ids.packed.push(packed.high, packed.low);
    } else {
      this.seenStrings.add(id);
      ids.strings.push(id);
    }
  }

  /** Forgets ids whose whole bucket lies more than the horizon behind the watermark. */
  expire(watermark: number): number {
    if (watermark > this.wm) this.wm = watermark;
    let removed = 0;
    if (this.moving === 0 && this.buckets.size > 0 && this.allExpired(watermark)) {
      // Everything goes (the end of input, or a long quiet spell): drop the sets whole rather
      // than deleting id by id, which costs a probe and a shift each.
      removed = this.seenPacked.size + this.seenStrings.size;
      this.seenPacked = new PackedIdSet();
      this.seenStrings = new Set();
      this.buckets.clear();
      this.captured.clear();
      this.lastBucket = Number.NaN;
      this.lastIds = undefined;
    }
    for (const [bucket, ids] of this.buckets) {
      if (!this.isExpired(bucket, watermark)) continue;
      const { highs, lows, length } = ids.packed;
      this.forget(highs, lows, length, ids.strings);
      removed += length + ids.strings.length;
      this.dropBucket(bucket);
    }
    if (this.spill !== undefined) removed += this.expireCold(this.spill, watermark);
    return removed;
  }

  /**
   * Drops cold buckets past the horizon, and moves to disk the hot buckets
   * past the memory horizon whose ids a checkpoint delta holds already (all
   * of them when the job takes no checkpoints): a delta is captured from the
   * in-memory lists, so a bucket must not leave before its ids are captured.
   */
  private expireCold(spill: DedupeSpill, watermark: number): number {
    // (b + 1) * bucketMs - 1 + horizon <= watermark  <=>  b < floor((watermark + 1 - horizon) / bucketMs)
    const spillUpTo = Math.floor((watermark + 1 - spill.memoryHorizonMs) / this.bucketMs);
    const dropUpTo = Math.floor((watermark + 1 - this.horizonMs) / this.bucketMs);
    if (spillUpTo === this.spillCheckedUpTo && dropUpTo === this.dropCheckedUpTo) return 0;
    this.spillCheckedUpTo = spillUpTo;
    this.dropCheckedUpTo = dropUpTo;
    let removed = 0;
    for (const bucket of spill.store.spilledBuckets()) {
      if (this.isExpired(bucket, watermark)) removed += spill.store.drop(bucket);
    }
    for (const [bucket, ids] of this.buckets) {
      if ((bucket + 1) * this.bucketMs - 1 + spill.memoryHorizonMs > watermark) continue;
      const captured = this.captured.get(bucket);
      const { highs, lows, length } = ids.packed;
      if (
        !spill.spillUncaptured &&
        (captured === undefined || captured.packed !== length || captured.strings !== ids.strings.length)
      )
        continue;
      // The ids stay in the in-memory sets (so lookups find them) until the store has written them.
      // New ids of this bucket start a fresh list meanwhile.
      this.dropBucket(bucket);
      const strings = ids.strings;
      this.moving++;
      spill.store.move(bucket, highs, lows, length, strings).then(
        () => {
          this.moving--;
          this.forget(highs, lows, length, strings);
        },
        // The store keeps the failure and throws it at the next lookup; the ids stay here.
        () => this.moving--,
      );
    }
    return removed;
  }

  /** Removes a bucket's ids from the in-memory sets. */
  private forget(highs: Float64Array, lows: Uint32Array, length: number, strings: readonly string[]): void {
    for (let i = 0; i < length; i++) this.seenPacked.delete(highs[i], lows[i]);
    for (const id of strings) this.seenStrings.delete(id);
  }

  private allExpired(watermark: number): boolean {
    for (const bucket of this.buckets.keys()) if (!this.isExpired(bucket, watermark)) return false;
    return true;
  }

  private isExpired(bucket: number, watermark: number): boolean {
    return (bucket + 1) * this.bucketMs - 1 + this.horizonMs <= watermark;
  }

  /** Ids remembered, in memory and on disk (ids being moved count twice until the move ends). */
  get size(): number {
    return this.seenPacked.size + this.seenStrings.size + (this.spill?.store.size ?? 0);
  }

  /** Ids remembered in memory. */
  get inMemory(): number {
    return this.seenPacked.size + this.seenStrings.size;
  }

  /**
   * The ids per key group (keyGroupOf(id, maxParallelism)), each group's
   * ids by time bucket (format below); key groups without ids are absent.
   * Does not change the state. (The job checkpoints deltas instead; this
   * full form is for tests and tools.)
   */
  snapshot(maxParallelism: number): Map<number, Buffer> {
    checkMaxParallelism(maxParallelism);
    if ((this.spill?.store.size ?? 0) > 0)
      throw new Error(
        'DedupeState.snapshot: ids are spilled to disk; the job checkpoints deltas (takeDelta)',
      );
    const groups = new Map<number, Map<number, string[]>>();
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const id of bucketStrings(this.buckets.get(bucket) as BucketIds)) {
        const kg = keyGroupOf(id, maxParallelism);
        let g = groups.get(kg);
        if (g === undefined) groups.set(kg, (g = new Map()));
        const ids = g.get(bucket);
        if (ids === undefined) g.set(bucket, [id]);
        else ids.push(id);
      }
    }
    const out = new Map<number, Buffer>();
    for (const kg of [...groups.keys()].sort((a, b) => a - b)) {
      out.set(kg, encodeKeyGroup(kg, maxParallelism, this.bucketMs, groups.get(kg) as Map<number, string[]>));
    }
    return out;
  }

  /**
   * The ids added since the previous delta (or restore), captured in O(buckets)
   * without copying: the returned slices stay valid while processing goes on,
   * because bucket lists only grow (growing replaces their arrays without
   * changing the old ones), and an expired bucket is dropped, not changed.
   */
  takeDelta(): DedupeDelta {
    const slices: DedupeDelta['slices'] = [];
    let ids = 0;
    let lastBucket = Number.NEGATIVE_INFINITY;
    for (const [bucket, list] of this.buckets) {
      const from = this.captured.get(bucket) ?? { packed: 0, strings: 0 };
      const to = { packed: list.packed.length, strings: list.strings.length };
      if (to.packed === from.packed && to.strings === from.strings) continue;
      slices.push({
        bucket,
        highs: list.packed.highs.subarray(from.packed, to.packed),
        lows: list.packed.lows.subarray(from.packed, to.packed),
        strings: list.strings.slice(from.strings, to.strings),
      });
      this.captured.set(bucket, to);
      this.spillCheckedUpTo = Number.NaN;
      ids += to.packed - from.packed + to.strings - from.strings;
      if (bucket > lastBucket) lastBucket = bucket;
    }
    return {
      bucketMs: this.bucketMs,
      slices,
      ids,
      // DedupeState.expire drops a bucket once its end plus the horizon is behind the watermark.
      expiresAt: (lastBucket + 1) * this.bucketMs - 1 + this.horizonMs,
    };
  }

  /**
   * Fills an empty state from any set of key-group blobs (all validated
   * first: a corrupt blob throws StateBackendError('corrupt-blob'), a key
   * group given twice or mixed maxParallelism FloeError('CHECKPOINT_INVALID')).
   * Ids keep their time buckets; blobs written with another bucket size are
   * re-bucketed into the bucket holding their old bucket's end, so no id
   * expires earlier than it would have.
   */
  restore(blobs: Iterable<Uint8Array>): void {
    if (this.size > 0 || this.buckets.size > 0)
      throw new Error('DedupeState.restore: the state must be empty');
    const decoded: DecodedDedupeKeyGroup[] = [];
    const keyGroups = new Set<number>();
    for (const blob of blobs) {
      const d = decodeKeyGroup(blob);
      if (decoded.length > 0 && d.maxParallelism !== decoded[0].maxParallelism) {
        throw new FloeError(
          'CHECKPOINT_INVALID',
          `dedupe state: blobs of maxParallelism ${decoded[0].maxParallelism} and ${d.maxParallelism} cannot be merged`,
        );
      }
      if (keyGroups.has(d.keyGroup))
        throw new FloeError('CHECKPOINT_INVALID', `dedupe state: key group ${d.keyGroup} given twice`);
      keyGroups.add(d.keyGroup);
      decoded.push(d);
    }
    this.load(decoded);
  }

  /**
   * Fills an empty state from delta containers (encodeDelta), in any order,
   * keeping the ids whose key group `owns` accepts (after rescaling a
   * container may hold key groups another worker now owns). A delta is kept
   * while any of its ids is live, so it may hold ids that expired at
   * `watermark`: they are skipped. Every container is validated before
   * anything changes; a corrupt one throws StateBackendError('corrupt-blob'),
   * one of another maxParallelism FloeError('CHECKPOINT_INVALID'). Restored
   * ids count as captured: the next delta holds only ids added afterwards.
   */
  restoreDeltas(
    containers: Iterable<Uint8Array>,
    owns: (keyGroup: number) => boolean,
    watermark: number,
    maxParallelism: number,
  ): void {
    if (this.size > 0 || this.buckets.size > 0)
      throw new Error('DedupeState.restoreDeltas: the state must be empty');
    const decoded = [...containers].map(decodeDelta);
    for (const d of decoded) {
      if (d.maxParallelism !== maxParallelism) {
        throw new FloeError(
          'CHECKPOINT_INVALID',
          `dedupe state: a delta of maxParallelism ${d.maxParallelism} cannot be restored under ${maxParallelism}`,
        );
      }
    }
    for (const d of decoded) {
      let ownsAll = true;
      for (let kg = d.keyGroups.start; kg <= d.keyGroups.end && ownsAll; kg++) ownsAll = owns(kg);
      // Only after rescaling does a container hold key groups this worker does not own: hash then.
      const keep = (id: string): boolean => ownsAll || owns(keyGroupOf(id, maxParallelism));
      for (const slice of d.slices) {
        const bucket = Math.floor(((slice.bucket + 1) * d.bucketMs - 1) / this.bucketMs);
        if (this.isExpired(bucket, watermark)) continue;
        const ids = this.bucket(bucket);
        const { highs, lows } = slice;
        for (let i = 0; i < lows.length; i++) {
          const high = highs[i];
          const low = lows[i];
          if (this.seenPacked.has(high, low) || (!ownsAll && !keep(unpackId(high, low)))) continue;
          this.seenPacked.add(high, low);
          ids.packed.push(high, low);
        }
        for (const id of slice.strings) {
          if (packId(id)) throw corruptDelta(`string id ${JSON.stringify(id)} should have been packed`);
          if (!this.seenStrings.has(id) && keep(id)) this.addTo(ids, id, false);
        }
        if (ids.packed.length === 0 && ids.strings.length === 0) this.dropBucket(bucket);
      }
    }
    this.captureAll();
    this.wm = watermark;
  }

  private captureAll(): void {
    this.spillCheckedUpTo = Number.NaN;
    for (const [bucket, ids] of this.buckets)
      this.captured.set(bucket, { packed: ids.packed.length, strings: ids.strings.length });
  }

  private load(decoded: DecodedDedupeKeyGroup[]): void {
    for (const d of decoded) {
      for (const [oldBucket, list] of d.buckets) {
        const bucket = Math.floor(((oldBucket + 1) * d.bucketMs - 1) / this.bucketMs);
        const ids = this.bucket(bucket);
        for (const id of list) {
          const isPacked = packId(id);
          if (isPacked ? this.seenPacked.has(packed.high, packed.low) : this.seenStrings.has(id)) continue;
          this.addTo(ids, id, isPacked);
        }
      }
    }
    this.captureAll();
  }
}

function corruptDelta(message: string): StateBackendError {
  return new StateBackendError('corrupt-blob', `dedupe delta state blob rejected: ${message}`);
}

/** The ids a DedupeState gained since its previous delta, per bucket: views of its id lists. */
export interface DedupeDelta {
  bucketMs: number;
  slices: { bucket: number; highs: Float64Array; lows: Uint32Array; strings: readonly string[] }[];
  /** Total new ids. */
  ids: number;
  /**
   * Event time (ms) at which every id in the delta has expired: once the
   * dedupe watermark reaches it, no restore needs the delta any more.
   */
  expiresAt: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed array's elements as little-endian bytes (a copy only on big-endian machines). */
function littleEndianBytes(a: Float64Array | Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.allocUnsafe(a.byteLength);
  if (a instanceof Float64Array) a.forEach((v, i) => out.writeDoubleLE(v, i * 8));
  else a.forEach((v, i) => out.writeUInt32LE(v, i * 4));
  return out;
}

function readFloat64LE(bytes: Buffer, n: number): Float64Array {
  const out = new Float64Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(i * 8);
  return out;
}

function readUint32LE(bytes: Buffer, n: number): Uint32Array {
  const out = new Uint32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < n; i++) out[i] = bytes.readUInt32LE(i * 4);
  return out;
}

/**
 * Encodes a delta as one container for the writer's key groups (format
 * below): packed ids are copied as raw typed-array bytes, 12 per id, so a
 * million new ids take a few milliseconds. Undefined for an empty delta.
 */
export function encodeDelta(
  delta: DedupeDelta,
  keyGroups: KeyGroupRange,
  maxParallelism: number,
): Buffer | undefined {
  checkMaxParallelism(maxParallelism);
  if (delta.ids === 0) return undefined;
  const w = new BlobWriter(DELTA_MAGIC, DELTA_VERSION, 64 + delta.ids * 13);
  w.varint(maxParallelism);
  w.varint(keyGroups.start);
  w.varint(keyGroups.end);
  w.varint(delta.bucketMs);
  const slices = [...delta.slices].sort((a, b) => a.bucket - b.bucket);
  w.varint(slices.length);
  for (const { bucket, highs, lows, strings } of slices) {
    w.zigzag(bucket);
    w.varint(lows.length);
    w.varint(strings.length);
    w.raw(littleEndianBytes(highs));
    w.raw(littleEndianBytes(lows));
    for (const id of strings) w.string(id);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------
// Delta container, version 1 (state-codec.ts: magic, version, CRC32 and primitives):
//
//   "FLDX" | 1 | body | CRC32
//   body:
//     varint maxParallelism, varint first key group, varint last key group (the writer's range),
//     varint bucketMs >= 1, varint B = buckets; B times, by ascending bucket:
//       zigzag bucket, varint P = packed ids, varint S = string ids, P + S >= 1
//       P f64 little-endian: high parts; P u32 little-endian: low parts (tweet-id-table.ts)
//       S strings: ids that do not pack
//
// Ids are not grouped by key group: a restore that owns the writer's whole
// range takes them all, and hashes them only after rescaling.

const DELTA_MAGIC = 'FLDX';
const DELTA_VERSION = 1;

interface DecodedDelta {
  maxParallelism: number;
  keyGroups: KeyGroupRange;
  bucketMs: number;
  slices: { bucket: number; highs: Float64Array; lows: Uint32Array; strings: string[] }[];
}

function decodeDelta(blob: Uint8Array): DecodedDelta {
  const r = new BlobReader('dedupe delta', DELTA_MAGIC, DELTA_VERSION, blob);
  const maxParallelism = r.maxParallelism();
  const start = r.varint('first key group');
  const end = r.varint('last key group');
  if (start > end || end >= maxParallelism)
    throw r.corrupt(`key groups ${start}-${end} out of range for maxParallelism ${maxParallelism}`);
  const bucketMs = r.varint('bucket size');
  if (bucketMs < 1) throw r.corrupt('bucket size 0');
  // Each bucket takes at least 1 (bucket) + 2 (counts) + 1 (an id) bytes.
  const bucketCount = r.count('bucket count', 4);
  const slices: DecodedDelta['slices'] = [];
  for (let i = 0; i < bucketCount; i++) {
    const bucket = r.zigzag('bucket');
    if (i > 0 && bucket <= slices[i - 1].bucket)
      throw r.corrupt(`buckets not ascending (${bucket} after ${slices[i - 1].bucket})`);
    const p = r.count(`packed id count of bucket ${bucket}`, 12);
    const n = r.count(`string id count of bucket ${bucket}`, 1);
    if (p + n === 0) throw r.corrupt(`bucket ${bucket} has no ids`);
    const highs = readFloat64LE(r.raw(`high parts of bucket ${bucket}`, p * 8), p);
    const lows = readUint32LE(r.raw(`low parts of bucket ${bucket}`, p * 4), p);
    for (let j = 0; j < p; j++) {
      if (!(Number.isSafeInteger(highs[j]) && highs[j] >= 0 && highs[j] < 1e11 && lows[j] < 1e9))
        throw r.corrupt(`packed id ${j} of bucket ${bucket} is out of range`);
    }
    const strings = new Array<string>(n);
    for (let j = 0; j < n; j++) strings[j] = r.string(`id ${j} of bucket ${bucket}`);
    slices.push({ bucket, highs, lows, strings });
  }
  r.done();
  return { maxParallelism, keyGroups: { start, end }, bucketMs, slices };
}

// ---------------------------------------------------------------------------
// Key group blob, version 1 (state-codec.ts: magic, version, CRC32 and primitives):
//
//   "FLDD" | 1 | body | CRC32
//   body:
//     varint maxParallelism, varint key group, varint bucketMs >= 1
//     varint B = buckets; B times, by ascending bucket:
//       zigzag bucket (floor(timestamp / bucketMs)), varint N >= 1 = ids, N strings
//
// Every id must hash to the blob's key group and appear once.

const MAGIC = 'FLDD';
const VERSION = 1;

function encodeKeyGroup(
  kg: number,
  maxParallelism: number,
  bucketMs: number,
  g: Map<number, readonly string[]>,
): Buffer {
  const w = new BlobWriter(MAGIC, VERSION);
  w.varint(maxParallelism);
  w.varint(kg);
  w.varint(bucketMs);
  w.varint(g.size);
  for (const [bucket, ids] of g) {
    w.zigzag(bucket);
    w.varint(ids.length);
    for (const id of ids) w.string(id);
  }
  return w.finish();
}

interface DecodedDedupeKeyGroup {
  keyGroup: number;
  maxParallelism: number;
  bucketMs: number;
  buckets: [number, string[]][];
}

function decodeKeyGroup(blob: Uint8Array): DecodedDedupeKeyGroup {
  const r = new BlobReader('dedupe', MAGIC, VERSION, blob);
  const { maxParallelism, keyGroup } = r.keyGroupHeader();
  const bucketMs = r.varint('bucket size');
  if (bucketMs < 1) throw r.corrupt('bucket size 0');
  const buckets: [number, string[]][] = [];
  const seen = new Set<string>();
  // Each bucket takes at least 1 (bucket) + 1 (count) + 1 (id) bytes.
  const bucketCount = r.count('bucket count', 3);
  for (let i = 0; i < bucketCount; i++) {
    const bucket = r.zigzag('bucket');
    if (i > 0 && bucket <= buckets[i - 1][0])
      throw r.corrupt(`buckets not ascending (${bucket} after ${buckets[i - 1][0]})`);
    const n = r.count(`id count of bucket ${bucket}`, 1);
    if (n === 0) throw r.corrupt(`bucket ${bucket} has no ids`);
    const ids: string[] = new Array<string>(n);
    for (let j = 0; j < n; j++) {
      const id = r.string(`id ${j} of bucket ${bucket}`);
      if (seen.has(id)) throw r.corrupt(`id ${JSON.stringify(id)} listed twice`);
      seen.add(id);
      const kg = keyGroupOf(id, maxParallelism);
      if (kg !== keyGroup) throw r.corrupt(`id ${JSON.stringify(id)} is in key group ${kg}, not ${keyGroup}`);
      ids[j] = id;
    }
    buckets.push([bucket, ids]);
  }
  r.done();
  return { keyGroup, maxParallelism, bucketMs, buckets };
}
