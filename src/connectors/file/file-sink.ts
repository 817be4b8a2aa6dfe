import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OptionError, FloeError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type { OutputKind, ParsedUri, SinkConnector, SinkWriter } from '../contract';
import { fileSinkSchema } from './file-options';

const KINDS: OutputKind[] = ['counts', 'trends', 'dead-letter'];
const STAGING = '.staging';

interface OpenFile {
  stream: WriteStream;
  bytes: number;
  seq: number;
  /** Part files this one rolled past, still flushing: a pre-commit or close is not done until they are. */
  rolled: Set<Promise<void>>;
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) =>
    stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/** Resolves once every part file of this kind and epoch is in the file system. */
async function finish(f: OpenFile): Promise<void> {
  await Promise.all([...f.rolled, endStream(f.stream)]);
}

/** Ends f's stream in the background; finish(f) waits for it. */
function keepEnding(f: OpenFile): void {
  // The 'error' listener records a failure, which the pre-commit or close that waits for this reports.
  const ending: Promise<void> = endStream(f.stream)
    .catch(() => undefined)
    .then(() => void f.rolled.delete(ending));
  f.rolled.add(ending);
}

const epochName = (epoch: number): string => `epoch-${String(epoch).padStart(10, '0')}`;

/**
 * JSON lines under DIR/counts/, DIR/trends/ and DIR/dead-letter/.
 *
 * Without checkpoints each run writes its own part files (named by run id and
 * sequence), so a new run never clobbers an earlier one's output. With
 * checkpoints, epoch n is staged under DIR/.staging/epoch-n/ and committed by
 * renaming its files to DIR/<kind>/part-e<n>-<seq>.jsonl: a rename is atomic,
 * and committing an epoch whose staged files are gone changes nothing.
 */
class FileSinkWriter implements SinkWriter {
  readonly transactional = true;
  private readonly open = new Map<string, OpenFile>();
  private failure: Error | null = null;

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly rollSize: number,
  ) {
    for (const kind of KINDS) mkdirSync(path.join(dir, kind), { recursive: true });
  }

  private fileFor(kind: OutputKind, seq: number, epoch: number | undefined): string {
    if (epoch === undefined) {
      return path.join(this.dir, kind, `part-${this.runId}-${String(seq).padStart(5, '0')}.jsonl`);
    }
    return path.join(this.dir, STAGING, epochName(epoch), `${kind}-${String(seq).padStart(5, '0')}.jsonl`);
  }

  private start(kind: OutputKind, seq: number, epoch: number | undefined): WriteStream {
    const file = this.fileFor(kind, seq, epoch);
    if (epoch !== undefined) mkdirSync(path.dirname(file), { recursive: true });
    // A staged file may be left over from a crashed run's same epoch: replace it.
    const stream = createWriteStream(file, { flags: epoch === undefined ? 'wx' : 'w' });
    stream.on('error', (err) => {
      this.failure = err;
    });
    return stream;
  }

  write(kind: OutputKind, lines: string, epoch?: number): void {
    this.append(kind, lines, lines.length, epoch);
  }

  writeBytes(
    kind: OutputKind,
    bytes: Uint8Array,
    length: number,
    epoch: number | undefined,
    written: () => void,
  ): void {
    this.append(kind, bytes, length, epoch, written);
  }

  /** `length`: in UTF-16 code units, which roll-size has always counted (so part files end where they did). */
  private append(
    kind: OutputKind,
    lines: string | Uint8Array,
    length: number,
    epoch: number | undefined,
    written?: () => void,
  ): void {
    if (this.failure)
      throw new FloeError('SINK_IO', `file sink: ${this.failure.message}`, { cause: this.failure });
    if (length === 0) {
      written?.();
      return;
    }
    const key = `${epoch ?? ''}/${kind}`;
    let f = this.open.get(key);
    if (f === undefined) {
      f = { stream: this.start(kind, 0, epoch), bytes: 0, seq: 0, rolled: new Set() };
      this.open.set(key, f);
    } else if (f.bytes >= this.rollSize) {
      keepEnding(f);
      f.seq++;
      f.stream = this.start(kind, f.seq, epoch);
      f.bytes = 0;
    }
    // The stream calls back once the chunk is in the file (or with the error that failed it).
    f.stream.write(lines, written === undefined ? undefined : () => written());
    f.bytes += length;
  }

  async preCommit(epoch: number): Promise<void> {
    const prefix = `${epoch}/`;
    const closing = [...this.open.entries()].filter(([key]) => key.startsWith(prefix));
    for (const [key] of closing) this.open.delete(key);
    await Promise.all(closing.map(([, f]) => finish(f)));
    if (this.failure)
      throw new FloeError('SINK_IO', `file sink: ${this.failure.message}`, { cause: this.failure });
    // An epoch with no output still gets its (empty) staging folder, so commit knows it was pre-committed.
    await fsp.mkdir(path.join(this.dir, STAGING, epochName(epoch)), { recursive: true });
  }

  async commit(epoch: number): Promise<void> {
    const staged = path.join(this.dir, STAGING, epochName(epoch));
    let names: string[];
    try {
      names = await fsp.readdir(staged);
    } catch {
      return; // already committed
    }
    for (const name of names) {
      const m = /^(counts|trends|dead-letter)-(\d+)\.jsonl$/.exec(name);
      if (m === null) continue;
      const target = path.join(this.dir, m[1], `part-e${String(epoch).padStart(10, '0')}-${m[2]}.jsonl`);
      await fsp.rename(path.join(staged, name), target);
      // Fault injection for tests (FLOE_CRASH_AT=mid-commit:<n>, see checkpoint-coordinator.ts): die with the commit half done.
      const crash = /^mid-commit:(\d+)$/.exec(process.env.FLOE_CRASH_AT ?? '');
      if (crash !== null && epoch >= Number(crash[1])) process.kill(process.pid, 'SIGKILL');
    }
    await fsp.rm(staged, { recursive: true, force: true });
  }

  async recover(epoch: number): Promise<void> {
    const stagingRoot = path.join(this.dir, STAGING);
    const staged = await fsp.readdir(stagingRoot).catch(() => [] as string[]);
    for (const name of staged.sort()) {
      const m = /^epoch-(\d+)$/.exec(name);
      if (m === null) continue;
      const e = Number(m[1]);
      if (e <= epoch) await this.commit(e);
      else await fsp.rm(path.join(stagingRoot, name), { recursive: true, force: true });
    }
    for (const kind of KINDS) {
      for (const name of await fsp.readdir(path.join(this.dir, kind))) {
        const m = /^part-e(\d+)-\d+\.jsonl$/.exec(name);
        if (m !== null && Number(m[1]) > epoch)
          await fsp.rm(path.join(this.dir, kind, name), { force: true });
      }
    }
  }

  async close(): Promise<void> {
    const files = [...this.open.values()];
    this.open.clear();
    await Promise.all(files.map(finish));
    if (this.failure)
      throw new FloeError('SINK_IO', `file sink: ${this.failure.message}`, { cause: this.failure });
  }

  describe(): string {
    return `file:${this.dir}`;
  }
}

export function runId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('.', '');
}

export const fileSink: SinkConnector = {
  scheme: 'file',
  usage:
    'file:DIR  JSON lines in DIR/counts/, DIR/trends/, DIR/dead-letter/ (with checkpoints: staged per epoch, committed when its checkpoint completes)',
  async open(uri: ParsedUri): Promise<SinkWriter> {
    if (uri.path === '') throw new OptionError('sink', 'file sink needs a folder: file:DIR');
    const opts = parseOptions(fileSinkSchema, uri.params, 'file');
    return new FileSinkWriter(uri.path, runId(), opts['roll-size']);
  },
};
