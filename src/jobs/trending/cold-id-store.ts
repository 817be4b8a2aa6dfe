/**
 * Where the de-duplication stage keeps ids too old to be worth memory: a
 * LevelDB database per worker thread (the keyed state backend, every key
 * prefixed by its key group), with a 4-byte fingerprint per id in memory so
 * that a lookup touches the disk only when the fingerprint matches.
 *
 * Why fingerprints and not a Bloom filter: ids leave by time bucket when they
 * pass the horizon, and a Bloom filter cannot forget. An exact multiset of
 * 32-bit fingerprints can; it costs ~12 bytes per id (8 in the table at most
 * half full, 4 in the per-bucket list that says what to forget) against 36
 * for an id kept in memory, and a fresh id matches a stored fingerprint with
 * probability (cold ids) / 2^32, e.g. 2.3% at 100M cold ids; only then does
 * the lookup read LevelDB (getSync: a blocking point read, fine on a worker
 * thread and far faster than an awaited get).
 *
 * Local and disposable, like Flink's RocksDB working directory: checkpoints
 * never read it (the ids are in the checkpoint's de-duplication deltas
 * already), a restore rebuilds it, and it is opened fresh.
 */
import { keyGroupOf } from '../../runtime/key-groups';
import { murmur3 } from '../../runtime/hash';
import type { LevelDbKeyedStateBackend } from '../../state/leveldb-keyed-state-backend';
import { hashOf, unpackId } from './tweet-id-table';

const STATE = 'dedupe';
const KIND_PACKED = 0;
const KIND_STRING = 1;
/** bucket (8) | kind (1) | high (8) | low (4). */
const PACKED_KEY_BYTES = 21;
const EMPTY = 0;
const MIN_CAPACITY = 1024;
const STRING_SEED = 0x2f1d3c4b;

function fingerprintOfPacked(high: number, low: number): number {
  return hashOf(high, low) >>> 0 || 1;
}

function fingerprintOfString(id: string): number {
  return murmur3(id, STRING_SEED) >>> 0 || 1;
}

/**
 * Fingerprints of the cold ids with the time bucket of each: open addressing
 * with linear probing, at most 70% full. Two ids may share a fingerprint, so
 * a fingerprint may be there several times, with the same or other buckets;
 * a lookup returns every bucket to read. ~8 bytes a slot, ~11-23 bytes per id.
 */
export class FingerprintTable {
  private fps = new Uint32Array(MIN_CAPACITY);
  private bucketOf = new Int32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.fps.byteLength + this.bucketOf.byteLength;
  }

  /** Appends the buckets of every entry with this fingerprint to `out` (usually none). */
  bucketsOf(fp: number, out: number[]): void {
    for (let i = home(fp, this.mask); ; i = (i + 1) & this.mask) {
      const s = this.fps[i];
      if (s === EMPTY) return;
      if (s === fp) out.push(this.bucketOf[i]);
    }
  }

  add(fp: number, bucket: number): void {
    if ((this.count + 1) * 10 > this.fps.length * 7) this.rebuild(this.fps.length * 2);
    this.place(fp, bucket);
    this.count++;
  }

  /**
   * Removes every entry of `bucket`, in one pass over the table (a bucket
   * expires once per bucket length of event time); returns how many.
   */
  dropBucket(bucket: number): number {
    const before = this.count;
    let capacity = this.fps.length;
    let kept = 0;
    for (let i = 0; i < this.fps.length; i++)
      if (this.fps[i] !== EMPTY && this.bucketOf[i] !== bucket) kept++;
    // Shrink when under a quarter full, so a long run's memory follows its live ids.
    while (capacity > MIN_CAPACITY && kept * 4 < capacity) capacity /= 2;
    this.rebuild(capacity, bucket);
    return before - this.count;
  }

  private rebuild(capacity: number, without?: number): void {
    const oldFps = this.fps;
    const oldBuckets = this.bucketOf;
    this.fps = new Uint32Array(capacity);
    this.bucketOf = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let i = 0; i < oldFps.length; i++) {
      if (oldFps[i] === EMPTY || oldBuckets[i] === without) continue;
      this.place(oldFps[i], oldBuckets[i]);
      this.count++;
    }
  }

  private place(fp: number, bucket: number): void {
    let i = home(fp, this.mask);
    while (this.fps[i] !== EMPTY) i = (i + 1) & this.mask;
    this.fps[i] = fp;
    this.bucketOf[i] = bucket;
  }
}

/** Fingerprints are hashes already: their low bits pick the slot. */
function home(fp: number, mask: number): number {
  return fp & mask;
}

/** What one cold bucket holds: how many ids, and the key groups it wrote (to delete them). */
interface ColdBucket {
  ids: number;
  keyGroups: Set<number>;
}

export interface ColdIdStoreStats {
  /** Ids on disk. */
  ids: number;
  /** Ids moved to disk since open (some may have expired since). */
  spilled: number;
  buckets: number;
  /** In-memory bytes of the fingerprint table. */
  memoryBytes: number;
  /** Lookups whose fingerprint matched (each read LevelDB), and how many found the id. */
  diskReads: number;
  diskHits: number;
}

export class ColdIdStore {
  private readonly table = new FingerprintTable();
  private readonly buckets = new Map<number, ColdBucket>();
  private readonly scratch: number[] = [];
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined;
  private ids = 0;
  private spilled = 0;
  private diskReads = 0;
  private diskHits = 0;

  /** Set once the database is open; there are ids to read only after a move, so after that. */
  private backend: LevelDbKeyedStateBackend | undefined;
  private opening: Promise<LevelDbKeyedStateBackend> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly maxParallelism: number,
  ) {}

  /**
   * A fresh store in `dir` (whatever it held is deleted) whose database opens
   * when the first ids move to it: most runs never move any, and loading and
   * opening LevelDB cost ~45 ms of every worker's start-up.
   */
  static create(dir: string, maxParallelism: number): ColdIdStore {
    return new ColdIdStore(dir, maxParallelism);
  }

  /** A fresh store in `dir`, its database opened now. */
  static async open(dir: string, maxParallelism: number): Promise<ColdIdStore> {
    const store = new ColdIdStore(dir, maxParallelism);
    await store.ready();
    return store;
  }

  /** The database, opened on first use; later calls get it in the order they asked. */
  private ready(): Promise<LevelDbKeyedStateBackend> {
    if (this.opening === undefined) {
      const { LevelDbKeyedStateBackend } =
        require('../../state/leveldb-keyed-state-backend') as typeof import('../../state/leveldb-keyed-state-backend');
      this.opening = LevelDbKeyedStateBackend.open(this.dir, { fresh: true }).then((b) => (this.backend = b));
    }
    return this.opening;
  }

  /** Ids on disk. */
  get size(): number {
    return this.ids;
  }

  stats(): ColdIdStoreStats {
    return {
      ids: this.ids,
      spilled: this.spilled,
      buckets: this.buckets.size,
      memoryBytes: this.table.bytes,
      diskReads: this.diskReads,
      diskHits: this.diskHits,
    };
  }

  /**
   * Moves ids of time bucket `bucket` to disk: one batch, written in the
   * background. Until the returned promise resolves lookups here do not see
   * them, so the caller keeps them in memory until then and forgets them
   * after. A bucket may be moved to more than once; an id must not be moved
   * twice. A failed write rejects, and every later call throws.
   */
  move(
    bucket: number,
    highs: Float64Array,
    lows: Uint32Array,
    length: number,
    strings: readonly string[],
  ): Promise<void> {
    this.check();
    let b = this.buckets.get(bucket);
    if (b === undefined) this.buckets.set(bucket, (b = { ids: 0, keyGroups: new Set() }));
    const head = bucketBytes(bucket);
    const keyGroups = new Uint16Array(length);
    const keys = Buffer.allocUnsafe(length * PACKED_KEY_BYTES);
    for (let i = 0; i < length; i++) {
      const kg = keyGroupOf(unpackId(highs[i], lows[i]), this.maxParallelism);
      keyGroups[i] = kg;
      b.keyGroups.add(kg);
      const at = i * PACKED_KEY_BYTES;
      head.copy(keys, at);
      keys[at + 8] = KIND_PACKED;
      keys.writeDoubleBE(highs[i], at + 9);
      keys.writeUInt32BE(lows[i], at + 17);
    }
    const stringKeyGroups = strings.map((id) => keyGroupOf(id, this.maxParallelism));
    for (const kg of stringKeyGroups) b.keyGroups.add(kg);
    const bucketState = b;
    const written = this.ready()
      .then((backend) => {
        // Non-numeric ids are rare: staged one by one (visible to reads at once, which is harmless).
        const empty = Buffer.alloc(0);
        strings.forEach((id, i) => backend.put(stringKeyGroups[i], STATE, stringKey(bucket, id), empty));
        const direct = backend.writeDirect(STATE, keyGroups, keys, PACKED_KEY_BYTES);
        this.startFlush(backend);
        return direct;
      })
      .then(
        () => {
          // Dropped (past the horizon) while being written: the drop's range deletes follow this batch.
          if (this.buckets.get(bucket) !== bucketState) return;
          for (let i = 0; i < length; i++) this.table.add(fingerprintOfPacked(highs[i], lows[i]), bucket);
          for (const id of strings) this.table.add(fingerprintOfString(id), bucket);
          const n = length + strings.length;
          bucketState.ids += n;
          this.ids += n;
          this.spilled += n;
        },
        (err: unknown) => {
          this.failure ??= err instanceof Error ? err : new Error(String(err));
          throw this.failure;
        },
      );
    this.track(written);
    return written;
  }

  /** Keeps `work` among what settled() and close() wait for, until it ends. */
  private track(work: Promise<void>): void {
    this.pending.add(work);
    const forget = (): void => void this.pending.delete(work);
    work.then(forget, forget);
  }

  /** Resolves when every move started so far has finished (rejects if one failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** True when the packed id is on disk. */
  hasPacked(high: number, low: number): boolean {
    const buckets = this.candidates(fingerprintOfPacked(high, low));
    if (buckets.length === 0) return false;
    const kg = keyGroupOf(unpackId(high, low), this.maxParallelism);
    for (const bucket of buckets) if (this.read(kg, packedKey(bucket, high, low))) return true;
    return false;
  }

  /** True when the (non-numeric) string id is on disk. */
  hasString(id: string): boolean {
    const buckets = this.candidates(fingerprintOfString(id));
    if (buckets.length === 0) return false;
    const kg = keyGroupOf(id, this.maxParallelism);
    for (const bucket of buckets) if (this.read(kg, stringKey(bucket, id))) return true;
    return false;
  }

  /** Forgets every id of `bucket` (past the horizon): fingerprints now, keys by range deletes in the next batch. */
  drop(bucket: number): number {
    const b = this.buckets.get(bucket);
    if (b === undefined) return 0;
    this.check();
    this.table.dropBucket(bucket);
    const prefix = bucketBytes(bucket);
    // After the bucket's moves (which asked for the database first), so the range deletes follow their writes.
    const dropped = this.ready().then(
      (backend) => {
        for (const kg of b.keyGroups) backend.deleteRange(kg, STATE, { prefix });
        this.startFlush(backend);
      },
      (err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    this.track(dropped);
    this.buckets.delete(bucket);
    this.ids -= b.ids;
    return b.ids;
  }

  /** Buckets on disk, ascending. */
  spilledBuckets(): number[] {
    return [...this.buckets.keys()].sort((a, b) => a - b);
  }

  /** Waits for the moves under way, writes what is staged and closes the database. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const backend = this.opening === undefined ? undefined : await this.opening.catch(() => undefined);
    await backend?.close();
    if (this.failure !== undefined) throw this.failure;
  }

  private candidates(fp: number): number[] {
    const out = this.scratch;
    out.length = 0;
    if (this.ids === 0) return out;
    this.table.bucketsOf(fp, out);
    if (out.length > 0) this.check();
    return out;
  }

  private read(kg: number, key: Buffer): boolean {
    this.diskReads++;
    const found = (this.backend as LevelDbKeyedStateBackend).getSync(kg, STATE, key) !== undefined;
    if (found) this.diskHits++;
    return found;
  }

  private startFlush(backend: LevelDbKeyedStateBackend): void {
    // One batch per spill or drop; the backend writes them in order, and reads see staged changes meanwhile.
    backend.flush().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** A failed write means later lookups could miss ids: fail rather than count a duplicate. */
  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/** A user key: the bucket (int64 big-endian) first, so a bucket is one prefix to delete. */
function bucketBytes(bucket: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(bucket), 0);
  return b;
}

function packedKey(bucket: number, high: number, low: number): Buffer {
  const k = Buffer.allocUnsafe(PACKED_KEY_BYTES);
  bucketBytes(bucket).copy(k, 0);
  k[8] = KIND_PACKED;
  k.writeDoubleBE(high, 9);
  k.writeUInt32BE(low, 17);
  return k;
}

function stringKey(bucket: number, id: string): Buffer {
  return Buffer.concat([bucketBytes(bucket), Buffer.from([KIND_STRING]), Buffer.from(id, 'utf8')]);
}
