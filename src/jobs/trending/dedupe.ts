import { FloeError } from '../../runtime/errors';
import { keyGroupOf } from '../../runtime/key-groups';
import { BlobReader, BlobWriter, checkMaxParallelism } from './state-codec';

/**
 * Exact de-duplication of tweet ids over an event-time horizon: an id seen
 * once never counts again while the watermark is within `horizonMs` of the
 * tweet's time. Ids are kept in time buckets so expiry drops whole buckets
 * instead of scanning every id.
 */
export class DedupeState {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();

  constructor(
    private readonly horizonMs: number,
    private readonly bucketMs = 60_000,
  ) {}

  /** Records the id; returns true when it was already seen (a duplicate). */
  checkAndAdd(id: string, timestampMs: number): boolean {
    if (this.seen.has(id)) return true;
    const bucket = Math.floor(timestampMs / this.bucketMs);
    this.seen.set(id, bucket);
    const ids = this.buckets.get(bucket);
    if (ids === undefined) this.buckets.set(bucket, [id]);
    else ids.push(id);
    return false;
  }

  /** Forgets ids whose whole bucket lies more than the horizon behind the watermark. */
  expire(watermark: number): number {
    let removed = 0;
    for (const [bucket, ids] of this.buckets) {
      if ((bucket + 1) * this.bucketMs - 1 + this.horizonMs > watermark) continue;
      for (const id of ids) this.seen.delete(id);
      removed += ids.length;
      this.buckets.delete(bucket);
    }
    return removed;
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
      const g = groups.get(kg) as Map<number, string[]>;
      const w = new BlobWriter(MAGIC, VERSION);
      w.varint(maxParallelism);
      w.varint(kg);
      w.varint(this.bucketMs);
      w.varint(g.size);
      for (const [bucket, ids] of g) {
        w.zigzag(bucket);
        w.varint(ids.length);
        for (const id of ids) w.string(id);
      }
      out.set(kg, w.finish());
    }
    return out;
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
    for (const d of decoded) {
      for (const [oldBucket, ids] of d.buckets) {
        const bucket = Math.floor(((oldBucket + 1) * d.bucketMs - 1) / this.bucketMs);
        let list = this.buckets.get(bucket);
        if (list === undefined) this.buckets.set(bucket, (list = []));
        for (const id of ids) {
          this.seen.set(id, bucket);
          list.push(id);
        }
      }
    }
  }
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
