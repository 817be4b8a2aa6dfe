import { FloeError } from '../runtime/errors';
import {
  allDataFiles,
  assertCheckpointId,
  assertDataFileName,
  checkpointDirName,
  CheckpointError,
  crc32Hex,
  METADATA_FILE,
  parseCheckpointDirName,
  parseMetadata,
  serializeMetadata,
  validateMetadata,
  type CheckpointMetadata,
  type SharedFileEntry,
} from './checkpoint-metadata';
import type { S3Settings } from './s3-checkpoint-storage';

export { CheckpointError } from './checkpoint-metadata';
export type { CheckpointMetadata } from './checkpoint-metadata';

/**
 * Checkpoint storage, after Flink's checkpoint directory layout:
 *
 *   <root>/chk-0000000007/<data files>   written by workers (writeFile)
 *   <root>/chk-0000000007/_metadata      written LAST by the coordinator (commit)
 *
 * `_metadata` is the commit point: a folder without it is an incomplete
 * checkpoint and is ignored (and cleaned up by retain once a newer checkpoint
 * completed). Incremental checkpoints reuse files of older folders; the
 * metadata lists those references, and retention never deletes a referenced
 * file, so an old folder may live on with only the files still in use.
 *
 * A single coordinator is assumed to commit and retain (as in Flink): commit's
 * "not yet committed" check is a read, not a conditional write (s3rver ignores
 * conditional writes).
 */
export interface CheckpointStorage {
  /** The root, as a path or s3:// URI, for messages. */
  readonly location: string;
  /** Writes (or overwrites) a data file of a checkpoint that is not committed yet. */
  writeFile(checkpointId: number, name: string, data: Uint8Array): Promise<void>;
  /** Reads a data file as stored, unverified; CheckpointError 'missing' when absent. */
  readFile(checkpointId: number, name: string): Promise<Buffer>;
  /**
   * Commits a checkpoint: checks the metadata, that every data file it lists
   * exists with the listed size (own and reused ones), then writes `_metadata`
   * atomically. Throws when the checkpoint is already committed.
   */
  commit(metadata: CheckpointMetadata): Promise<void>;
  /** Completed checkpoints and savepoints, newest first; corrupt metadata is reported (onWarning) and skipped. */
  listCompleted(): Promise<CheckpointMetadata[]>;
  /** The newest completed checkpoint or savepoint (metadata only, data files unverified). */
  latest(): Promise<CheckpointMetadata | undefined>;
  /**
   * Loads a checkpoint by id, folder name ("chk-0000000007"), or path/URI of
   * its folder or `_metadata` (which may lie under another root). Verifies the
   * metadata and every data file it needs (size and CRC32) and returns their
   * bytes; throws CheckpointError naming the checkpoint and the file when
   * something is missing ('missing') or damaged ('corrupt').
   */
  load(idOrPath: number | string): Promise<LoadedCheckpoint>;
  /**
   * The newest checkpoint that loads, falling back past missing or corrupt
   * ones (each reported through onWarning); undefined when there is none. An
   * I/O error is thrown, never skipped: falling back because the store is
   * unreachable would silently restore older state.
   */
  loadLatest(): Promise<LoadedCheckpoint | undefined>;
  /**
   * Keeps the newest `n` completed checkpoints and every savepoint; deletes
   * the other completed checkpoints and the incomplete folders older than the
   * newest completed one, except files a kept checkpoint still references.
   * Folders with corrupt metadata are reported and left alone.
   */
  retain(n: number): Promise<RetainResult>;
  /** Deletes a checkpoint or savepoint (idempotent), keeping files other completed checkpoints reference. */
  delete(checkpointId: number): Promise<void>;
  /** Releases connections (S3). */
  close(): Promise<void>;
}

export interface LoadedDataFile extends SharedFileEntry {
  /** The verified content. */
  data: Buffer;
}

export interface LoadedCheckpoint {
  metadata: CheckpointMetadata;
  /** Where the checkpoint's folder is. */
  location: string;
  /** Every data file the checkpoint needs: its own, then the reused ones. */
  files: LoadedDataFile[];
}

export interface RetainResult {
  /** Completed checkpoints and savepoints kept, newest first. */
  retained: number[];
  /** Completed checkpoints deleted (their `_metadata` is gone). */
  deleted: number[];
  /** Incomplete folders cleaned up. */
  removedIncomplete: number[];
  /** Files of deleted folders kept because a retained checkpoint references them ("chk-.../name"). */
  keptReferenced: string[];
}

export interface CheckpointWarning {
  message: string;
  checkpointId?: number;
  /** Relative to the storage root. */
  file?: string;
  error?: unknown;
}

export interface CheckpointStorageOptions {
  /** Skipped corrupt checkpoints and fallbacks; default: process.emitWarning. */
  onWarning?: (warning: CheckpointWarning) => void;
  /** Parallel reads/writes in listings, loads and deletions; default 8. */
  concurrency?: number;
}

export interface OpenCheckpointStorageOptions extends CheckpointStorageOptions {
  /** Client settings for s3:// URIs (the URI's query, e.g. ?endpoint=..., overrides them). */
  s3?: S3Settings;
}

/**
 * Opens checkpoint storage by URI: `s3://bucket/prefix[?endpoint=...&region=...&path-style=true]`,
 * or a directory as a plain path, `file:PATH` or `file:///abs/path`.
 */
export function openCheckpointStorage(
  uri: string,
  options: OpenCheckpointStorageOptions = {},
): CheckpointStorage {
  // Backends are loaded on demand: the AWS SDK only when S3 is used, and no
  // import cycle with the base class below.
  if (/^s3:\/\//i.test(uri)) {
    const s3 = require('./s3-checkpoint-storage') as typeof import('./s3-checkpoint-storage');
    return s3.S3CheckpointStorage.fromUri(uri, options);
  }
  const local = require('./local-checkpoint-storage') as typeof import('./local-checkpoint-storage');
  const dir = local.localPathOf(uri);
  if (dir === undefined) {
    throw new FloeError(
      'INVALID_URI',
      `checkpoint storage ${JSON.stringify(uri)}: expected a directory path, file:PATH or s3://bucket/prefix`,
    );
  }
  return new local.LocalCheckpointStorage(dir, options);
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, lane));
  return results;
}

type FolderState =
  | { id: number; state: 'complete'; metadata: CheckpointMetadata }
  | { id: number; state: 'incomplete' }
  | { id: number; state: 'corrupt'; error: CheckpointError };

interface Scan {
  completed: CheckpointMetadata[];
  incomplete: number[];
  corrupt: number[];
}

/**
 * The contract on top of a few object-store primitives, which each backend
 * implements. Keys are relative to the root, '/'-separated: "chk-0000000007/kg-3".
 */
export abstract class BaseCheckpointStorage implements CheckpointStorage {
  protected readonly concurrency: number;
  protected readonly warn: (warning: CheckpointWarning) => void;

  protected constructor(
    readonly location: string,
    protected readonly options: CheckpointStorageOptions,
  ) {
    this.concurrency = options.concurrency ?? 8;
    this.warn =
      options.onWarning ??
      ((w) => process.emitWarning(w.message, { type: 'FloeCheckpointWarning', code: 'FLOE_CHECKPOINT' }));
  }

  /** The full location of a key, for messages. */
  protected abstract describe(key: string): string;
  /** Stores an object durably; readers never see it partially written. */
  protected abstract putObject(key: string, data: Buffer): Promise<void>;
  /** An object's content, or undefined when it does not exist. */
  protected abstract getObject(key: string): Promise<Buffer | undefined>;
  /** Names of the top-level folders. */
  protected abstract listFolders(): Promise<string[]>;
  /** Name -> size of the objects directly in a folder; empty when the folder does not exist. */
  protected abstract listFolder(folder: string): Promise<Map<string, number>>;
  /** Deletes objects of a folder; missing ones are no error. */
  protected abstract deleteObjects(folder: string, names: string[]): Promise<void>;
  /** Deletes a folder with everything in it. */
  protected abstract deleteFolder(folder: string): Promise<void>;
  /** Makes the folder's entries durable (a directory fsync); no-op for object stores. */
  protected abstract syncFolder(folder: string): Promise<void>;
  /** A checkpoint given as a path or URI: the storage of its root (this one or a sibling) and its id. */
  protected abstract resolveLocation(ref: string): { storage: BaseCheckpointStorage; id: number } | undefined;

  abstract close(): Promise<void>;

  async writeFile(checkpointId: number, name: string, data: Uint8Array): Promise<void> {
    const folder = checkpointDirName(checkpointId);
    assertDataFileName(name);
    await this.putObject(`${folder}/${name}`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  async readFile(checkpointId: number, name: string): Promise<Buffer> {
    const key = `${checkpointDirName(checkpointId)}/${name}`;
    if (name !== METADATA_FILE) assertDataFileName(name);
    const data = await this.getObject(key);
    if (data === undefined) {
      throw new CheckpointError(
        'missing',
        `checkpoint ${checkpointId}: ${this.describe(key)} does not exist`,
        {
          checkpointId,
          file: key,
        },
      );
    }
    return data;
  }

  async commit(metadata: CheckpointMetadata): Promise<void> {
    validateMetadata(metadata);
    const id = metadata.id;
    const folder = checkpointDirName(id);
    const fail = (problem: 'missing' | 'corrupt' | 'invalid', file: string, why: string): CheckpointError =>
      new CheckpointError(problem, `cannot commit checkpoint ${id}: ${this.describe(file)} ${why}`, {
        checkpointId: id,
        file,
      });

    const own = await this.listFolder(folder);
    if (own.has(METADATA_FILE))
      throw fail('invalid', `${folder}/${METADATA_FILE}`, 'exists: already committed');
    const listings = new Map<number, Map<string, number>>([[id, own]]);
    for (const f of metadata.sharedFiles) {
      if (!listings.has(f.checkpointId)) {
        listings.set(f.checkpointId, await this.listFolder(checkpointDirName(f.checkpointId)));
      }
    }
    for (const f of allDataFiles(metadata)) {
      const key = `${checkpointDirName(f.checkpointId)}/${f.name}`;
      const size = listings.get(f.checkpointId)?.get(f.name);
      const reused = f.checkpointId === id ? '' : ` (reused from checkpoint ${f.checkpointId})`;
      if (size === undefined) throw fail('missing', key, `does not exist${reused}`);
      if (size !== f.size)
        throw fail('corrupt', key, `is ${size} bytes, the metadata says ${f.size}${reused}`);
    }
    await this.syncFolder(folder);
    await this.putObject(`${folder}/${METADATA_FILE}`, serializeMetadata(metadata));
    await this.syncFolder(folder);
  }

  async listCompleted(): Promise<CheckpointMetadata[]> {
    return (await this.scan()).completed;
  }

  async latest(): Promise<CheckpointMetadata | undefined> {
    for (const id of await this.folderIds()) {
      const folder = await this.readFolderState(id);
      if (folder.state === 'complete') return folder.metadata;
      if (folder.state === 'corrupt') this.reportCorrupt(folder.error);
    }
    return undefined;
  }

  async load(idOrPath: number | string): Promise<LoadedCheckpoint> {
    const { storage, id } = this.resolve(idOrPath);
    return storage.loadById(id);
  }

  async loadLatest(): Promise<LoadedCheckpoint | undefined> {
    for (const metadata of await this.listCompleted()) {
      try {
        return await this.loadById(metadata.id);
      } catch (err) {
        if (!(err instanceof CheckpointError) || err.problem === 'io' || err.problem === 'invalid') throw err;
        this.warn({
          message: `${err.message}; falling back to an older checkpoint`,
          checkpointId: metadata.id,
          file: err.file,
          error: err,
        });
      }
    }
    return undefined;
  }

  async retain(n: number): Promise<RetainResult> {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new CheckpointError(
        'invalid',
        `retain: the number of checkpoints to keep must be >= 1, got ${n}`,
      );
    }
    const scan = await this.scan();
    let kept = 0;
    const retained: CheckpointMetadata[] = [];
    const doomed: CheckpointMetadata[] = [];
    for (const m of scan.completed) {
      if (m.kind === 'savepoint') retained.push(m);
      else if (kept < n) {
        retained.push(m);
        kept++;
      } else doomed.push(m);
    }
    const newest = scan.completed[0]?.id ?? 0;
    const stale = scan.incomplete.filter((id) => id < newest);
    const references = referencedFiles(retained);
    const keptReferenced: string[] = [];
    // Oldest first, so a crash part way leaves the newer ones whole.
    for (const id of [...doomed.map((m) => m.id), ...stale].sort((a, b) => a - b)) {
      const left = await this.removeFolder(id, references.get(id));
      keptReferenced.push(...left.map((name) => `${checkpointDirName(id)}/${name}`));
    }
    return {
      retained: retained.map((m) => m.id),
      deleted: doomed.map((m) => m.id),
      removedIncomplete: stale,
      keptReferenced,
    };
  }

  async delete(checkpointId: number): Promise<void> {
    assertCheckpointId(checkpointId);
    const others = (await this.scan()).completed.filter((m) => m.id !== checkpointId);
    await this.removeFolder(checkpointId, referencedFiles(others).get(checkpointId));
  }

  // -------------------------------------------------------------------------

  private resolve(idOrPath: number | string): { storage: BaseCheckpointStorage; id: number } {
    if (typeof idOrPath === 'number') {
      assertCheckpointId(idOrPath);
      return { storage: this, id: idOrPath };
    }
    if (/^\d+$/.test(idOrPath)) return this.resolve(Number(idOrPath));
    const byName = parseCheckpointDirName(idOrPath.replace(/\/$/, ''));
    if (byName !== undefined) return { storage: this, id: byName };
    const resolved = this.resolveLocation(idOrPath);
    if (resolved === undefined) {
      throw new CheckpointError(
        'invalid',
        `${JSON.stringify(idOrPath)} is not a checkpoint id, folder name (chk-0000000007) or path of a checkpoint folder`,
      );
    }
    return resolved;
  }

  protected async loadById(id: number): Promise<LoadedCheckpoint> {
    const folder = checkpointDirName(id);
    const metadataKey = `${folder}/${METADATA_FILE}`;
    const bytes = await this.getObject(metadataKey);
    if (bytes === undefined) {
      throw new CheckpointError(
        'missing',
        `checkpoint ${id}: ${this.describe(metadataKey)} does not exist (the checkpoint is incomplete or was deleted)`,
        { checkpointId: id, file: metadataKey },
      );
    }
    const metadata = parseMetadata(bytes, metadataKey, id, this.describe(metadataKey));
    const files = await mapLimit(allDataFiles(metadata), this.concurrency, async (f) => {
      const key = `${checkpointDirName(f.checkpointId)}/${f.name}`;
      const where = `checkpoint ${id}: data file ${this.describe(key)}${
        f.checkpointId === id ? '' : ` (reused from checkpoint ${f.checkpointId})`
      }`;
      const data = await this.getObject(key);
      if (data === undefined) {
        throw new CheckpointError('missing', `${where} does not exist`, { checkpointId: id, file: key });
      }
      if (data.length !== f.size) {
        throw new CheckpointError(
          'corrupt',
          `${where} is ${data.length} bytes, the metadata says ${f.size} (truncated or overwritten)`,
          { checkpointId: id, file: key },
        );
      }
      const crc = crc32Hex(data);
      if (crc !== f.crc32) {
        throw new CheckpointError(
          'corrupt',
          `${where} has CRC32 ${crc}, the metadata says ${f.crc32} (corrupt)`,
          {
            checkpointId: id,
            file: key,
          },
        );
      }
      return { ...f, data };
    });
    return { metadata, location: this.describe(folder), files };
  }

  private async folderIds(): Promise<number[]> {
    const ids = new Set<number>();
    for (const name of await this.listFolders()) {
      const id = parseCheckpointDirName(name);
      if (id !== undefined) ids.add(id);
    }
    return [...ids].sort((a, b) => b - a);
  }

  private async readFolderState(id: number): Promise<FolderState> {
    const key = `${checkpointDirName(id)}/${METADATA_FILE}`;
    const bytes = await this.getObject(key);
    if (bytes === undefined) return { id, state: 'incomplete' };
    try {
      return { id, state: 'complete', metadata: parseMetadata(bytes, key, id, this.describe(key)) };
    } catch (err) {
      if (err instanceof CheckpointError) return { id, state: 'corrupt', error: err };
      throw err;
    }
  }

  private reportCorrupt(error: CheckpointError): void {
    this.warn({
      message: `${error.message}; skipped`,
      checkpointId: error.checkpointId,
      file: error.file,
      error,
    });
  }

  private async scan(): Promise<Scan> {
    const states = await mapLimit(await this.folderIds(), this.concurrency, (id) => this.readFolderState(id));
    const scan: Scan = { completed: [], incomplete: [], corrupt: [] };
    for (const s of states) {
      if (s.state === 'complete') scan.completed.push(s.metadata);
      else if (s.state === 'incomplete') scan.incomplete.push(s.id);
      else {
        scan.corrupt.push(s.id);
        this.reportCorrupt(s.error);
      }
    }
    return scan;
  }

  /**
   * Uncommits a checkpoint (its `_metadata` goes first, so a crash part way
   * leaves an incomplete folder, never a committed one with files missing),
   * then deletes its files except `keep`. Returns the names kept.
   */
  private async removeFolder(id: number, keep: Set<string> | undefined): Promise<string[]> {
    const folder = checkpointDirName(id);
    await this.deleteObjects(folder, [METADATA_FILE]);
    if (keep === undefined || keep.size === 0) {
      await this.deleteFolder(folder);
      return [];
    }
    const names = [...(await this.listFolder(folder)).keys()];
    await this.deleteObjects(
      folder,
      names.filter((name) => !keep.has(name)),
    );
    return names.filter((name) => keep.has(name)).sort();
  }
}

/** Checkpoint id -> names of files in its folder that the given checkpoints need. */
function referencedFiles(checkpoints: CheckpointMetadata[]): Map<number, Set<string>> {
  const refs = new Map<number, Set<string>>();
  for (const m of checkpoints) {
    for (const f of allDataFiles(m)) {
      let names = refs.get(f.checkpointId);
      if (names === undefined) refs.set(f.checkpointId, (names = new Set()));
      names.add(f.name);
    }
  }
  return refs;
}

/** For backends: a path's last segment as a checkpoint folder, accepting a trailing `_metadata`. */
export function splitCheckpointPath(p: string, sep = '/'): { parent: string; id: number } | undefined {
  let trimmed = p.endsWith(sep) ? p.slice(0, -1) : p;
  if (trimmed.endsWith(`${sep}${METADATA_FILE}`)) trimmed = trimmed.slice(0, -METADATA_FILE.length - 1);
  const cut = trimmed.lastIndexOf(sep);
  const id = parseCheckpointDirName(trimmed.slice(cut + 1));
  if (id === undefined) return undefined;
  return { parent: cut < 0 ? '' : trimmed.slice(0, cut), id };
}
