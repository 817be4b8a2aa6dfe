import { promises as fsp, createReadStream, readSync } from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { OptionError, FloeError } from '../../runtime/errors';
import { parseOptions } from '../../runtime/options';
import type {
  ParsedUri,
  PlanContext,
  PollResult,
  RawRecords,
  SourceConnector,
  SplitDescriptor,
  SplitReader,
  SplitReaderContext,
} from '../contract';
import { rawRecordBatch } from '../contract';
import { fileSourceSchema, FileSplitConfig } from './file-options';
import { LineSplitter, recordCount, SplitterOutput } from './line-splitter';

const READ_CHUNK = 1024 * 1024;
/**
 * Reads of plain files: smaller than READ_CHUNK because a reader holds the
 * buffer its unread rest is in while the other splits take their turns, and
 * a batch that crosses a read holds two: ~33 splits of 256 KB reads keep
 * less memory than the 1 MB each they used to.
 */
const RAW_READ_CHUNK = 256 * 1024;
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
 * Read buffers free for reuse, shared by this thread's readers (the source
 * runner polls one at a time): a raw batch's ranges are dead by the reader's
 * next poll, so its buffers come back here then, except the one holding the
 * reader's unread rest. About one buffer per open reader is in use, as
 * before raw batches.
 */
const freeBuffers: Buffer[] = [];
/**
 * Enough for every reader's spare when the splits, read in turn at the same
 * pace, all cross a read in the same round: a buffer dropped instead is
 * external memory that waits for a full GC (measured: +65 MB peak RSS).
 */
const MAX_FREE_BUFFERS = 128;

function takeBuffer(): Buffer {
  return freeBuffers.pop() ?? Buffer.allocUnsafeSlow(RAW_READ_CHUNK);
}

function giveBack(buffer: Buffer): void {
  if (freeBuffers.length < MAX_FREE_BUFFERS) freeBuffers.push(buffer);
}

/**
 * Reads the lines that start in [start, end) of a plain file (Hadoop's rule):
 * a split that does not begin at 0 skips the line straddling its start, which
 * the previous split finishes even past its own end.
 */
class RangeReader implements SplitReader {
  /**
   * The reader of this thread that polled last: its batch's buffers go back
   * to the pool at the next poll of any reader, not only at its own next turn
   * (after all the thread's other splits): that held ~2.7 read buffers per
   * split instead of ~1, ~10 MB a worker at 24 splits.
   */
  private static lastPolled: RangeReader | null = null;
  private fd: fsp.FileHandle | null = null;
  /**
   * The file opened (and our first line found) from construction on: a
   * worker polls its splits in turn, and awaiting each open in line left it
   * idle at the start. (Reading the next chunk ahead as well cost a buffer
   * per split, ~15 MB a worker at 1e6 topics, for no measurable gain.)
   */
  private readonly opening: Promise<fsp.FileHandle>;
  /** File offset of the byte after the held chunk. */
  private pos: number;
  /** The unconsumed part of the last read, kept for the next poll. */
  private held: Buffer | null = null;
  private eof = false;
  private done = false;
  private readonly splitter: LineSplitter;
  /** The read buffer `held` is part of. */
  private heldBuffer: Buffer | null = null;
  /** Buffers whose ranges the last poll handed out (and heldBuffer): back to the pool at the next poll. */
  private lent: Buffer[] = [];

  /** `resumeAt`: a line start recorded by position(); reading continues there. */
  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: FileSplitConfig,
    context: SplitReaderContext,
    private readonly resumeAt?: number,
  ) {
    this.pos = resumeAt ?? cfg.start;
    this.splitter = new LineSplitter(context.maxRecordBytes, this.pos === 0, true);
    this.opening = this.open();
    // Awaited by the first poll, or by close(); a reader closed unpolled must not leave a rejection unhandled.
    this.opening.catch(() => undefined);
  }

  private async open(): Promise<fsp.FileHandle> {
    const fd = await fsp.open(this.cfg.path, 'r');
    if (this.resumeAt === undefined && this.cfg.start > 0) {
      // Skip the line straddling our start: find the first newline at or after start - 1.
      let at = this.cfg.start - 1;
      // Lines are short: a small read usually finds the newline.
      const buffer = Buffer.allocUnsafe(4096);
      for (;;) {
        const { bytesRead } = await fd.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) {
          this.done = true;
          break;
        }
        const nl = buffer.subarray(0, bytesRead).indexOf(10);
        if (nl !== -1) {
          this.pos = at + nl + 1;
          // Our first whole line starts at or past our end (one line spans the split): nothing is ours.
          if (this.pos >= this.cfg.end) this.done = true;
          break;
        }
        at += bytesRead;
      }
    }
    return fd;
  }

  /** Offset of the first byte not yet handed out as part of a complete line. */
  private lineStart(): number {
    return this.pos - (this.held?.length ?? 0) - this.splitter.pendingBytes();
  }

  /**
   * The next chunk and the read buffer it is in, cut after the first newline
   * at or beyond our end so the next split keeps its lines; null at the end.
   */
  private nextChunk(fd: fsp.FileHandle): { bytes: Buffer; buffer: Buffer } | null {
    if (this.eof) return null;
    const buffer = takeBuffer();
    // A blocking read, on purpose: this thread is a worker that only runs its stages, and the copy
    // then lands in the cache of the core that scans it next. An asynchronous read ran on libuv's
    // pool thread, on the other core, and woke this loop once per chunk: measured 1M tweets, p=1
    // 8% and p=2 3% more wall and CPU time (bench/FASTPATH.md, session 10). The cost is that a slow
    // disk stalls this worker's other stages for the length of one read.
    const bytesRead = readSync(fd.fd, buffer, 0, RAW_READ_CHUNK, this.pos);
    if (bytesRead === 0) {
      giveBack(buffer);
      this.eof = true;
      return null;
    }
    // A buffer of its own per chunk within a poll: the batch hands out ranges of each (RecordBatch.raw).
    this.lent.push(buffer);
    let bytes = buffer.subarray(0, bytesRead);
    const endRel = this.cfg.end - this.pos;
    if (endRel <= bytesRead) {
      const nl = bytes.indexOf(10, Math.max(0, endRel - 1));
      if (nl !== -1) {
        bytes = bytes.subarray(0, nl + 1);
        this.eof = true;
      }
    }
    this.pos += bytes.length;
    return { bytes, buffer };
  }

  /** Hands the buffers of the previous poll back to the pool, but the one the unread rest is in. */
  private release(): void {
    for (const b of this.lent) if (b !== this.heldBuffer) giveBack(b);
    this.lent = this.heldBuffer === null ? [] : [this.heldBuffer];
  }

  async poll(maxRecords: number): Promise<PollResult> {
    // The last batch of this thread is handled by now, whichever split it came from (see RecordBatch.raw).
    const last = RangeReader.lastPolled;
    if (last !== null && last !== this) last.release();
    RangeReader.lastPolled = this;
    this.release();
    if (this.fd === null) this.fd = await this.opening;
    if (this.done) return 'end';
    const out: SplitterOutput = { lines: [], oversize: [], raw: { buffers: [], starts: [], ends: [] } };
    while (!this.done && recordCount(out) < maxRecords) {
      let chunk = this.held;
      let buffer = this.heldBuffer;
      if (chunk === null) {
        const next = this.nextChunk(this.fd);
        chunk = next?.bytes ?? null;
        buffer = next?.buffer ?? null;
      }
      this.held = null;
      this.heldBuffer = null;
      if (chunk === null) {
        this.splitter.finish(out);
        this.done = true;
        break;
      }
      const used = this.splitter.push(chunk, out, maxRecords);
      if (used < chunk.length) {
        this.held = chunk.subarray(used);
        this.heldBuffer = buffer;
      }
    }
    if (recordCount(out) === 0 && this.done) return 'end';
    return rawRecordBatch(out.raw as RawRecords, out.oversize);
  }

  position(): unknown {
    return { offset: this.lineStart() };
  }

  stop(): void {
    this.done = true;
  }

  async close(): Promise<void> {
    const fd = this.fd ?? (await this.opening.catch(() => null));
    await fd?.close();
    this.fd = null;
    // Closed after its last batch was handled (or on shutdown): nothing of its buffers is in use.
    this.held = null;
    this.heldBuffer = null;
    this.release();
    if (RangeReader.lastPolled === this) RangeReader.lastPolled = null;
  }
}

/** A whole gzip file, streamed; gzip cannot be entered mid-way, so it is one split. */
class GzipReader implements SplitReader {
  private iterator: AsyncIterator<Buffer> | null = null;
  private held: Buffer | null = null;
  private done = false;
  private recordsRead = 0;
  private readonly splitter: LineSplitter;

  /** `skipRecords`: records already handed out before a restore (gzip cannot seek). */
  constructor(
    readonly split: SplitDescriptor,
    private readonly cfg: FileSplitConfig,
    context: SplitReaderContext,
    private skipRecords = 0,
  ) {
    this.splitter = new LineSplitter(context.maxRecordBytes);
  }

  async poll(maxRecords: number): Promise<PollResult> {
    if (this.done) return 'end';
    if (this.iterator === null) {
      const stream = createReadStream(this.cfg.path, { highWaterMark: READ_CHUNK }).pipe(createGunzip());
      this.iterator = stream[Symbol.asyncIterator]();
    }
    while (this.skipRecords > 0) {
      const skipped = await this.readRecords(Math.min(this.skipRecords, 10_000));
      const n = skipped.lines.length + skipped.oversize.length;
      this.skipRecords -= n;
      this.recordsRead += n;
      if (n === 0) return 'end';
    }
    const out = await this.readRecords(maxRecords);
    this.recordsRead += out.lines.length + out.oversize.length;
    if (out.lines.length === 0 && out.oversize.length === 0 && this.done) return 'end';
    return out;
  }

  private async readRecords(maxRecords: number): Promise<SplitterOutput> {
    const iterator = this.iterator as AsyncIterator<Buffer>;
    const out: SplitterOutput = { lines: [], oversize: [] };
    while (!this.done && out.lines.length + out.oversize.length < maxRecords) {
      let chunk = this.held;
      this.held = null;
      if (chunk === null) {
        const next = await iterator.next();
        if (next.done) {
          this.splitter.finish(out);
          this.done = true;
          break;
        }
        chunk = next.value;
      }
      const used = this.splitter.push(chunk, out, maxRecords);
      if (used < chunk.length) this.held = chunk.subarray(used);
    }
    return out;
  }

  /** Records handed out so far: a restore re-reads the stream and skips them. */
  position(): unknown {
    return { records: this.recordsRead };
  }

  stop(): void {
    this.done = true;
  }

  async close(): Promise<void> {
    await this.iterator?.return?.();
  }
}

/**
 * How many byte ranges a plain file of `size` bytes is cut into: about
 * `splitSize` each, and when more than one, a multiple of 12. Splits are dealt
 * to workers in turn, so 33 of them would give one of two workers 17 and keep
 * the other idle for the last 6% of the run; 12 divides evenly by 1, 2, 3,
 * 4, 6 and 12 workers. It does not depend on the parallelism, so a job can
 * be restored at another one (positions are kept by split).
 */
export function piecesOf(size: number, splitSize: number): number {
  const pieces = Math.ceil(size / splitSize);
  return pieces <= 1 ? 1 : Math.ceil(pieces / PIECES_MULTIPLE) * PIECES_MULTIPLE;
}
const PIECES_MULTIPLE = 12;

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
          alignable: true,
          config: { path: file, start: 0, end: size, gzip: true },
        });
        continue;
      }
      const pieces = piecesOf(size, opts['split-size']);
      for (let i = 0; i < pieces; i++) {
        const start = Math.floor((size * i) / pieces);
        const end = Math.floor((size * (i + 1)) / pieces);
        const cfg: FileSplitConfig = { path: file, start, end, gzip: false };
        splits.push({
          id: `file:${name}@${start}`,
          connector: 'file',
          bounded: true,
          alignable: true,
          config: cfg,
        });
      }
    }
    return splits;
  },

  createReader(split: SplitDescriptor, context: SplitReaderContext, position?: unknown): SplitReader {
    const cfg = split.config as FileSplitConfig;
    const at = position as { offset?: number; records?: number } | undefined;
    return cfg.gzip
      ? new GzipReader(split, cfg, context, at?.records ?? 0)
      : new RangeReader(split, cfg, context, at?.offset);
  },
};
