/**
 * The local working directory of one run under --state-dir (Flink's
 * io.tmp.dirs / RocksDB local directory): disposable state on disk, rebuilt
 * from checkpoints on restore, never read by them. Each run gets
 * run-<pid>-<random> (so several jobs may share a --state-dir); a run that was
 * killed leaves its directory behind, and the next run removes the
 * directories of processes that no longer exist.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { FloeError } from '../runtime/errors';

export interface LocalStateDir {
  /** Absolute path of this run's directory (created). */
  readonly path: string;
  /** Deletes it; call when the run ends, however it ends. */
  remove(): Promise<void>;
}

const RUN_DIR = /^run-(\d+)-[0-9a-f]+$/;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openLocalStateDir(root: string): Promise<LocalStateDir> {
  const abs = path.resolve(root);
  try {
    await mkdir(abs, { recursive: true });
    for (const name of await readdir(abs)) {
      const m = RUN_DIR.exec(name);
      if (m !== null && !processExists(Number(m[1])))
        await rm(path.join(abs, name), { recursive: true, force: true });
    }
    const dir = path.join(abs, `run-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir);
    return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    throw new FloeError('INVALID_OPTION', `option state-dir: cannot use ${abs}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
