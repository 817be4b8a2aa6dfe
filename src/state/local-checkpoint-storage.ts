import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from './checkpoint-metadata';
import {
  BaseCheckpointStorage,
  splitCheckpointPath,
  type CheckpointStorageOptions,
} from './checkpoint-storage';

/** Errors worth retrying on a local file system (resource exhaustion, interrupted calls). */
const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT']);

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/**
 * The directory of a local checkpoint storage URI: a plain path, `file:PATH`
 * or `file:///abs/path`; undefined for any other scheme (e.g. s3://).
 */
export function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file://')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return undefined;
    }
  }
  if (uri.startsWith('file:')) return uri.slice('file:'.length) || undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || uri === '') return undefined;
  return uri;
}

/**
 * Checkpoints in a local (or mounted) directory. Every file is written to a
 * temporary name, fsynced and renamed, so a reader never sees a partial file
 * under its real name; commit fsyncs the folder before and after `_metadata`
 * is renamed into place, so once commit returns the checkpoint is durable.
 */
export class LocalCheckpointStorage extends BaseCheckpointStorage {
  readonly root: string;

  constructor(dir: string, options: CheckpointStorageOptions = {}) {
    const root = path.resolve(dir);
    super(root, options);
    this.root = root;
  }

  protected describe(key: string): string {
    return path.join(this.root, key);
  }

  private ioError(op: string, key: string, err: unknown): CheckpointError {
    const code = errnoOf(err);
    return new CheckpointError('io', `cannot ${op} ${this.describe(key)}: ${(err as Error).message}`, {
      file: key,
      retriable: code !== undefined && TRANSIENT.has(code),
      cause: err,
    });
  }

  protected async putObject(key: string, data: Buffer): Promise<void> {
    const target = this.describe(key);
    const dir = path.dirname(target);
    const tmp = path.join(
      dir,
      `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      await this.ensureDir(dir);
      const fh = await fs.open(tmp, 'wx');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw this.ioError('write', key, err);
    }
  }

  /** mkdir -p, then fsyncs the parents whose entries changed, so the new folders survive a crash. */
  private async ensureDir(dir: string): Promise<void> {
    const created = await fs.mkdir(dir, { recursive: true });
    if (created === undefined) return;
    for (let d = dir; ; d = path.dirname(d)) {
      await fsyncDir(path.dirname(d));
      if (d === created || path.dirname(d) === d) break;
    }
  }

  protected async getObject(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.describe(key));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw this.ioError('read', key, err);
    }
  }

  protected async listFolders(): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw this.ioError('list', '', err);
    }
  }

  protected async listFolder(folder: string): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    try {
      const entries = await fs.readdir(this.describe(folder), { withFileTypes: true });
      for (const e of entries) {
        if (!e.isFile()) continue;
        try {
          sizes.set(e.name, (await fs.stat(path.join(this.describe(folder), e.name))).size);
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw err; // deleted meanwhile
        }
      }
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return sizes;
      throw this.ioError('list', folder, err);
    }
    return sizes;
  }

  protected async deleteObjects(folder: string, names: string[]): Promise<void> {
    for (const name of names) {
      const key = `${folder}/${name}`;
      try {
        await fs.unlink(this.describe(key));
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw this.ioError('delete', key, err);
      }
    }
  }

  protected async deleteFolder(folder: string): Promise<void> {
    try {
      await fs.rm(this.describe(folder), { recursive: true, force: true });
    } catch (err) {
      throw this.ioError('delete', folder, err);
    }
  }

  protected async syncFolder(folder: string): Promise<void> {
    try {
      await fsyncDir(this.describe(folder));
    } catch (err) {
      throw this.ioError('sync', folder, err);
    }
  }

  protected resolveLocation(ref: string): { storage: BaseCheckpointStorage; id: number } | undefined {
    const p = localPathOf(ref);
    if (p === undefined) return undefined;
    const split = splitCheckpointPath(path.resolve(p), path.sep);
    if (split === undefined) return undefined;
    const root = split.parent || path.sep;
    const storage = root === this.root ? this : new LocalCheckpointStorage(root, this.options);
    return { storage, id: split.id };
  }

  async close(): Promise<void> {}
}

/** fsync of a directory, so renames and new entries in it are durable; skipped where unsupported. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(dir, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    // Some platforms and file systems cannot fsync a directory.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errnoOf(err) ?? '')) throw err;
  } finally {
    await fh.close();
  }
}
