import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import * as path from 'node:path';
import { OptionError, FloeError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type { OutputKind, ParsedUri, SinkConnector, SinkWriter } from '../contract';
import { fileSinkSchema } from './file-options';

const KINDS: OutputKind[] = ['counts', 'trends', 'dead-letter'];

/**
 * JSON lines under DIR/counts/, DIR/trends/ and DIR/dead-letter/. Each run
 * writes its own part files (named by run id and sequence) so a new run never
 * clobbers an earlier one's output.
 */
class FileSinkWriter implements SinkWriter {
  private readonly streams = new Map<OutputKind, { stream: WriteStream; bytes: number; seq: number }>();
  private failure: Error | null = null;

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly rollSize: number,
  ) {
    for (const kind of KINDS) mkdirSync(path.join(dir, kind), { recursive: true });
  }

  private open(kind: OutputKind, seq: number): WriteStream {
    const file = path.join(this.dir, kind, `part-${this.runId}-${String(seq).padStart(5, '0')}.jsonl`);
    const stream = createWriteStream(file, { flags: 'wx' });
    stream.on('error', (err) => {
      this.failure = err;
    });
    return stream;
  }

  write(kind: OutputKind, lines: string): void {
    if (this.failure)
      throw new FloeError('SINK_IO', `file sink: ${this.failure.message}`, { cause: this.failure });
    if (lines.length === 0) return;
    let entry = this.streams.get(kind);
    if (entry === undefined) {
      entry = { stream: this.open(kind, 0), bytes: 0, seq: 0 };
      this.streams.set(kind, entry);
    } else if (entry.bytes >= this.rollSize) {
      entry.stream.end();
      entry.seq++;
      entry.stream = this.open(kind, entry.seq);
      entry.bytes = 0;
    }
    entry.stream.write(lines);
    entry.bytes += lines.length;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.streams.values()].map(
        ({ stream }) =>
          new Promise<void>((resolve, reject) => {
            stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
          }),
      ),
    );
    this.streams.clear();
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
  usage: 'file:DIR  JSON lines in DIR/counts/, DIR/trends/, DIR/dead-letter/ (one set of part files per run)',
  async open(uri: ParsedUri): Promise<SinkWriter> {
    if (uri.path === '') throw new OptionError('sink', 'file sink needs a folder: file:DIR');
    const opts = parseOptions(fileSinkSchema, uri.params, 'file');
    return new FileSinkWriter(uri.path, runId(), opts['roll-size']);
  },
};
