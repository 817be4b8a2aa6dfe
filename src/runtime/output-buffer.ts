/** Lines are gathered in a string of about this many characters before being encoded: few native calls, no large strings. */
const PIECE_CHARS = 16 * 1024;
/** A chunk using less than this share of its buffer leaves as a copy, and the buffer stays for the next one. */
const COPY_BELOW = 4;

/** Output lines encoded as UTF-8, ready to leave a worker (see OutputBuffer). */
export interface OutputChunk {
  /** Owns its whole ArrayBuffer, so it can be transferred. */
  bytes: Uint8Array;
  /** The lines' length as a string (UTF-16 code units), which the file sink's roll-size counts. */
  length: number;
  records: number;
}

/**
 * One kind of a worker's output lines, encoded to UTF-8 as they come, so that
 * they can cross to the main thread as transferred bytes. Built as one
 * string, a chunk of a million characters was flattened when posted,
 * cloned into the message, created again as a string on the main thread
 * and encoded there by the sink's stream: three copies, two of them 1 MB
 * strings that wait in V8's large-object space until a major GC.
 */
export class OutputBuffer {
  private piece = '';
  private buffer: Buffer | undefined;
  private used = 0;
  private chars = 0;
  private records = 0;

  /**
   * `capacity`: bytes a chunk is expected to hold (a longer one grows its
   * buffer). `allocate(n)`: a buffer of at least n bytes that owns its whole
   * ArrayBuffer (so it can be transferred), e.g. one the main thread gave back.
   */
  constructor(
    private readonly capacity: number,
    private readonly allocate: (bytes: number) => ArrayBuffer = newArrayBuffer,
  ) {}

  /** Characters held, as the length of one string of every line would be. */
  get length(): number {
    return this.chars;
  }

  /** Appends one record's line (without its '\n'). */
  add(line: string): void {
    this.piece += line + '\n';
    this.chars += line.length + 1;
    this.records++;
    if (this.piece.length >= PIECE_CHARS) this.encodePiece();
  }

  /** Everything held as one chunk, or undefined when nothing is; the buffer starts empty again. */
  take(): OutputChunk | undefined {
    if (this.records === 0) return undefined;
    this.encodePiece();
    const buffer = this.buffer as Buffer;
    let bytes: Uint8Array;
    if (this.used * COPY_BELOW < buffer.length) {
      // A small chunk (a flush at a watermark): copy it, and keep the buffer rather than ship it mostly empty.
      bytes = new Uint8Array(this.used);
      bytes.set(buffer.subarray(0, this.used));
    } else {
      bytes = new Uint8Array(buffer.buffer, 0, this.used);
      this.buffer = undefined;
    }
    const chunk = { bytes, length: this.chars, records: this.records };
    this.used = 0;
    this.chars = 0;
    this.records = 0;
    return chunk;
  }

  private encodePiece(): void {
    const p = this.piece;
    if (p.length === 0) return;
    this.piece = '';
    let buffer = (this.buffer ??= Buffer.from(this.allocate(this.capacity)));
    // At most 3 bytes per UTF-16 code unit; only a piece near the end needs its exact size.
    if (buffer.length - this.used < p.length * 3) {
      const need = this.used + Buffer.byteLength(p);
      if (need > buffer.length) {
        const grown = Buffer.from(this.allocate(Math.max(need, buffer.length * 2)));
        buffer.copy(grown, 0, 0, this.used);
        this.buffer = buffer = grown;
      }
    }
    this.used += buffer.write(p, this.used);
  }
}

/** Uninitialised (every byte is written before it is sent) and not from Buffer's shared pool. */
function newArrayBuffer(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}
