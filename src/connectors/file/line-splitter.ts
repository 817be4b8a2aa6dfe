/**
 * Cuts a byte stream into lines. A line longer than maxRecordBytes is not
 * buffered whole: its first bytes are kept for the dead-letter report and the
 * rest is skipped up to the next newline, so one bad line cannot exhaust memory.
 */
export interface SplitterOutput {
  lines: string[];
  oversize: { prefix: string; bytes: number }[];
}

const PREFIX_BYTES = 1024;

export class LineSplitter {
  private pending: Buffer | null = null;
  /** Bytes of the current over-long line seen so far; -1 when not skipping. */
  private skipped = -1;
  private skippedPrefix = '';

  constructor(private readonly maxRecordBytes: number) {}

  /** Bytes consumed from the input that belong to the unfinished last line. */
  pendingBytes(): number {
    return this.pending === null ? 0 : this.pending.length;
  }

  push(chunk: Buffer, out: SplitterOutput): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      const stop = nl === -1 ? chunk.length : nl;
      if (this.skipped >= 0) {
        this.skipped += stop - from;
        if (nl === -1) return;
        out.oversize.push({ prefix: this.skippedPrefix, bytes: this.skipped });
        this.skipped = -1;
        this.skippedPrefix = '';
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
        if (nl === -1) {
          this.skippedPrefix = head.subarray(0, PREFIX_BYTES).toString('utf8');
          this.skipped = head.length;
          return;
        }
        out.oversize.push({ prefix: head.subarray(0, PREFIX_BYTES).toString('utf8'), bytes: head.length });
        from = nl + 1;
        continue;
      }
      if (nl === -1) {
        const rest = chunk.subarray(from);
        this.pending = this.pending === null ? Buffer.from(rest) : Buffer.concat([this.pending, rest]);
        return;
      }
      let line: string;
      if (this.pending === null) {
        line = chunk.toString('utf8', from, stop);
      } else {
        line = Buffer.concat([this.pending, chunk.subarray(from, stop)]).toString('utf8');
        this.pending = null;
      }
      if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length > 0) out.lines.push(line);
      from = nl + 1;
    }
  }

  /** End of input: an unterminated last line still counts. */
  finish(out: SplitterOutput): void {
    if (this.skipped >= 0) {
      out.oversize.push({ prefix: this.skippedPrefix, bytes: this.skipped });
      this.skipped = -1;
    } else if (this.pending !== null) {
      const line = this.pending.toString('utf8').replace(/\r$/, '');
      if (line.length > 0) out.lines.push(line);
    }
    this.pending = null;
  }
}
