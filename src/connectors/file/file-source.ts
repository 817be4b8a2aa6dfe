import { promises as fsp, createReadStream } from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { OptionError, FloeError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type {
  ParsedUri,
  PlanContext,
  PollResult,
  SourceConnector,
  SplitDescriptor,
  SplitReader,
  SplitReaderContext,
} from '../contract';
import { fileSourceSchema, FileSplitConfig } from './file-options';
import { LineSplitter, SplitterOutput } from './line-splitter';

const READ_CHUNK = 1024 * 1024;
const INPUT_EXTENSIONS = ['.jsonl', '.json', '.ndjson', '.gz', '.txt'];

async function listInputFiles(target: string): Promise<string[]> {
  let stat;
  try {
    stat = await fsp.stat(target);
  } catch (err) {
    throw new FloeError('SOURCE_NOT_FOUND', `file source: cannot read ${target}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (stat.isFile()) return [target];
  const names = (await fsp.readdir(target)).filter((n) => INPUT_EXTENSIONS.some((e) => n.endsWith(e))).sort();
  if (names.length === 0)
    throw new FloeError(
      'SOURCE_NOT_FOUND',
      `file source: no ${INPUT_EXTENSIONS.join('/')} files in ${target}`,
    );
  return names.map((n) => path.join(target, n));
}

/**
 * Reads the lines that start in [start, end) of a plain file (Hadoop's rule):
 * a split that does not begin at 0 skips the line straddling its start, which
 * the previous split finishes even past its own end.
 */
class RangeReader implements SplitReader {
  private fd: fsp.FileHandle | null = null;
  private pos: number;
  /** Offset of the first byte not yet handed out as part of a complete line. */
  private lineStart: number;
  private done = false;
  private readonly splitter: LineSplitter;
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);

  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: FileSplitConfig,
    context: SplitReaderContext,
  ) {
    this.pos = cfg.start;
    this.lineStart = cfg.start;
    this.splitter = new LineSplitter(context.maxRecordBytes);
  }

  private async open(): Promise<fsp.FileHandle> {
    const fd = await fsp.open(this.cfg.path, 'r');
    if (this.cfg.start > 0) {
      // Skip the line straddling our start: find the first newline at or after start - 1.
      let at = this.cfg.start - 1;
      for (;;) {
        const { bytesRead } = await fd.read(this.buffer, 0, READ_CHUNK, at);
        if (bytesRead === 0) {
          this.done = true;
          break;
        }
        const nl = this.buffer.subarray(0, bytesRead).indexOf(10);
        if (nl !== -1) {
          this.pos = at + nl + 1;
          break;
        }
        at += bytesRead;
      }
      this.lineStart = this.pos;
    }
    return fd;
  }

  async poll(maxRecords: number): Promise<PollResult> {
    if (this.done) return 'end';
    if (this.fd === null) this.fd = await this.open();
    if (this.done || this.lineStart >= this.cfg.end) {
      this.done = true;
      return 'end';
    }
    const out: SplitterOutput = { lines: [], oversize: [] };
    while (out.lines.length + out.oversize.length < maxRecords && this.lineStart < this.cfg.end) {
      // Never read far past our end: at most the chunk that finishes the last line.
      const { bytesRead } = await this.fd.read(this.buffer, 0, READ_CHUNK, this.pos);
      if (bytesRead === 0) {
        this.splitter.finish(out);
        this.done = true;
        break;
      }
      let chunk = this.buffer.subarray(0, bytesRead);
      // Cut the chunk after the first newline at or beyond our end, so the next split's lines stay its own.
      const endRel = this.cfg.end - this.pos;
      if (endRel <= bytesRead) {
        const nl = chunk.indexOf(10, Math.max(0, endRel - 1));
        if (nl !== -1) {
          chunk = chunk.subarray(0, nl + 1);
          this.done = true;
        }
      }
      this.splitter.push(chunk, out);
      this.pos += chunk.length;
      this.lineStart = this.pos - this.splitter.pendingBytes();
      if (this.done) break;
    }
    return out;
  }

  position(): unknown {
    return { offset: this.lineStart };
  }

  stop(): void {
    this.done = true;
  }

  async close(): Promise<void> {
    await this.fd?.close();
    this.fd = null;
  }
}

/** A whole gzip file, streamed; gzip cannot be entered mid-way, so it is one split. */
class GzipReader implements SplitReader {
  private iterator: AsyncIterator<Buffer> | null = null;
  private done = false;
  private linesRead = 0;
  private readonly splitter: LineSplitter;
  private carry: string[] = [];
  private carryOversize: { prefix: string; bytes: number }[] = [];

  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: FileSplitConfig,
    context: SplitReaderContext,
  ) {
    this.splitter = new LineSplitter(context.maxRecordBytes);
  }

  async poll(maxRecords: number): Promise<PollResult> {
    if (this.done && this.carry.length === 0 && this.carryOversize.length === 0) return 'end';
    if (this.iterator === null) {
      const stream = createReadStream(this.cfg.path, { highWaterMark: READ_CHUNK }).pipe(createGunzip());
      this.iterator = stream[Symbol.asyncIterator]();
    }
    const out: SplitterOutput = { lines: this.carry, oversize: this.carryOversize };
    while (!this.done && out.lines.length + out.oversize.length < maxRecords) {
      const next = await this.iterator.next();
      if (next.done) {
        this.splitter.finish(out);
        this.done = true;
      } else {
        this.splitter.push(next.value, out);
      }
    }
    // Hand out at most maxRecords; keep the rest for the next poll.
    this.carry = out.lines.splice(maxRecords);
    this.carryOversize = out.oversize.splice(Math.max(0, maxRecords - out.lines.length));
    this.linesRead += out.lines.length + out.oversize.length;
    return out;
  }

  position(): unknown {
    return { line: this.linesRead };
  }

  stop(): void {
    this.done = true;
    this.carry = [];
    this.carryOversize = [];
  }

  async close(): Promise<void> {
    await this.iterator?.return?.();
  }
}

export const fileSource: SourceConnector = {
  scheme: 'file',
  usage:
    'file:PATH  JSON lines (.jsonl, .json, .ndjson, .txt; .gz decompressed) from a file or every such file in a folder; bounded',

  async planSplits(uri: ParsedUri, _context: PlanContext): Promise<SplitDescriptor[]> {
    if (uri.path === '') throw new OptionError('source', 'file source needs a path: file:PATH');
    const opts = parseOptions(fileSourceSchema, uri.params, 'file');
    const files = await listInputFiles(uri.path);
    const splits: SplitDescriptor[] = [];
    for (const file of files) {
      const size = (await fsp.stat(file)).size;
      const name = path.basename(file);
      if (file.endsWith('.gz')) {
        splits.push({
          id: `file:${name}`,
          connector: 'file',
          bounded: true,
          config: { path: file, start: 0, end: size, gzip: true },
        });
        continue;
      }
      const pieces = Math.max(1, Math.ceil(size / opts['split-size']));
      for (let i = 0; i < pieces; i++) {
        const start = Math.floor((size * i) / pieces);
        const end = Math.floor((size * (i + 1)) / pieces);
        const cfg: FileSplitConfig = { path: file, start, end, gzip: false };
        splits.push({ id: `file:${name}@${start}`, connector: 'file', bounded: true, config: cfg });
      }
    }
    return splits;
  },

  createReader(split: SplitDescriptor, context: SplitReaderContext): SplitReader {
    const cfg = split.config as FileSplitConfig;
    return cfg.gzip ? new GzipReader(split, cfg, context) : new RangeReader(split, cfg, context);
  },
};
