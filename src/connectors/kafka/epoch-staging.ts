import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FloeError } from '../../runtime/errors';
import type { OutputKind } from '../contract';

/** One output record of an epoch: its kind and one JSON line (no terminator). */
export interface StagedRecord {
  kind: OutputKind;
  line: string;
}

const KINDS: readonly OutputKind[] = ['counts', 'trends', 'dead-letter'];
const fileName = (epoch: number): string => `epoch-${String(epoch).padStart(10, '0')}.staged`;

/**
 * Durable copies of epochs between pre-commit and commit, one file per epoch
 * ("kind<TAB>line" per record), written to a temporary name, fsynced and
 * renamed, so a file that exists is complete. Epochs without output get no file.
 */
export class EpochStaging {
  constructor(readonly dir: string) {}

  async write(epoch: number, records: StagedRecord[]): Promise<void> {
    if (records.length === 0) return;
    await fsp.mkdir(this.dir, { recursive: true });
    const target = path.join(this.dir, fileName(epoch));
    const tmp = `${target}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      let chunk = '';
      for (const r of records) {
        chunk += `${r.kind}\t${r.line}\n`;
        if (chunk.length > 1 << 20) {
          await fh.write(chunk);
          chunk = '';
        }
      }
      await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, target);
    const d = await fsp.open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  /** The staged records of `epoch`; undefined when none are staged (empty, or already committed). */
  async read(epoch: number): Promise<StagedRecord[] | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(path.join(this.dir, fileName(epoch)), 'utf8');
    } catch {
      return undefined;
    }
    const out: StagedRecord[] = [];
    for (const row of text.split('\n')) {
      if (row === '') continue;
      const tab = row.indexOf('\t');
      const kind = row.slice(0, tab) as OutputKind;
      if (tab === -1 || !KINDS.includes(kind))
        throw new FloeError('SINK_IO', `kafka sink: staged epoch ${epoch} in ${this.dir} is damaged`);
      out.push({ kind, line: row.slice(tab + 1) });
    }
    return out;
  }

  /** Epochs with a staged file, ascending. */
  async epochs(): Promise<number[]> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((n) => /^epoch-(\d+)\.staged$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  async remove(epoch: number): Promise<void> {
    await fsp.rm(path.join(this.dir, fileName(epoch)), { force: true });
  }
}
