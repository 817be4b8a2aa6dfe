/**
 * Keyed state backend: the durable, per-worker home of keyed operator state,
 * organised by key group so that checkpoints and rescaling move whole key
 * groups (see src/runtime/key-groups.ts).
 *
 * Contract (every implementation):
 *
 * Keys. A stored key is (key group, state, user key). The key group is an
 * integer in [0, MAX_KEY_GROUPS); the state is a registered name (a small
 * registry maps names to one-byte ids, see DEFAULT_STATE_IDS); the user key
 * is bytes (a string is taken as its UTF-8 bytes). Values are bytes: callers
 * serialise. On disk and in checkpoints a key is
 *   2 bytes key group (big-endian) | 1 byte state id | user key bytes
 * and "key order" is the bytewise order of that encoding: key group first,
 * then state id, then the user key bytes (unsigned, shorter prefix first).
 *
 * Write-behind. Hot state lives in the operators' memory; put/delete/
 * deleteRange/clearKeyGroup only stage a change (synchronously, no I/O; the
 * last change of a key wins) and flush() writes everything staged so far as
 * one atomic batch. The backend keeps references to the value buffers it is
 * given until they are written: do not mutate a buffer after put().
 *
 * Reads see every change made before them, staged or not (read your writes):
 * get/getSync/getMany consult the staged changes first, then the store.
 * getSync blocks the calling thread on the store (fine on a worker thread,
 * and an order of magnitude faster than an awaited get for single reads).
 *
 * Point-in-time views. scan() and snapshot() see exactly the changes made
 * before they were called, and none made afterwards, even though they
 * complete asynchronously: the caller may keep processing (put, delete,
 * flush) right after calling them without awaiting, and nothing it does
 * changes what they return.
 *
 * Checkpoints. snapshot() returns a KeyedStateSnapshot from which each key
 * group can be written out as a self-describing blob (format below) while
 * processing continues. dirtyKeyGroups are the key groups that changed since
 * the last snapshot marked complete() (every key group with data when none
 * was), so a checkpoint may reuse the previous blob of every other key group.
 * restoreKeyGroup() validates a blob and replaces the key group's contents.
 *
 * Threads. A backend is used by one thread; LevelDB cannot open one
 * directory twice in a process, so each worker thread has its own directory.
 *
 * Units: sizes in bytes, times in milliseconds.
 */
import { crc32 } from 'node:zlib';
import { FloeError } from '../runtime/errors';
import type { KeyGroupRange } from '../runtime/key-groups';

/** Key groups are stored in two bytes. */
export const MAX_KEY_GROUPS = 0x10000;

/** State ids of the trending job's states; callers may register more (ids 1..255). */
export const DEFAULT_STATE_IDS: Readonly<Record<string, number>> = Object.freeze({
  window: 1,
  dedupe: 2,
  history: 3,
});

/** A user key: bytes, or a string taken as its UTF-8 bytes. */
export type StateKey = string | Uint8Array;

/** Which keys of one (key group, state) deleteRange removes; all of them when omitted. */
export type StateKeyRange =
  /** Every user key starting with these bytes. */
  | { prefix: StateKey }
  /** User keys k with gte <= k < lt (bytewise); an omitted bound is open. */
  | { gte?: StateKey; lt?: StateKey };

export interface StateRef {
  keyGroup: number;
  state: string;
  key: StateKey;
}

export interface StateEntry {
  keyGroup: number;
  state: string;
  /** The user key bytes. */
  key: Buffer;
  value: Buffer;
}

export interface RestoreResult {
  keyGroup: number;
  entries: number;
}

export interface StateBackendStats {
  /** Changes staged and not yet handed to a write (keys plus range deletes). */
  staged: number;
  /** Batches handed over by flush, restore or snapshot and not written yet. */
  pendingWrites: number;
  /** Batches written to the store since open. */
  batchesWritten: number;
  /** Puts and deletes in those batches. */
  operationsWritten: number;
}

/**
 * A consistent, read-only view of all key groups at the moment snapshot() was
 * called. Holds store resources until released.
 */
export interface KeyedStateSnapshot {
  /** Increasing per backend, from 1. */
  readonly id: number;
  /** Key groups holding at least one entry in this view, ascending. */
  readonly keyGroups: readonly number[];
  /**
   * Key groups changed (put, delete, range delete, clear, restore) since the
   * last snapshot marked complete(), ascending; may include groups that are
   * now empty (write their empty blob). When no snapshot was completed since
   * open, this is every changed group plus every group with data, and
   * `incremental` is false.
   */
  readonly dirtyKeyGroups: readonly number[];
  /** False when dirtyKeyGroups had to include every key group with data. */
  readonly incremental: boolean;
  /** One key group's entries as a blob (see the format below); an empty group gives a valid empty blob. */
  writeKeyGroup(keyGroup: number): Promise<Buffer>;
  /** The same blob as a stream of chunks of roughly chunkBytes, for large key groups. */
  streamKeyGroup(keyGroup: number, chunkBytes?: number): AsyncIterable<Buffer>;
  /**
   * The checkpoint holding this snapshot is durable: later snapshots' dirty
   * sets are relative to it. Snapshots never completed (failed or abandoned
   * checkpoints) keep their changes in later dirty sets.
   */
  complete(): void;
  /** Frees the view; later reads from it throw. Idempotent. */
  release(): Promise<void>;
}

export interface KeyedStateBackend {
  /** Opens (creating if needed) the store in dir. */
  open(dir: string): Promise<void>;
  /** Writes staged changes, releases snapshots and closes the store. Idempotent. */
  close(): Promise<void>;

  /**
   * Registers a state name (idempotent) and returns its id; the id is
   * chosen when omitted. Throws when the name or the id is already taken
   * by another registration.
   */
  registerState(name: string, id?: number): number;
  /** The id of a registered state; throws for an unknown name. */
  stateId(name: string): number;

  put(keyGroup: number, state: string, key: StateKey, value: Uint8Array): void;
  delete(keyGroup: number, state: string, key: StateKey): void;
  /** Deletes a range of one state's keys in one key group (all of them without range). */
  deleteRange(keyGroup: number, state: string, range?: StateKeyRange): void;
  /** Deletes every entry of the key group, of every state. */
  clearKeyGroup(keyGroup: number): void;
  /** Writes every change staged before the call as one atomic batch; resolves when it is written. */
  flush(): Promise<void>;

  get(keyGroup: number, state: string, key: StateKey): Promise<Buffer | undefined>;
  getSync(keyGroup: number, state: string, key: StateKey): Buffer | undefined;
  /** Values in the order of refs; one store round trip for all that are not staged. */
  getMany(refs: readonly StateRef[]): Promise<(Buffer | undefined)[]>;
  /**
   * Entries of a key group or an inclusive range of key groups (of one state
   * when given), in key order, as of the call. Iterate it to the end or break
   * out of the loop: an iterator never consumed pins a store snapshot until close().
   */
  scan(keyGroups: number | KeyGroupRange, state?: string): AsyncIterableIterator<StateEntry>;

  /** A point-in-time view for a checkpoint, as of the call (see KeyedStateSnapshot). */
  snapshot(): Promise<KeyedStateSnapshot>;
  /**
   * Validates a blob (magic, version, CRC32, structure; expectedKeyGroup when
   * given) and replaces the key group's contents with its entries, atomically.
   * The key group's contents are replaced as of the call; a corrupt blob
   * throws StateBackendError('corrupt-blob') before anything is changed.
   */
  restoreKeyGroup(blob: Uint8Array, expectedKeyGroup?: number): Promise<RestoreResult>;

  /** Approximate bytes of store files holding the range (all key groups by default); excludes unflushed memory. */
  approximateSize(keyGroups?: KeyGroupRange): Promise<number>;
  /** Bytes of all files in the store's directory. */
  diskBytes(): Promise<number>;
  stats(): StateBackendStats;
}

// ---------------------------------------------------------------------------
// Errors

export type StateBackendErrorReason =
  /** A checkpoint blob failed validation: wrong magic or version, CRC mismatch, truncated, malformed. */
  | 'corrupt-blob'
  /** A state name or id not registered, or registered twice differently. */
  | 'unknown-state'
  /** A key group, key or value of the wrong shape. */
  | 'invalid-argument'
  /** The backend is not open (never opened, closing or closed). */
  | 'not-open'
  /** The store directory is in use (by another thread of this process, or another process). */
  | 'locked'
  /** The store failed to read or write; the backend refuses further work. */
  | 'io';

/**
 * Errors of the state backend: code STATE_CORRUPT for a corrupt blob,
 * STATE_IO for the rest ('io', 'locked', 'not-open', bad arguments);
 * `reason` says what went wrong.
 */
export class StateBackendError extends FloeError {
  readonly reason: StateBackendErrorReason;

  constructor(
    reason: StateBackendErrorReason,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(reason === 'corrupt-blob' ? 'STATE_CORRUPT' : 'STATE_IO', message, options);
    this.name = 'StateBackendError';
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------
// Key group blob format, version 1 (all integers big-endian):
//
//   offset  size  field
//   0       4     magic "FLKG"
//   4       1     version = 1
//   5       1     flags = 0 (reserved)
//   6       2     key group
//   8       1     S = number of state names
//   9       ...   S times: state id (1 byte), name length L (1 byte), L bytes UTF-8 name
//   ...     ...   entries in strictly ascending key order, each:
//                   key length K (4 bytes, K >= 1), value length V (4 bytes),
//                   K bytes key = state id byte + user key bytes (the key group is in the header),
//                   V bytes value
//   end-8   4     entry count
//   end-4   4     CRC32 (IEEE, as zlib) of every byte before it
//
// The state table makes a blob independent of the writer's registry:
// restore maps ids by name. The CRC covers header, entries and count, so a
// flipped byte or a truncated blob is rejected.

export const BLOB_MAGIC = Buffer.from('FLKG', 'latin1');
export const BLOB_VERSION = 1;
const HEADER_FIXED_BYTES = 9;
const TRAILER_BYTES = 8;
const ENTRY_HEADER_BYTES = 8;

/** Encodes the blob header for a key group and a state table (id -> name). */
export function encodeBlobHeader(keyGroup: number, states: ReadonlyMap<number, string>): Buffer {
  const names = [...states].sort((a, b) => a[0] - b[0]).map(([id, name]) => [id, Buffer.from(name)] as const);
  const size = HEADER_FIXED_BYTES + names.reduce((n, [, name]) => n + 2 + name.length, 0);
  const header = Buffer.alloc(size);
  BLOB_MAGIC.copy(header, 0);
  header[4] = BLOB_VERSION;
  header[5] = 0;
  header.writeUInt16BE(keyGroup, 6);
  header[8] = names.length;
  let at = HEADER_FIXED_BYTES;
  for (const [id, name] of names) {
    header[at] = id;
    header[at + 1] = name.length;
    name.copy(header, at + 2);
    at += 2 + name.length;
  }
  return header;
}

/**
 * Incremental blob encoder: header, then entries in key order, then the
 * trailer; each call returns the bytes to emit next.
 */
export class KeyGroupBlobEncoder {
  private crc = 0;
  private count = 0;

  constructor(readonly keyGroup: number) {}

  header(states: ReadonlyMap<number, string>): Buffer {
    return this.track(encodeBlobHeader(this.keyGroup, states));
  }

  /** Encodes entries given as keys without the key group prefix (state id + user key). */
  entries(keys: readonly Uint8Array[], values: readonly Uint8Array[], keyOffset = 0): Buffer {
    let size = 0;
    for (let i = 0; i < keys.length; i++)
      size += ENTRY_HEADER_BYTES + keys[i].length - keyOffset + values[i].length;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const v = values[i];
      const klen = k.length - keyOffset;
      out.writeUInt32BE(klen, at);
      out.writeUInt32BE(v.length, at + 4);
      at += ENTRY_HEADER_BYTES;
      // Byte loop: keys are short, and this avoids a subarray per entry.
      for (let j = keyOffset; j < k.length; j++) out[at++] = k[j];
      out.set(v, at);
      at += v.length;
    }
    this.count += keys.length;
    return this.track(out);
  }

  trailer(): Buffer {
    const out = Buffer.allocUnsafe(TRAILER_BYTES);
    out.writeUInt32BE(this.count, 0);
    this.crc = crc32(out.subarray(0, 4), this.crc);
    out.writeUInt32BE(this.crc, 4);
    return out;
  }

  private track(bytes: Buffer): Buffer {
    this.crc = crc32(bytes, this.crc);
    return bytes;
  }
}

export interface DecodedKeyGroupBlob {
  keyGroup: number;
  /** State id (as written) -> name. */
  states: Map<number, string>;
  /** Entries as offsets into the blob: key i is blob[keyStart[i], keyStart[i] + keyLength[i]). */
  count: number;
  keyStart: Uint32Array;
  keyLength: Uint32Array;
  valueStart: Uint32Array;
  valueLength: Uint32Array;
}

function corrupt(message: string): StateBackendError {
  return new StateBackendError('corrupt-blob', `state blob rejected: ${message}`);
}

/** Validates a blob and indexes its entries; throws StateBackendError('corrupt-blob'). */
export function decodeKeyGroupBlob(input: Uint8Array): DecodedKeyGroupBlob {
  const blob = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (blob.length < HEADER_FIXED_BYTES + TRAILER_BYTES)
    throw corrupt(`${blob.length} bytes is shorter than any valid blob (truncated?)`);
  if (!blob.subarray(0, 4).equals(BLOB_MAGIC))
    throw corrupt(`bad magic 0x${blob.subarray(0, 4).toString('hex')} (expected "FLKG")`);
  if (blob[4] !== BLOB_VERSION)
    throw corrupt(`unsupported version ${blob[4]} (this build reads ${BLOB_VERSION})`);
  const stored = blob.readUInt32BE(blob.length - 4);
  const computed = crc32(blob.subarray(0, blob.length - 4));
  if (stored !== computed) {
    throw corrupt(
      `CRC32 mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed ` +
        `0x${computed.toString(16).padStart(8, '0')}): corrupted or truncated`,
    );
  }
  if (blob[5] !== 0) throw corrupt(`unknown flags 0x${blob[5].toString(16)}`);
  const keyGroup = blob.readUInt16BE(6);
  const stateCount = blob[8];
  const end = blob.length - TRAILER_BYTES;
  const states = new Map<number, string>();
  let at = HEADER_FIXED_BYTES;
  for (let i = 0; i < stateCount; i++) {
    if (at + 2 > end || at + 2 + blob[at + 1] > end) throw corrupt('state table runs past the end');
    const id = blob[at];
    const name = blob.toString('utf8', at + 2, at + 2 + blob[at + 1]);
    if (states.has(id)) throw corrupt(`state id ${id} listed twice`);
    states.set(id, name);
    at += 2 + blob[at + 1];
  }
  const count = blob.readUInt32BE(end);
  // Every entry takes at least 9 bytes, which bounds count before allocating.
  if (count > (end - at) / (ENTRY_HEADER_BYTES + 1))
    throw corrupt(`entry count ${count} cannot fit in ${end - at} bytes`);
  const keyStart = new Uint32Array(count);
  const keyLength = new Uint32Array(count);
  const valueStart = new Uint32Array(count);
  const valueLength = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_HEADER_BYTES > end) throw corrupt(`entry ${i} of ${count} runs past the end`);
    const klen = blob.readUInt32BE(at);
    const vlen = blob.readUInt32BE(at + 4);
    at += ENTRY_HEADER_BYTES;
    if (klen < 1 || at + klen + vlen > end) throw corrupt(`entry ${i} of ${count} has bad lengths`);
    if (!states.has(blob[at]))
      throw corrupt(`entry ${i} has state id ${blob[at]} missing from the state table`);
    if (i > 0) {
      const prev = blob.subarray(keyStart[i - 1], keyStart[i - 1] + keyLength[i - 1]);
      if (Buffer.compare(prev, blob.subarray(at, at + klen)) >= 0)
        throw corrupt(`entry ${i} is not in ascending key order`);
    }
    keyStart[i] = at;
    keyLength[i] = klen;
    valueStart[i] = at + klen;
    valueLength[i] = vlen;
    at += klen + vlen;
  }
  if (at !== end) throw corrupt(`${end - at} unexpected bytes after ${count} entries`);
  return { keyGroup, states, count, keyStart, keyLength, valueStart, valueLength };
}
