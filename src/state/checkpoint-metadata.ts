import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { FloeError, type FloeErrorCode } from '../runtime/errors';
import type { KeyGroupRange } from '../runtime/key-groups';

/**
 * The metadata of a checkpoint (after Flink's `_metadata`): what a restore
 * needs to find and verify every byte of state, and the source positions to
 * resume from. It is written last, as the commit point of its checkpoint.
 *
 * On disk it is JSON with a format marker, a version and a checksum over its
 * own content (canonical JSON of everything but the checksum), so a torn or
 * edited file is detected rather than half-read.
 */
export const METADATA_FILE = '_metadata';
export const METADATA_FORMAT = 'floe-checkpoint-metadata';
export const METADATA_FORMAT_VERSION = 1;
/** Upper bound of maxParallelism, as in Flink (key groups are 15-bit). */
export const MAX_KEY_GROUPS = 32768;

export type CheckpointKind = 'checkpoint' | 'savepoint';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A data file written by this checkpoint, in its own `chk-<id>/` folder. */
export interface DataFileEntry {
  /** File name inside the checkpoint folder. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** CRC32 of the content, 8 lowercase hex digits. */
  crc32: string;
  /** Key groups whose state the file holds; empty for state that is not keyed (operator state). */
  keyGroups: KeyGroupRange[];
}

/** A data file of an EARLIER checkpoint that this one reuses unchanged (incremental checkpoints). */
export interface SharedFileEntry extends DataFileEntry {
  /** The checkpoint whose folder physically holds the file; always older than the referring one. */
  checkpointId: number;
}

export interface CheckpointMetadata {
  /** Positive, increasing per job. */
  id: number;
  /** When the checkpoint was taken, ISO 8601. */
  time: string;
  /** Savepoints are taken on request, never deleted by retention, and self-contained (no shared files). */
  kind: CheckpointKind;
  jobName: string;
  parallelism: number;
  maxParallelism: number;
  /** Where each source split resumes, by split id (`SplitReader.position()`, opaque JSON). */
  sourcePositions: Record<string, JsonValue>;
  /** Data files in this checkpoint's own folder. */
  files: DataFileEntry[];
  /** Data files of earlier checkpoints this one reuses; each points at the folder that holds it. */
  sharedFiles: SharedFileEntry[];
}

// ---------------------------------------------------------------------------
// Errors

export type CheckpointProblem = 'missing' | 'corrupt' | 'invalid' | 'io';

const CODES: Record<CheckpointProblem, FloeErrorCode> = {
  missing: 'CHECKPOINT_MISSING',
  corrupt: 'CHECKPOINT_CORRUPT',
  invalid: 'CHECKPOINT_INVALID',
  io: 'CHECKPOINT_IO',
};

/**
 * Everything checkpoint storage raises on purpose. `problem` says what a
 * restore should do: 'missing' and 'corrupt' -> fall back to an older
 * checkpoint; 'io' -> the store is unreachable, retry or fail (falling back
 * would silently restore older state); 'invalid' -> a caller bug (bad id,
 * name or metadata handed to the storage).
 */
export class CheckpointError extends FloeError {
  readonly problem: CheckpointProblem;
  /** The checkpoint concerned, when known. */
  readonly checkpointId: number | undefined;
  /** The file concerned, relative to the storage root (e.g. "chk-0000000007/kg-3"), when known. */
  readonly file: string | undefined;

  constructor(
    problem: CheckpointProblem,
    message: string,
    details: { checkpointId?: number; file?: string; retriable?: boolean; cause?: unknown } = {},
  ) {
    super(CODES[problem], message, {
      retriable: details.retriable ?? false,
      cause: details.cause,
    });
    this.name = 'CheckpointError';
    this.problem = problem;
    this.checkpointId = details.checkpointId;
    this.file = details.file;
  }
}

// ---------------------------------------------------------------------------
// Naming

const DIR_DIGITS = 10;
const DIR_PATTERN = /^chk-(\d{10,})$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function assertCheckpointId(id: unknown): asserts id is number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new CheckpointError('invalid', `checkpoint id must be a positive whole number, got ${String(id)}`);
  }
}

/** `chk-0000000042`: zero-padded so that a plain listing sorts by id. */
export function checkpointDirName(id: number): string {
  assertCheckpointId(id);
  return `chk-${String(id).padStart(DIR_DIGITS, '0')}`;
}

/** The id of a checkpoint folder name, or undefined for any other name (which storage leaves alone). */
export function parseCheckpointDirName(name: string): number | undefined {
  const m = DIR_PATTERN.exec(name);
  if (!m) return undefined;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) && id >= 1 && checkpointDirName(id) === name ? id : undefined;
}

/** Data file names: one path segment, no leading dot or underscore (reserved for temp files and `_metadata`). */
export function isValidDataFileName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

export function assertDataFileName(name: string): void {
  if (typeof name !== 'string' || !isValidDataFileName(name)) {
    throw new CheckpointError(
      'invalid',
      `invalid checkpoint data file name ${JSON.stringify(name)}: use letters, digits, '.', '_', '-' ` +
        `(at most 200, not starting with '.', '_' or '-')`,
    );
  }
}

// ---------------------------------------------------------------------------
// Checksums

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32Portable(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zlib.crc32 exists from Node 20.15 on; the table version covers older 20.x.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC32 (IEEE, as zlib and gzip) as 8 lowercase hex digits. */
export function crc32Hex(data: Uint8Array): string {
  const value = nativeCrc32 ? nativeCrc32(data) : crc32Portable(data);
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** The metadata entry describing `data` stored under `name`. */
export function dataFileEntry(
  name: string,
  data: Uint8Array,
  keyGroups: KeyGroupRange[] = [],
): DataFileEntry {
  return { name, size: data.length, crc32: crc32Hex(data), keyGroups };
}

/**
 * Every data file a checkpoint depends on, own and shared, each with the id of
 * the folder that holds it. Reusing files of `previous` in the next checkpoint:
 * pick from this list (by key group), so a reference always points at the
 * folder that holds the bytes, never at a checkpoint that itself refers on.
 */
export function allDataFiles(metadata: CheckpointMetadata): SharedFileEntry[] {
  return [...metadata.files.map((f) => ({ ...f, checkpointId: metadata.id })), ...metadata.sharedFiles];
}

/** JSON with object keys sorted, so a checksum does not depend on key order or whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function contentChecksum(document: Record<string, unknown>): string {
  const rest = { ...document };
  delete rest.checksum;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

// ---------------------------------------------------------------------------
// Validation

const TOP_LEVEL_KEYS = [
  'id',
  'time',
  'kind',
  'jobName',
  'parallelism',
  'maxParallelism',
  'sourcePositions',
  'files',
  'sharedFiles',
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}

const isCount = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/**
 * Checks a metadata object (from a file or handed to commit); returns the
 * problems found, empty when it is valid.
 */
export function metadataProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (!isPlainObject(value)) return ['metadata must be a JSON object'];
  const m = value;
  for (const key of Object.keys(m)) {
    if (!TOP_LEVEL_KEYS.includes(key)) problems.push(`unknown field ${JSON.stringify(key)}`);
  }
  if (!isCount(m.id, 1)) problems.push(`id must be a positive whole number, got ${JSON.stringify(m.id)}`);
  if (
    typeof m.time !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(m.time) ||
    Number.isNaN(Date.parse(m.time))
  ) {
    problems.push(`time must be an ISO 8601 timestamp, got ${JSON.stringify(m.time)}`);
  }
  if (m.kind !== 'checkpoint' && m.kind !== 'savepoint') {
    problems.push(`kind must be "checkpoint" or "savepoint", got ${JSON.stringify(m.kind)}`);
  }
  if (typeof m.jobName !== 'string' || m.jobName === '') problems.push('jobName must be a non-empty string');
  if (!isCount(m.parallelism, 1)) problems.push('parallelism must be a whole number >= 1');
  const maxOk = isCount(m.maxParallelism, 1) && m.maxParallelism <= MAX_KEY_GROUPS;
  if (!maxOk) problems.push(`maxParallelism must be a whole number in [1, ${MAX_KEY_GROUPS}]`);
  else if (isCount(m.parallelism, 1) && m.parallelism > (m.maxParallelism as number)) {
    problems.push('parallelism must not exceed maxParallelism');
  }
  if (!isPlainObject(m.sourcePositions) || !isJsonValue(m.sourcePositions)) {
    problems.push('sourcePositions must be an object of JSON values by split id');
  }

  const checkFile = (f: unknown, where: string, shared: boolean): void => {
    // Files may share key groups (several operators, incremental deltas); one file lists each once.
    const owner = new Map<number, string>();
    if (!isPlainObject(f)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const known = shared
      ? ['name', 'size', 'crc32', 'keyGroups', 'checkpointId']
      : ['name', 'size', 'crc32', 'keyGroups'];
    for (const key of Object.keys(f)) {
      if (!known.includes(key)) problems.push(`${where}: unknown field ${JSON.stringify(key)}`);
    }
    if (typeof f.name !== 'string' || !isValidDataFileName(f.name)) {
      problems.push(`${where}: invalid file name ${JSON.stringify(f.name)}`);
    }
    if (!isCount(f.size, 0)) problems.push(`${where}: size must be a whole number >= 0`);
    if (typeof f.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(f.crc32)) {
      problems.push(`${where}: crc32 must be 8 lowercase hex digits`);
    }
    if (shared) {
      if (!isCount(f.checkpointId, 1))
        problems.push(`${where}: checkpointId must be a positive whole number`);
      else if (isCount(m.id, 1) && f.checkpointId >= m.id) {
        problems.push(`${where}: refers to checkpoint ${f.checkpointId}, which is not older than ${m.id}`);
      }
    }
    if (!Array.isArray(f.keyGroups)) {
      problems.push(`${where}: keyGroups must be an array of {start, end} ranges`);
      return;
    }
    f.keyGroups.forEach((r: unknown, i) => {
      const ok =
        isPlainObject(r) &&
        Object.keys(r).every((k) => k === 'start' || k === 'end') &&
        isCount(r.start, 0) &&
        isCount(r.end, 0) &&
        r.start <= r.end &&
        (!maxOk || r.end < (m.maxParallelism as number));
      if (!ok) {
        problems.push(
          `${where}: keyGroups[${i}] must be {start, end} with 0 <= start <= end < maxParallelism`,
        );
        return;
      }
      const range = r as unknown as KeyGroupRange;
      for (let kg = range.start; kg <= range.end; kg++) {
        const other = owner.get(kg);
        if (other !== undefined) {
          problems.push(`${where}: key group ${kg} is listed twice (${other} and keyGroups[${i}])`);
          return;
        }
        owner.set(kg, `keyGroups[${i}]`);
      }
    });
  };

  if (!Array.isArray(m.files)) problems.push('files must be an array');
  else {
    const names = new Set<string>();
    m.files.forEach((f: unknown, i) => {
      checkFile(f, `files[${i}]`, false);
      const name = isPlainObject(f) ? f.name : undefined;
      if (typeof name === 'string') {
        if (names.has(name)) problems.push(`files[${i}]: duplicate file name ${JSON.stringify(name)}`);
        names.add(name);
      }
    });
  }
  if (!Array.isArray(m.sharedFiles)) problems.push('sharedFiles must be an array');
  else {
    const refs = new Set<string>();
    m.sharedFiles.forEach((f: unknown, i) => {
      checkFile(f, `sharedFiles[${i}]`, true);
      if (isPlainObject(f)) {
        const ref = `${String(f.checkpointId)}/${String(f.name)}`;
        if (refs.has(ref)) problems.push(`sharedFiles[${i}]: duplicate reference ${ref}`);
        refs.add(ref);
      }
    });
    if (m.kind === 'savepoint' && m.sharedFiles.length > 0) {
      problems.push('a savepoint must be self-contained: sharedFiles must be empty');
    }
  }
  return problems;
}

/** Throws CheckpointError('invalid') listing every problem of metadata handed to the storage. */
export function validateMetadata(value: unknown): asserts value is CheckpointMetadata {
  const problems = metadataProblems(value);
  if (problems.length > 0) {
    const id = isPlainObject(value) && isCount(value.id, 1) ? value.id : undefined;
    throw new CheckpointError(
      'invalid',
      `invalid metadata${id === undefined ? '' : ` for checkpoint ${id}`}: ${problems.join('; ')}`,
      { checkpointId: id },
    );
  }
}

// ---------------------------------------------------------------------------
// (De)serialization

/** The bytes of a `_metadata` file. Validates first: invalid metadata is never written. */
export function serializeMetadata(metadata: CheckpointMetadata): Buffer {
  validateMetadata(metadata);
  const body = { format: METADATA_FORMAT, formatVersion: METADATA_FORMAT_VERSION, checkpoint: metadata };
  // Key order for readers of the file: the checksum before the (long) content.
  const document = {
    format: body.format,
    formatVersion: body.formatVersion,
    checksum: contentChecksum(body),
    checkpoint: body.checkpoint,
  };
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8');
}

/**
 * Reads a `_metadata` file; throws CheckpointError('corrupt') naming `file`
 * (relative to the storage root; `shownAs` is its full location for the
 * message) when it is not valid UTF-8 JSON, its checksum does not match, its format
 * version is unknown or its content is invalid.
 */
export function parseMetadata(
  bytes: Uint8Array,
  file: string,
  checkpointId?: number,
  shownAs: string = file,
): CheckpointMetadata {
  const corrupt = (why: string, cause?: unknown): CheckpointError =>
    new CheckpointError(
      'corrupt',
      `checkpoint ${checkpointId === undefined ? '' : `${checkpointId} `}metadata ${shownAs} is corrupt: ${why}`,
      { checkpointId, file, cause },
    );
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw corrupt(`not valid JSON (${bytes.length} bytes; truncated?)`, err);
  }
  if (!isPlainObject(document) || document.format !== METADATA_FORMAT) {
    throw corrupt(`not a Floe checkpoint metadata file (no "format": "${METADATA_FORMAT}")`);
  }
  if (typeof document.checksum !== 'string' || document.checksum !== contentChecksum(document)) {
    throw corrupt('checksum mismatch: the content was changed or damaged');
  }
  if (document.formatVersion !== METADATA_FORMAT_VERSION) {
    throw corrupt(
      `format version ${JSON.stringify(document.formatVersion)} is not supported (this Floe reads ${METADATA_FORMAT_VERSION})`,
    );
  }
  const problems = metadataProblems(document.checkpoint);
  if (problems.length > 0) throw corrupt(problems.join('; '));
  const metadata = document.checkpoint as unknown as CheckpointMetadata;
  if (checkpointId !== undefined && metadata.id !== checkpointId) {
    throw corrupt(`it describes checkpoint ${metadata.id}, not ${checkpointId}`);
  }
  return metadata;
}
