/**
 * The keyed state backend on LevelDB (the `level` package, classic-level
 * underneath); one database per worker thread. See keyed-state-backend.ts
 * for the contract.
 *
 * How it keeps the contract:
 * - Staged changes live in layers. The current layer takes put/delete/range
 *   deletes; flush(), snapshot(), scan() and restoreKeyGroup() seal it and
 *   queue it for writing as one chained batch. Sealed layers stay readable
 *   until their batch is written, so reads never miss a change in flight.
 *   A range delete is a tombstone in its layer (newer than the puts before
 *   it, older than the puts after it); writing the layer turns it into
 *   deletes of the keys the store holds in the range, in the same batch.
 * - All writes go through one FIFO queue, so batches land in call order.
 *   snapshot() queues the creation of an explicit LevelDB snapshot right
 *   behind the batch of everything staged before the call, and scan() does
 *   the same for its own view: both see exactly the changes made before the
 *   call. (classic-level 3 supports explicit snapshots, which pin one
 *   version for any number of iterators; an iterator's implicit snapshot
 *   would do for a single range but not for per-key-group blobs written
 *   later and in parallel.)
 * - Big batches are built in slices with a yield to the event loop between
 *   them, so flushing a million staged keys does not stall the thread.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Level } from 'level';
import type { KeyGroupRange } from '../runtime/key-groups';
import {
  decodeKeyGroupBlob,
  DEFAULT_STATE_IDS,
  KeyedStateBackend,
  KeyedStateSnapshot,
  KeyGroupBlobEncoder,
  MAX_KEY_GROUPS,
  RestoreResult,
  StateBackendError,
  StateBackendStats,
  StateEntry,
  StateKey,
  StateKeyRange,
  StateRef,
} from './keyed-state-backend';

type Db = Level<Buffer, Buffer>;
type DbSnapshot = ReturnType<Db['snapshot']>;

/** classic-level methods missing from level's browser-compatible typings. */
interface ClassicLevelExtras {
  approximateSize(start: Buffer, end: Buffer): Promise<number>;
  compactRange(start: Buffer, end: Buffer): Promise<void>;
}

export interface LevelDbStateBackendOptions {
  /** State names to register besides DEFAULT_STATE_IDS. */
  states?: Readonly<Record<string, number>>;
  /** Delete whatever the directory holds before opening (a restore starts from nothing). */
  fresh?: boolean;
  /** LevelDB options; the defaults are LevelDB's (Snappy on, 8 MiB cache, 4 MiB write buffer). */
  compression?: boolean;
  cacheSize?: number;
  writeBufferSize?: number;
}

const EMPTY_VALUE = new Uint8Array(0);
/** Operations added to a batch between yields to the event loop. */
const SLICE = 16_384;
/** Entries fetched from LevelDB per iterator round trip. */
const READ_AHEAD = 1000;
const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** Above this many key groups, a scan of one state is one filtered pass instead of a pass per group. */
const MAX_SCAN_SPANS = 1024;

interface StagedOp {
  key: Buffer;
  /** null: deleted. */
  value: Buffer | null;
  seq: number;
}

interface Tombstone {
  gte: Buffer;
  /** undefined: to the end of the key space. */
  lt: Buffer | undefined;
  seq: number;
}

class OpsLayer {
  readonly kind = 'ops';
  /** Keyed by the stored key as a latin1 string (one char per byte). */
  readonly ops = new Map<string, StagedOp>();
  /** By key group: every tombstone lies within one key group. */
  readonly tombstones = new Map<number, Tombstone[]>();
  tombstoneCount = 0;

  get size(): number {
    return this.ops.size + this.tombstoneCount;
  }
}

/** A restored key group waiting to be written; authoritative for its key group. */
class RestoreLayer {
  readonly kind = 'restore';
  constructor(
    readonly keyGroup: number,
    /** Ascending. */
    readonly keys: Buffer[],
    readonly values: Buffer[],
  ) {}
}

type Layer = OpsLayer | RestoreLayer;

function checkKeyGroup(keyGroup: number): void {
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= MAX_KEY_GROUPS)
    throw new StateBackendError(
      'invalid-argument',
      `key group ${keyGroup} is not an integer in [0, ${MAX_KEY_GROUPS})`,
    );
}

function keyGroupPrefix(keyGroup: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(keyGroup, 0);
  return b;
}

/** The least key greater than every key starting with prefix; undefined when there is none. */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

function userKeyBytes(key: StateKey): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (key instanceof Uint8Array) return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  throw new StateBackendError('invalid-argument', 'a state key must be a string or a Uint8Array');
}

function asBuffer(value: Uint8Array): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new StateBackendError('invalid-argument', 'a state value must be a Buffer or Uint8Array');
}

function covers(t: Tombstone, key: Buffer): boolean {
  return Buffer.compare(key, t.gte) >= 0 && (t.lt === undefined || Buffer.compare(key, t.lt) < 0);
}

function rangeOptions(gte: Buffer, lt: Buffer | undefined): { gte: Buffer; lt?: Buffer } {
  return lt === undefined ? { gte } : { gte, lt };
}

/** Resolves a key against one layer: a value, null (deleted), or undefined (not decided here). */
function lookupLayer(layer: Layer, key: Buffer, mapKey: string, keyGroup: number): Buffer | null | undefined {
  if (layer.kind === 'restore') {
    if (layer.keyGroup !== keyGroup) return undefined;
    let lo = 0;
    let hi = layer.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(layer.keys[mid], key);
      if (c === 0) return layer.values[mid];
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }
  const op = layer.ops.get(mapKey);
  const tombstones = layer.tombstones.get(keyGroup);
  if (tombstones !== undefined) {
    const seq = op === undefined ? -1 : op.seq;
    for (const t of tombstones) if (t.seq > seq && covers(t, key)) return null;
  }
  return op === undefined ? undefined : op.value;
}

function deletedLater(layer: OpsLayer, op: StagedOp, keyGroup: number): boolean {
  const tombstones = layer.tombstones.get(keyGroup);
  if (tombstones === undefined) return false;
  for (const t of tombstones) if (t.seq > op.seq && covers(t, op.key)) return true;
  return false;
}

interface DirtyRecord {
  snapshotId: number;
  keyGroups: Set<number>;
}

export class LevelDbKeyedStateBackend implements KeyedStateBackend {
  private db: Db | undefined;
  private dir: string | undefined;
  private closing = false;
  private readonly idsByName = new Map<string, number>();
  private readonly namesById = new Map<number, string>();

  private current = new OpsLayer();
  /** Oldest first; sealed[0] is the next to be written. */
  private readonly sealed: Layer[] = [];
  private seq = 0;
  private queueTail: Promise<void> = Promise.resolve();
  private failure: StateBackendError | undefined;
  private batchesWritten = 0;
  private operationsWritten = 0;

  /** Key groups changed since the last snapshot was taken. */
  private dirty = new Set<number>();
  /** Dirty sets of snapshots taken and not completed, oldest first. */
  private uncompleted: DirtyRecord[] = [];
  private lastSnapshotId = 0;
  private completedSnapshotId = 0;
  private readonly liveSnapshots = new Set<LevelDbKeyedStateSnapshot>();

  constructor(private readonly options: LevelDbStateBackendOptions = {}) {
    for (const [name, id] of Object.entries(DEFAULT_STATE_IDS)) this.registerState(name, id);
    for (const [name, id] of Object.entries(options.states ?? {})) this.registerState(name, id);
  }

  /** Creates and opens a backend. */
  static async open(
    dir: string,
    options: LevelDbStateBackendOptions = {},
  ): Promise<LevelDbKeyedStateBackend> {
    const backend = new LevelDbKeyedStateBackend(options);
    await backend.open(dir);
    return backend;
  }

  async open(dir: string): Promise<void> {
    if (this.db !== undefined)
      throw new StateBackendError('invalid-argument', `state backend already open on ${this.dir}`);
    if (this.options.fresh) await rm(dir, { recursive: true, force: true });
    const levelOptions: Record<string, unknown> = { keyEncoding: 'buffer', valueEncoding: 'buffer' };
    for (const k of ['compression', 'cacheSize', 'writeBufferSize'] as const)
      if (this.options[k] !== undefined) levelOptions[k] = this.options[k];
    const db = new Level<Buffer, Buffer>(dir, levelOptions);
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StateBackendError(
          'locked',
          `state directory ${dir} is in use: LevelDB allows one open database per directory ` +
            '(one per worker thread); is another thread or process using it?',
          { cause: err, retriable: true },
        );
      }
      throw new StateBackendError('io', `cannot open state directory ${dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.db = db;
    this.dir = dir;
    this.closing = false;
  }

  async close(): Promise<void> {
    const db = this.db;
    if (db === undefined || this.closing) return;
    this.closing = true;
    let error: unknown;
    try {
      this.seal();
      await this.enqueue(async () => undefined);
    } catch (err) {
      error = err;
    }
    for (const s of [...this.liveSnapshots]) await s.release();
    await db.close();
    this.db = undefined;
    if (error !== undefined) throw error;
  }

  // -------------------------------------------------------------------------
  // States

  registerState(name: string, id?: number): number {
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 255)
      throw new StateBackendError(
        'invalid-argument',
        `state name ${JSON.stringify(name)} must be 1..255 bytes`,
      );
    const existing = this.idsByName.get(name);
    if (existing !== undefined) {
      if (id !== undefined && id !== existing)
        throw new StateBackendError(
          'unknown-state',
          `state '${name}' is registered with id ${existing}, not ${id}`,
        );
      return existing;
    }
    if (id === undefined) {
      id = 1;
      while (this.namesById.has(id)) id++;
    }
    if (!Number.isInteger(id) || id < 1 || id > 255)
      throw new StateBackendError('invalid-argument', `state id ${id} is not an integer in [1, 255]`);
    const other = this.namesById.get(id);
    if (other !== undefined)
      throw new StateBackendError(
        'unknown-state',
        `state id ${id} is taken by '${other}', cannot register '${name}'`,
      );
    this.idsByName.set(name, id);
    this.namesById.set(id, name);
    return id;
  }

  stateId(name: string): number {
    const id = this.idsByName.get(name);
    if (id === undefined) throw new StateBackendError('unknown-state', `state '${name}' is not registered`);
    return id;
  }

  /** The registry, id -> name. */
  states(): ReadonlyMap<number, string> {
    return new Map(this.namesById);
  }

  // -------------------------------------------------------------------------
  // Writes

  put(keyGroup: number, state: string, key: StateKey, value: Uint8Array): void {
    this.stage(keyGroup, state, key, asBuffer(value));
  }

  delete(keyGroup: number, state: string, key: StateKey): void {
    this.stage(keyGroup, state, key, null);
  }

  deleteRange(keyGroup: number, state: string, range?: StateKeyRange): void {
    const prefix = this.statePrefix(keyGroup, state);
    const end = prefixEnd(prefix);
    let gte = prefix;
    let lt = end;
    if (range !== undefined && 'prefix' in range) {
      gte = Buffer.concat([prefix, userKeyBytes(range.prefix)]);
      lt = prefixEnd(gte);
    } else if (range !== undefined) {
      if (range.gte !== undefined) gte = Buffer.concat([prefix, userKeyBytes(range.gte)]);
      if (range.lt !== undefined) lt = Buffer.concat([prefix, userKeyBytes(range.lt)]);
      if (lt !== undefined && Buffer.compare(gte, lt) >= 0) return;
    }
    this.addTombstone(keyGroup, gte, lt);
  }

  clearKeyGroup(keyGroup: number): void {
    checkKeyGroup(keyGroup);
    const prefix = keyGroupPrefix(keyGroup);
    this.addTombstone(keyGroup, prefix, prefixEnd(prefix));
  }

  flush(): Promise<void> {
    this.assertUsable();
    this.seal();
    return this.enqueue(async () => undefined);
  }

  /**
   * Writes `count` entries of one state straight to the store as one batch,
   * after everything staged before the call, without staging them: reads do
   * not see them until the returned promise resolves, so the caller must keep
   * what it writes readable elsewhere until then (a bulk move out of memory).
   * It skips the per-key staging (a key buffer, a map entry each), which costs
   * more than the write itself. Entry i has key group keyGroups[i], user key
   * keys[i * keyBytes, (i + 1) * keyBytes) and `value`. Key groups count as
   * changed for snapshots from the call.
   */
  writeDirect(
    state: string,
    keyGroups: Uint16Array,
    keys: Uint8Array,
    keyBytes: number,
    value: Uint8Array = EMPTY_VALUE,
  ): Promise<void> {
    this.assertUsable();
    const id = this.stateId(state);
    const count = keyGroups.length;
    if (keys.length !== count * keyBytes)
      throw new StateBackendError(
        'invalid-argument',
        `writeDirect: ${keys.length} key bytes for ${count} keys of ${keyBytes} bytes`,
      );
    for (let i = 0; i < count; i++) {
      checkKeyGroup(keyGroups[i]);
      this.dirty.add(keyGroups[i]);
    }
    const width = 3 + keyBytes;
    const slab = Buffer.allocUnsafe(count * width);
    for (let i = 0; i < count; i++) {
      const at = i * width;
      slab.writeUInt16BE(keyGroups[i], at);
      slab[at + 2] = id;
      slab.set(keys.subarray(i * keyBytes, (i + 1) * keyBytes), at + 3);
    }
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.seal();
    return this.enqueue(async () => {
      const batch = this.requireDb().batch();
      for (let i = 0; i < count; i++) {
        batch.put(slab.subarray(i * width, (i + 1) * width), bytes);
        if ((i + 1) % SLICE === 0) await yieldToEventLoop();
      }
      await this.commit(batch, count);
    });
  }

  private stage(keyGroup: number, state: string, key: StateKey, value: Buffer | null): void {
    this.assertUsable();
    const full = this.encodeKey(keyGroup, state, key);
    this.current.ops.set(full.toString('latin1'), { key: full, value, seq: ++this.seq });
    this.dirty.add(keyGroup);
  }

  private addTombstone(keyGroup: number, gte: Buffer, lt: Buffer | undefined): void {
    this.assertUsable();
    const t: Tombstone = { gte, lt, seq: ++this.seq };
    const list = this.current.tombstones.get(keyGroup);
    if (list === undefined) this.current.tombstones.set(keyGroup, [t]);
    else list.push(t);
    this.current.tombstoneCount++;
    this.dirty.add(keyGroup);
  }

  /** Hands the current layer to the write queue (when it holds anything). */
  private seal(): void {
    if (this.current.size === 0) return;
    const layer = this.current;
    this.current = new OpsLayer();
    this.sealed.push(layer);
    void this.enqueue(() => this.writeOpsLayer(layer)).catch(() => undefined);
  }

  /**
   * Runs tasks one at a time in call order. After a failed write the store
   * may not hold what the layers say, so every later task fails too.
   */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queueTail.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        return await task();
      } catch (err) {
        this.failure ??=
          err instanceof StateBackendError
            ? err
            : new StateBackendError('io', `state store failed: ${(err as Error).message}`, { cause: err });
        throw this.failure;
      }
    });
    this.queueTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async writeOpsLayer(layer: OpsLayer): Promise<void> {
    const db = this.requireDb();
    const batch = db.batch();
    let operations = 0;
    try {
      for (const list of layer.tombstones.values()) {
        for (const t of list) operations += await this.deleteStoredRange(batch, t.gte, t.lt);
      }
      for (const op of layer.ops.values()) {
        if (deletedLater(layer, op, op.key.readUInt16BE(0))) continue;
        if (op.value === null) batch.del(op.key);
        else batch.put(op.key, op.value);
        if (++operations % SLICE === 0) await yieldToEventLoop();
      }
      await this.commit(batch, operations);
    } finally {
      if (this.sealed[0] === layer) this.sealed.shift();
    }
  }

  private async writeRestoreLayer(layer: RestoreLayer): Promise<void> {
    const db = this.requireDb();
    const batch = db.batch();
    try {
      const prefix = keyGroupPrefix(layer.keyGroup);
      let operations = await this.deleteStoredRange(batch, prefix, prefixEnd(prefix));
      for (let i = 0; i < layer.keys.length; i++) {
        batch.put(layer.keys[i], layer.values[i]);
        if (++operations % SLICE === 0) await yieldToEventLoop();
      }
      await this.commit(batch, operations);
    } finally {
      if (this.sealed[0] === layer) this.sealed.shift();
    }
  }

  /** Adds deletes of every stored key in [gte, lt) to the batch. */
  private async deleteStoredRange(
    batch: ReturnType<Db['batch']>,
    gte: Buffer,
    lt: Buffer | undefined,
  ): Promise<number> {
    const it = this.requireDb().keys(rangeOptions(gte, lt));
    let n = 0;
    try {
      for (;;) {
        const keys = await it.nextv(READ_AHEAD);
        if (keys.length === 0) return n;
        for (const k of keys) batch.del(k);
        n += keys.length;
      }
    } finally {
      await it.close();
    }
  }

  private async commit(batch: ReturnType<Db['batch']>, operations: number): Promise<void> {
    if (operations === 0) {
      await batch.close();
      return;
    }
    await batch.write();
    this.batchesWritten++;
    this.operationsWritten += operations;
  }

  // -------------------------------------------------------------------------
  // Reads

  async get(keyGroup: number, state: string, key: StateKey): Promise<Buffer | undefined> {
    const full = this.encodeKey(keyGroup, state, key);
    const staged = this.lookupStaged(full, keyGroup);
    if (staged !== undefined) return staged ?? undefined;
    return this.requireDb().get(full);
  }

  getSync(keyGroup: number, state: string, key: StateKey): Buffer | undefined {
    const full = this.encodeKey(keyGroup, state, key);
    const staged = this.lookupStaged(full, keyGroup);
    if (staged !== undefined) return staged ?? undefined;
    return this.requireDb().getSync(full);
  }

  async getMany(refs: readonly StateRef[]): Promise<(Buffer | undefined)[]> {
    const out = new Array<Buffer | undefined>(refs.length);
    const missing: Buffer[] = [];
    const missingAt: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      const { keyGroup, state, key } = refs[i];
      const full = this.encodeKey(keyGroup, state, key);
      const staged = this.lookupStaged(full, keyGroup);
      if (staged !== undefined) out[i] = staged ?? undefined;
      else {
        missing.push(full);
        missingAt.push(i);
      }
    }
    if (missing.length > 0) {
      const values = await this.requireDb().getMany(missing);
      for (let j = 0; j < values.length; j++) out[missingAt[j]] = values[j];
    }
    return out;
  }

  scan(keyGroups: number | KeyGroupRange, state?: string): AsyncIterableIterator<StateEntry> {
    const range = typeof keyGroups === 'number' ? { start: keyGroups, end: keyGroups } : keyGroups;
    checkKeyGroup(range.start);
    checkKeyGroup(Math.max(range.start, range.end));
    const stateId = state === undefined ? undefined : this.stateId(state);
    this.assertUsable();
    this.seal();
    // Taken right behind the writes of everything staged so far.
    const view = this.enqueue(async () => this.requireDb().snapshot());
    return this.iterateScan(view, range, stateId);
  }

  private async *iterateScan(
    view: Promise<DbSnapshot>,
    range: KeyGroupRange,
    stateId: number | undefined,
  ): AsyncGenerator<StateEntry> {
    const snapshot = await view;
    try {
      if (range.end < range.start) return;
      // One pass over the whole range, except for one state over a few key groups: a pass per group.
      const perGroup = stateId !== undefined && range.end - range.start < MAX_SCAN_SPANS;
      const spans: [Buffer, Buffer | undefined][] = [];
      if (!perGroup) spans.push([keyGroupPrefix(range.start), prefixEnd(keyGroupPrefix(range.end))]);
      else {
        for (let kg = range.start; kg <= range.end; kg++) {
          const prefix = Buffer.from([kg >> 8, kg & 0xff, stateId]);
          spans.push([prefix, prefixEnd(prefix)]);
        }
      }
      for (const [gte, lt] of spans) {
        const it = this.requireDb().iterator({ ...rangeOptions(gte, lt), snapshot });
        try {
          for (;;) {
            const entries = await it.nextv(READ_AHEAD);
            if (entries.length === 0) break;
            for (const [k, v] of entries) {
              if (stateId !== undefined && k[2] !== stateId) continue;
              yield {
                keyGroup: k.readUInt16BE(0),
                state: this.namesById.get(k[2]) ?? `#${k[2]}`,
                key: k.subarray(3),
                value: v,
              };
            }
          }
        } finally {
          await it.close();
        }
      }
    } finally {
      await snapshot.close();
    }
  }

  private lookupStaged(full: Buffer, keyGroup: number): Buffer | null | undefined {
    const mapKey = full.toString('latin1');
    const r = lookupLayer(this.current, full, mapKey, keyGroup);
    if (r !== undefined) return r;
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const s = lookupLayer(this.sealed[i], full, mapKey, keyGroup);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------
  // Checkpoints

  async snapshot(): Promise<KeyedStateSnapshot> {
    this.assertUsable();
    const id = ++this.lastSnapshotId;
    const own = this.dirty;
    this.dirty = new Set();
    const dirty = new Set(own);
    for (const r of this.uncompleted) for (const kg of r.keyGroups) dirty.add(kg);
    this.uncompleted.push({ snapshotId: id, keyGroups: own });
    const incremental = this.completedSnapshotId > 0;
    const states = this.states();
    this.seal();
    const view = await this.enqueue(async () => this.requireDb().snapshot());
    try {
      const keyGroups = await this.keyGroupsIn(view);
      if (!incremental) for (const kg of keyGroups) dirty.add(kg);
      const snap = new LevelDbKeyedStateSnapshot(
        this,
        this.requireDb(),
        view,
        id,
        keyGroups,
        [...dirty].sort((a, b) => a - b),
        incremental,
        states,
      );
      this.liveSnapshots.add(snap);
      return snap;
    } catch (err) {
      await view.close();
      throw err;
    }
  }

  /** Called by a snapshot: the checkpoint holding it is durable. */
  completeSnapshot(id: number): void {
    if (id <= this.completedSnapshotId) return;
    this.completedSnapshotId = id;
    this.uncompleted = this.uncompleted.filter((r) => r.snapshotId > id);
  }

  /** Called by a snapshot when released. */
  forgetSnapshot(snapshot: LevelDbKeyedStateSnapshot): void {
    this.liveSnapshots.delete(snapshot);
  }

  /** Key groups with at least one entry in the view: one seek per such group. */
  private async keyGroupsIn(view: DbSnapshot): Promise<number[]> {
    const it = this.requireDb().keys({ snapshot: view });
    const groups: number[] = [];
    try {
      let kg = 0;
      while (kg < MAX_KEY_GROUPS) {
        it.seek(keyGroupPrefix(kg));
        const key = await it.next();
        if (key === undefined) break;
        const found = key.readUInt16BE(0);
        groups.push(found);
        kg = found + 1;
      }
    } finally {
      await it.close();
    }
    return groups;
  }

  async restoreKeyGroup(blob: Uint8Array, expectedKeyGroup?: number): Promise<RestoreResult> {
    this.assertUsable();
    const decoded = decodeKeyGroupBlob(blob);
    const { keyGroup, count } = decoded;
    if (expectedKeyGroup !== undefined && keyGroup !== expectedKeyGroup) {
      throw new StateBackendError(
        'corrupt-blob',
        `state blob rejected: it holds key group ${keyGroup}, expected ${expectedKeyGroup}`,
      );
    }
    // Map the writer's state ids to ours by name, registering names we do not know yet.
    const remap = new Uint8Array(256);
    for (const [id, name] of decoded.states)
      remap[id] =
        this.idsByName.get(name) ?? this.registerState(name, this.namesById.has(id) ? undefined : id);
    const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    let total = 0;
    for (let i = 0; i < count; i++) total += 2 + decoded.keyLength[i];
    const slab = Buffer.allocUnsafe(total);
    const keys = new Array<Buffer>(count);
    const values = new Array<Buffer>(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const start = decoded.keyStart[i];
      const len = decoded.keyLength[i];
      slab.writeUInt16BE(keyGroup, at);
      slab[at + 2] = remap[bytes[start]];
      bytes.copy(slab, at + 3, start + 1, start + len);
      keys[i] = slab.subarray(at, at + 2 + len);
      at += 2 + len;
      values[i] = bytes.subarray(decoded.valueStart[i], decoded.valueStart[i] + decoded.valueLength[i]);
    }
    // Remapping ids can reorder keys; restore layers are binary searched.
    if (decoded.states.size > 1 && [...decoded.states].some(([id]) => remap[id] !== id)) {
      const order = keys.map((_, i) => i).sort((a, b) => Buffer.compare(keys[a], keys[b]));
      const k2 = order.map((i) => keys[i]);
      const v2 = order.map((i) => values[i]);
      for (let i = 0; i < count; i++) {
        keys[i] = k2[i];
        values[i] = v2[i];
      }
    }
    this.seal();
    const layer = new RestoreLayer(keyGroup, keys, values);
    this.sealed.push(layer);
    this.dirty.add(keyGroup);
    await this.enqueue(() => this.writeRestoreLayer(layer));
    return { keyGroup, entries: count };
  }

  // -------------------------------------------------------------------------
  // Sizes and maintenance

  async approximateSize(keyGroups?: KeyGroupRange): Promise<number> {
    const db = this.requireDb() as unknown as Partial<ClassicLevelExtras>;
    if (typeof db.approximateSize !== 'function') return this.diskBytes();
    const start = keyGroupPrefix(keyGroups?.start ?? 0);
    const end =
      prefixEnd(keyGroupPrefix(keyGroups?.end ?? MAX_KEY_GROUPS - 1)) ?? Buffer.from([0xff, 0xff, 0xff]);
    return db.approximateSize.call(this.db, start, end);
  }

  async diskBytes(): Promise<number> {
    const dir = this.dir;
    if (dir === undefined) throw new StateBackendError('not-open', 'state backend is not open');
    let total = 0;
    for (const name of await readdir(dir)) {
      const s = await stat(path.join(dir, name)).catch(() => undefined);
      if (s?.isFile()) total += s.size;
    }
    return total;
  }

  /** Writes staged changes, then compacts the store (reclaims space of deleted entries). */
  async compact(): Promise<void> {
    await this.flush();
    const db = this.requireDb() as unknown as Partial<ClassicLevelExtras>;
    if (typeof db.compactRange === 'function')
      await db.compactRange.call(this.db, Buffer.from([0]), Buffer.from([0xff, 0xff, 0xff]));
  }

  stats(): StateBackendStats {
    return {
      staged: this.current.size,
      pendingWrites: this.sealed.length,
      batchesWritten: this.batchesWritten,
      operationsWritten: this.operationsWritten,
    };
  }

  /** The directory the backend was opened on. */
  get location(): string | undefined {
    return this.dir;
  }

  // -------------------------------------------------------------------------

  private statePrefix(keyGroup: number, state: string): Buffer {
    checkKeyGroup(keyGroup);
    const id = this.stateId(state);
    return Buffer.from([keyGroup >> 8, keyGroup & 0xff, id]);
  }

  private encodeKey(keyGroup: number, state: string, key: StateKey): Buffer {
    checkKeyGroup(keyGroup);
    const id = this.stateId(state);
    let full: Buffer;
    if (typeof key === 'string') {
      full = Buffer.allocUnsafe(3 + Buffer.byteLength(key, 'utf8'));
      full.write(key, 3, 'utf8');
    } else {
      const bytes = userKeyBytes(key);
      full = Buffer.allocUnsafe(3 + bytes.length);
      bytes.copy(full, 3);
    }
    full.writeUInt16BE(keyGroup, 0);
    full[2] = id;
    return full;
  }

  private requireDb(): Db {
    if (this.db === undefined) throw new StateBackendError('not-open', 'state backend is not open');
    return this.db;
  }

  private assertUsable(): void {
    if (this.db === undefined || this.closing)
      throw new StateBackendError('not-open', 'state backend is not open (or is closing)');
    if (this.failure !== undefined) throw this.failure;
  }
}

class LevelDbKeyedStateSnapshot implements KeyedStateSnapshot {
  private released = false;
  private readonly known = new Uint8Array(256);

  constructor(
    private readonly backend: LevelDbKeyedStateBackend,
    private readonly db: Db,
    private readonly view: DbSnapshot,
    readonly id: number,
    readonly keyGroups: readonly number[],
    readonly dirtyKeyGroups: readonly number[],
    readonly incremental: boolean,
    private readonly states: ReadonlyMap<number, string>,
  ) {
    for (const stateId of states.keys()) this.known[stateId] = 1;
  }

  async writeKeyGroup(keyGroup: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.streamKeyGroup(keyGroup)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async *streamKeyGroup(keyGroup: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Buffer> {
    checkKeyGroup(keyGroup);
    this.assertLive();
    const encoder = new KeyGroupBlobEncoder(keyGroup);
    yield encoder.header(this.states);
    const prefix = keyGroupPrefix(keyGroup);
    const it = this.db.iterator({ ...rangeOptions(prefix, prefixEnd(prefix)), snapshot: this.view });
    try {
      let keys: Buffer[] = [];
      let values: Buffer[] = [];
      let bytes = 0;
      for (;;) {
        const entries = await it.nextv(READ_AHEAD);
        if (entries.length === 0) break;
        for (const [k, v] of entries) {
          if (this.known[k[2]] === 0)
            throw new StateBackendError(
              'unknown-state',
              `key group ${keyGroup} holds entries of unregistered state id ${k[2]}`,
            );
          keys.push(k);
          values.push(v);
          bytes += k.length + v.length + 6;
          if (bytes >= chunkBytes) {
            yield encoder.entries(keys, values, 2);
            keys = [];
            values = [];
            bytes = 0;
          }
        }
      }
      if (keys.length > 0) yield encoder.entries(keys, values, 2);
    } finally {
      await it.close();
    }
    yield encoder.trailer();
  }

  complete(): void {
    this.backend.completeSnapshot(this.id);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.backend.forgetSnapshot(this);
    await this.view.close();
  }

  private assertLive(): void {
    if (this.released) throw new StateBackendError('not-open', `snapshot ${this.id} was released`);
  }
}
