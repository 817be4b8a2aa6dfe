import type { RawRecords } from '../contract';

/**
 * Cuts a byte stream into lines. A line longer than maxRecordBytes is not
 * buffered whole: its first bytes are kept for the dead-letter report and the
 * rest is skipped up to the next newline, so one bad line cannot exhaust memory.
 * Blank lines (only whitespace) are skipped; a UTF-8 byte order mark before
 * the first line is dropped.
 */
export interface SplitterOutput {
  lines: string[];
  oversize: { prefix: string; bytes: number }[];
  /**
   * Where a raw splitter puts its lines instead of `lines`: byte ranges of
   * the chunks pushed (which must not be overwritten while these are in use).
   */
  raw?: RawRecords;
}

/** Records in `out` so far, in either form. */
export function recordCount(out: SplitterOutput): number {
  return out.lines.length + (out.raw?.starts.length ?? 0) + out.oversize.length;
}

const PREFIX_BYTES = 1024;

function isBlank(line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim().length === 0);
}

export class LineSplitter {
  private pending: Buffer | null = null;
  /** Bytes of the current over-long line seen so far; -1 when not skipping. */
  private skipped = -1;
  private skippedPrefix = '';
  private atStart: boolean;

  /**
   * `atStreamStart`: the first byte pushed is the first of a file (a BOM may
   * follow). `raw`: hand out lines as byte ranges (SplitterOutput.raw), not strings.
   */
  constructor(
    private readonly maxRecordBytes: number,
    atStreamStart = true,
    private readonly raw = false,
  ) {
    this.atStart = atStreamStart;
  }

  /** Bytes consumed from the input that belong to the unfinished last line. */
  pendingBytes(): number {
    return this.pending === null ? 0 : this.pending.length;
  }

  private emit(line: string, out: SplitterOutput): void {
    if (this.atStart) {
      this.atStart = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (!isBlank(line)) out.lines.push(line);
  }

  /**
   * emit for a raw splitter: the line bytes[from, to), kept as a range, with
   * what emit does to the string done to the bytes (a BOM is EF BB BF, a
   * trailing CR the byte 13; blankness is judged on the string, which only
   * a line starting with a byte up to 32 needs).
   */
  private emitRange(bytes: Buffer, from: number, to: number, out: SplitterOutput): void {
    if (this.atStart) {
      this.atStart = false;
      if (to - from >= 3 && bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf)
        from += 3;
    }
    if (to > from && bytes[to - 1] === 13) to--;
    if (to === from || (bytes[from] <= 32 && isBlank(bytes.toString('utf8', from, to)))) return;
    const raw = out.raw as RawRecords;
    raw.buffers.push(bytes);
    raw.starts.push(from);
    raw.ends.push(to);
  }

  /**
   * Takes lines from `chunk` until `out` holds `limit` records; returns how
   * many bytes of the chunk it consumed (all of them unless the limit was hit).
   * The caller passes the rest again later.
   */
  push(chunk: Buffer, out: SplitterOutput, limit = Number.POSITIVE_INFINITY): number {
    let from = 0;
    while (from < chunk.length && recordCount(out) < limit) {
      const nl = chunk.indexOf(10, from);
      const stop = nl === -1 ? chunk.length : nl;
      if (this.skipped >= 0) {
        this.skipped += stop - from;
        if (nl === -1) return chunk.length;
        out.oversize.push({ prefix: this.skippedPrefix, bytes: this.skipped });
        this.skipped = -1;
        this.skippedPrefix = '';
        this.atStart = false;
        from = nl + 1;
        continue;
      }
      const pendingLen = this.pending === null ? 0 : this.pending.length;
      if (pendingLen + (stop - from) > this.maxRecordBytes) {
        const head =
          this.pending === null
            ? chunk.subarray(from, stop)
            : Buffer.concat([this.pending, chunk.subarray(from, stop)]);
        this.pending = null;
        const prefix = head.subarray(0, PREFIX_BYTES).toString('utf8');
        if (nl === -1) {
          this.skippedPrefix = prefix;
          this.skipped = head.length;
          return chunk.length;
        }
        out.oversize.push({ prefix, bytes: head.length });
        this.atStart = false;
        from = nl + 1;
        continue;
      }
      if (nl === -1) {
        const rest = chunk.subarray(from);
        this.pending = this.pending === null ? Buffer.from(rest) : Buffer.concat([this.pending, rest]);
        return chunk.length;
      }
      if (this.raw) {
        if (this.pending === null) {
          this.emitRange(chunk, from, stop, out);
        } else {
          const line = Buffer.concat([this.pending, chunk.subarray(from, stop)]);
          this.emitRange(line, 0, line.length, out);
          this.pending = null;
        }
      } else if (this.pending === null) {
        this.emit(chunk.toString('utf8', from, stop), out);
      } else {
        this.emit(Buffer.concat([this.pending, chunk.subarray(from, stop)]).toString('utf8'), out);
        this.pending = null;
      }
      from = nl + 1;
    }
    return from;
  }

  /** End of input: an unterminated last line still counts. */
  finish(out: SplitterOutput): void {
    if (this.skipped >= 0) {
      out.oversize.push({ prefix: this.skippedPrefix, bytes: this.skipped });
      this.skipped = -1;
    } else if (this.pending !== null) {
      if (this.raw) this.emitRange(this.pending, 0, this.pending.length, out);
      else this.emit(this.pending.toString('utf8'), out);
    }
    this.pending = null;
  }
}
