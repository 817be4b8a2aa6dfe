/**
 * One TCP connection to one Kafka broker, speaking the binary protocol's
 * framing: each request is `size int32` + header (api key, version,
 * correlation id, client id) + body, each response `size int32` +
 * correlation id + body, answered in order. Only what the native fetch path
 * needs: no SASL, no TLS (the project's brokers are local plaintext).
 *
 * A response is read into one buffer of its announced size as the socket
 * delivers it (one copy, however many chunks), so decoding works on a
 * contiguous buffer.
 */
import * as net from 'node:net';
import { FloeError } from '../../runtime/errors';

/** Builds a request body: big-endian fields into a growing buffer. */
export class RequestWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.room(1);
    this.pos = this.buf.writeInt8(v, this.pos);
    return this;
  }

  int16(v: number): this {
    this.room(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
    return this;
  }

  /** A non-negative number below 2^53 as int64. */
  int64(v: number): this {
    this.room(8);
    this.pos = this.buf.writeInt32BE(Math.floor(v / 4294967296), this.pos);
    this.pos = this.buf.writeUInt32BE(v >>> 0, this.pos);
    return this;
  }

  /** int16 length + UTF-8 bytes; null as length -1. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const n = Buffer.byteLength(v);
    this.int16(n);
    this.room(n);
    this.pos += this.buf.write(v, this.pos);
    return this;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads a response body: big-endian fields from a position that moves on. */
export class ResponseReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  int8(): number {
    const v = this.buf.readInt8(this.pos);
    this.pos += 1;
    return v;
  }

  int16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 as a number (exact below 2^53: offsets, producer ids). */
  int64(): number {
    const v = this.buf.readInt32BE(this.pos) * 4294967296 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** An array's length (-1: null). */
  count(): number {
    return this.int32();
  }
}

interface Pending {
  correlationId: number;
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
}

/** Any failure of the connection: retriable (a broker restarting), the caller reconnects. */
function connectionError(where: string, message: string, cause?: unknown): FloeError {
  return new FloeError('SOURCE_IO', `kafka ${where}: ${message}`, { retriable: true, cause });
}

export class KafkaConnection {
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private nextCorrelationId = 1;
  private closedWith: Error | null = null;
  private readonly ready: Promise<void>;
  /** The response being read: its buffer and how much of it has arrived. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** Bytes of a size prefix split across chunks. */
  private sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;

  constructor(private readonly options: ConnectionOptions) {
    const where = `${options.host}:${options.port}`;
    this.socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(connectionError(where, `no connection after ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('close', () => {
        clearTimeout(timer);
        reject(this.closedWith ?? connectionError(where, 'connection closed'));
      });
    });
    // Nobody may be awaiting `ready` when the connection fails; the failure reaches callers through requests.
    this.ready.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(connectionError(where, err.message, err)));
    this.socket.on('close', () => this.fail(connectionError(where, 'connection closed by the broker')));
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Sends a request and resolves with the response body (after the correlation id). */
  async request(apiKey: number, apiVersion: number, body: Buffer, timeoutMs: number): Promise<Buffer> {
    await this.ready;
    if (this.closedWith !== null) throw this.closedWith;
    const correlationId = this.nextCorrelationId++;
    const header = new RequestWriter()
      .int32(0) // size, filled in below
      .int16(apiKey)
      .int16(apiVersion)
      .int32(correlationId)
      .string(this.options.clientId)
      .bytes();
    header.writeInt32BE(header.length - 4 + body.length, 0);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          connectionError(this.address, `no response to request ${apiKey} v${apiVersion} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.push({
        correlationId,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(header);
      this.socket.write(body);
    });
  }

  close(): void {
    this.fail(connectionError(this.address, 'connection closed'));
  }

  private fail(err: Error): void {
    if (this.closedWith === null) this.closedWith = err;
    this.socket.destroy();
    for (const p of this.pending.splice(0)) p.reject(this.closedWith);
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.frame === null) {
        // The size prefix, possibly split across chunks.
        const n = Math.min(4 - this.sizeFilled, chunk.length - at);
        chunk.copy(this.sizeBytes, this.sizeFilled, at, at + n);
        this.sizeFilled += n;
        at += n;
        if (this.sizeFilled < 4) return;
        this.sizeFilled = 0;
        // A buffer of its own (never Node's shared pool, never reused): records are handed on as ranges of it.
        this.frame = Buffer.allocUnsafeSlow(this.sizeBytes.readInt32BE(0));
        this.filled = 0;
      }
      const n = Math.min(this.frame.length - this.filled, chunk.length - at);
      chunk.copy(this.frame, this.filled, at, at + n);
      this.filled += n;
      at += n;
      if (this.filled === this.frame.length) {
        const frame = this.frame;
        this.frame = null;
        this.deliver(frame);
      }
    }
  }

  private deliver(frame: Buffer): void {
    const p = this.pending.shift();
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    if (p === undefined || p.correlationId !== correlationId) {
      this.fail(connectionError(this.address, `response with unexpected correlation id ${correlationId}`));
      p?.reject(this.closedWith!);
      return;
    }
    p.resolve(frame.subarray(4));
  }
}
