import { FloeError } from '../../runtime/errors';
import { keyGroupOf, type KeyGroupRange } from '../../runtime/key-groups';
import { BlobReader, BlobWriter, checkMaxParallelism } from './state-codec';

/**
 * Exact de-duplication of tweet ids over an event-time horizon: an id seen
 * once never counts again while the watermark is within `horizonMs` of the
 * tweet's time. Ids are kept in time buckets so expiry drops whole buckets
 * instead of scanning every id.
 */
export class DedupeState {
  private readonly seen = new Map<string, number>();
  /** Append-only until the whole bucket expires, which lets a delta capture slices of them without copying. */
  private readonly buckets = new Map<number, string[]>();
  /** Per bucket: how many of its ids earlier deltas (or a restore) already hold. */
  private readonly captured = new Map<number, number>();

  constructor(
    private readonly horizonMs: number,
    private readonly bucketMs = 60_000,
  ) {}

  /** The watermark of the last expire(). */
  private wm = Number.NEGATIVE_INFINITY;

  /**
   * Records the id; returns true when it was already seen (a duplicate). An
   * id already beyond the horizon when it arrives is not recorded: it would
   * be forgotten at the next expire() anyway, and not holding it keeps the
   * state exactly what a restore rebuilds from checkpoint deltas.
   */
  checkAndAdd(id: string, timestampMs: number): boolean {
    if (this.seen.has(id)) return true;
    const bucket = Math.floor(timestampMs / this.bucketMs);
    if (this.isExpired(bucket, this.wm)) return false;
    this.seen.set(id, bucket);
    const ids = this.buckets.get(bucket);
    if (ids === undefined) this.buckets.set(bucket, [id]);
    else ids.push(id);
    return false;
  }

  /** Forgets ids whose whole bucket lies more than the horizon behind the watermark. */
  expire(watermark: number): number {
    if (watermark > this.wm) this.wm = watermark;
    let removed = 0;
    for (const [bucket, ids] of this.buckets) {
      if (!this.isExpired(bucket, watermark)) continue;
      for (const id of ids) this.seen.delete(id);
      removed += ids.length;
      this.buckets.delete(bucket);
      this.captured.delete(bucket);
    }
    return removed;
  }

  private isExpired(bucket: number, watermark: number): boolean {
    return (bucket + 1) * this.bucketMs - 1 + this.horizonMs <= watermark;
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * The ids per key group (keyGroupOf(id, maxParallelism)), each group's
   * ids by time bucket (format below); key groups without ids are absent.
   * Does not change the state.
   */
  snapshot(maxParallelism: number): Map<number, Buffer> {
    checkMaxParallelism(maxParallelism);
    const groups = new Map<number, Map<number, string[]>>();
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const id of this.buckets.get(bucket) as string[]) {
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
   * because bucket arrays only grow, and an expired bucket's array is dropped
   * by the state but not changed. Encode it with encodeDelta, off the hot path.
   */
  takeDelta(): DedupeDelta {
    const slices: DedupeDelta['slices'] = [];
    let ids = 0;
    let lastBucket = Number.NEGATIVE_INFINITY;
    for (const [bucket, list] of this.buckets) {
      const from = this.captured.get(bucket) ?? 0;
      if (list.length === from) continue;
      slices.push({ bucket, ids: list, from, to: list.length });
      this.captured.set(bucket, list.length);
      ids += list.length - from;
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
    if (this.seen.size > 0 || this.buckets.size > 0)
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
    if (this.seen.size > 0 || this.buckets.size > 0)
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
      for (const [oldBucket, ids] of d.buckets) {
        const bucket = Math.floor(((oldBucket + 1) * d.bucketMs - 1) / this.bucketMs);
        if (this.isExpired(bucket, watermark)) continue;
        let list = this.buckets.get(bucket);
        if (list === undefined) this.buckets.set(bucket, (list = []));
        for (const id of ids) {
          if (this.seen.has(id) || (!ownsAll && !owns(keyGroupOf(id, maxParallelism)))) continue;
          this.seen.set(id, bucket);
          list.push(id);
        }
        if (list.length === 0) this.buckets.delete(bucket);
      }
    }
    for (const [bucket, list] of this.buckets) this.captured.set(bucket, list.length);
    this.wm = watermark;
  }

  private load(decoded: DecodedDedupeKeyGroup[]): void {
    for (const d of decoded) {
      for (const [oldBucket, ids] of d.buckets) {
        const bucket = Math.floor(((oldBucket + 1) * d.bucketMs - 1) / this.bucketMs);
        let list = this.buckets.get(bucket);
        if (list === undefined) this.buckets.set(bucket, (list = []));
        for (const id of ids) {
          if (this.seen.has(id)) continue;
          this.seen.set(id, bucket);
          list.push(id);
        }
      }
    }
    for (const [bucket, list] of this.buckets) this.captured.set(bucket, list.length);
  }
}

/** The ids a DedupeState gained since its previous delta: slices of its bucket arrays. */
export interface DedupeDelta {
  bucketMs: number;
  /** ids[from .. to) of each bucket are new. */
  slices: { bucket: number; ids: readonly string[]; from: number; to: number }[];
  /** Total new ids. */
  ids: number;
  /**
   * Event time (ms) at which every id in the delta has expired: once the
   * dedupe watermark reaches it, no restore needs the delta any more.
   */
  expiresAt: number;
}

/**
 * Encodes a delta as one container for the writer's key groups (format
 * below). Ids go in as one joined string per bucket, which the engine
 * encodes natively: about 20 ms per million ids, so a checkpoint writes the
 * new ids without slicing the work. Undefined for an empty delta.
 */
export function encodeDelta(
  delta: DedupeDelta,
  keyGroups: KeyGroupRange,
  maxParallelism: number,
): Buffer | undefined {
  checkMaxParallelism(maxParallelism);
  if (delta.ids === 0) return undefined;
  const w = new BlobWriter(DELTA_MAGIC, DELTA_VERSION, 64 + delta.ids * 20);
  w.varint(maxParallelism);
  w.varint(keyGroups.start);
  w.varint(keyGroups.end);
  w.varint(delta.bucketMs);
  const slices = delta.slices.filter((s) => s.to > s.from).sort((a, b) => a.bucket - b.bucket);
  w.varint(slices.length);
  for (const { bucket, ids, from, to } of slices) {
    w.zigzag(bucket);
    w.varint(to - from);
    const joined = ids.slice(from, to).join('\n');
    if (countNewlines(joined) === to - from - 1 && !LONE_SURROGATE.test(joined)) {
      w.u8(JOINED);
      w.utf8(joined);
    } else {
      // An id with a newline or an unpaired surrogate (never a tweet id): one string each.
      w.u8(STRINGS);
      for (let i = from; i < to; i++) w.string(ids[i]);
    }
  }
  return w.finish();
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function countNewlines(s: string): number {
  let n = 0;
  for (let at = s.indexOf('\n'); at !== -1; at = s.indexOf('\n', at + 1)) n++;
  return n;
}

// ---------------------------------------------------------------------------
// Delta container, version 1 (state-codec.ts: magic, version, CRC32 and primitives):
//
//   "FLDX" | 1 | body | CRC32
//   body:
//     varint maxParallelism, varint first key group, varint last key group (the writer's range),
//     varint bucketMs >= 1, varint B = buckets; B times, by ascending bucket:
//       zigzag bucket, varint N >= 1 = ids, u8 form, then
//         form 0: varint byte length, UTF-8 of the N ids joined by "\n"
//         form 1: N strings
//
// Ids are not grouped by key group: a restore that owns the writer's whole
// range takes them all, and hashes them only after rescaling.

const DELTA_MAGIC = 'FLDX';
const DELTA_VERSION = 1;
const JOINED = 0;
const STRINGS = 1;

interface DecodedDelta {
  maxParallelism: number;
  keyGroups: KeyGroupRange;
  bucketMs: number;
  buckets: [number, string[]][];
}

function decodeDelta(blob: Uint8Array): DecodedDelta {
  const r = new BlobReader('dedupe delta', DELTA_MAGIC, DELTA_VERSION, blob);
  const maxParallelism = r.varint('maxParallelism');
  try {
    checkMaxParallelism(maxParallelism);
  } catch (e) {
    throw r.corrupt((e as Error).message);
  }
  const start = r.varint('first key group');
  const end = r.varint('last key group');
  if (start > end || end >= maxParallelism)
    throw r.corrupt(`key groups ${start}-${end} out of range for maxParallelism ${maxParallelism}`);
  const bucketMs = r.varint('bucket size');
  if (bucketMs < 1) throw r.corrupt('bucket size 0');
  // Each bucket takes at least 1 (bucket) + 1 (count) + 1 (form) + 1 (an id) bytes.
  const bucketCount = r.count('bucket count', 4);
  const buckets: [number, string[]][] = [];
  for (let i = 0; i < bucketCount; i++) {
    const bucket = r.zigzag('bucket');
    if (i > 0 && bucket <= buckets[i - 1][0])
      throw r.corrupt(`buckets not ascending (${bucket} after ${buckets[i - 1][0]})`);
    const n = r.count(`id count of bucket ${bucket}`, 1);
    if (n === 0) throw r.corrupt(`bucket ${bucket} has no ids`);
    const form = r.u8(`form of bucket ${bucket}`);
    let ids: string[];
    if (form === JOINED) {
      ids = r.utf8(`ids of bucket ${bucket}`).split('\n');
      if (ids.length !== n) throw r.corrupt(`bucket ${bucket} holds ${ids.length} ids, not ${n}`);
    } else if (form === STRINGS) {
      ids = new Array<string>(n);
      for (let j = 0; j < n; j++) ids[j] = r.string(`id ${j} of bucket ${bucket}`);
    } else throw r.corrupt(`bucket ${bucket} has unknown form ${form}`);
    buckets.push([bucket, ids]);
  }
  r.done();
  return { maxParallelism, keyGroups: { start, end }, bucketMs, buckets };
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
