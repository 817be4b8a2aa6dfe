import type { MessagePort } from 'node:worker_threads';
import { WatermarkCombiner } from './watermarks';

/**
 * Worker-to-worker exchanges over one MessagePort per pair of workers,
 * multiplexed by exchange name. Each exchange carries data batches and
 * watermarks in order on every channel, and combines the watermarks of all
 * senders (the minimum, idle senders aside) for its receiver.
 *
 * Batches to our own index go through a local queue instead of a port, so
 * they keep the same ordering and asynchrony as remote ones.
 */
type Wire =
  | { x: string; k: 'data'; from: number; body: unknown; ack: boolean }
  | { x: string; k: 'wm'; from: number; wm: number; idle: boolean }
  | { x: string; k: 'ack'; from: number };

export interface ExchangeHandlers<T> {
  /** A batch from worker `from`. */
  onData(from: number, body: T): void;
  /** The combined watermark of all senders changed (or their idleness). */
  onWatermark(watermark: number, idle: boolean): void;
}

export class PeerMesh {
  private readonly exchanges = new Map<string, Exchange<unknown>>();
  private readonly localQueue: Wire[] = [];
  private draining = false;

  constructor(
    readonly self: number,
    private readonly peers: (MessagePort | null)[],
  ) {
    peers.forEach((port) => port?.on('message', (msg: Wire) => this.dispatch(msg)));
  }

  get size(): number {
    return this.peers.length;
  }

  /**
   * Creates an exchange. With `maxInFlight` set, senders are limited to that
   * many unacknowledged batches per receiver (see Exchange.whenWritable).
   */
  exchange<T>(name: string, handlers: ExchangeHandlers<T>, maxInFlight = 0): Exchange<T> {
    const ex = new Exchange<T>(name, this, handlers, maxInFlight);
    this.exchanges.set(name, ex as Exchange<unknown>);
    return ex;
  }

  post(to: number, msg: Wire, transfer?: ArrayBuffer[]): void {
    if (to === this.self) {
      this.localQueue.push(msg);
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => this.drainLocal());
      }
    } else {
      (this.peers[to] as MessagePort).postMessage(msg, transfer);
    }
  }

  private drainLocal(): void {
    // Messages posted while draining land at the end of the queue and are taken in this pass.
    for (let i = 0; i < this.localQueue.length; i++) this.dispatch(this.localQueue[i]);
    this.localQueue.length = 0;
    this.draining = false;
  }

  private dispatch(msg: Wire): void {
    const ex = this.exchanges.get(msg.x);
    if (ex === undefined) throw new Error(`message for unknown exchange ${msg.x}`);
    ex.receive(msg);
  }

  close(): void {
    for (const port of this.peers) port?.close();
  }
}

export class Exchange<T> {
  private readonly combiner = new WatermarkCombiner();
  private readonly inFlight: number[];
  private waiters: (() => void)[] = [];
  private lastSentWm = Number.NEGATIVE_INFINITY;
  private lastSentIdle = false;

  constructor(
    readonly name: string,
    private readonly mesh: PeerMesh,
    private readonly handlers: ExchangeHandlers<T>,
    private readonly maxInFlight: number,
  ) {
    this.inFlight = new Array<number>(mesh.size).fill(0);
    for (let i = 0; i < mesh.size; i++) this.combiner.addInput(i);
  }

  /** Sends a batch to worker `to`. Call whenWritable(to) first on exchanges with backpressure. */
  send(to: number, body: T, transfer?: ArrayBuffer[]): void {
    const ack = this.maxInFlight > 0;
    if (ack) this.inFlight[to]++;
    this.mesh.post(to, { x: this.name, k: 'data', from: this.mesh.self, body, ack }, transfer);
  }

  /** Resolves once worker `to` has fewer than maxInFlight of our batches unprocessed. */
  whenWritable(to: number): Promise<void> | undefined {
    if (this.maxInFlight === 0 || this.inFlight[to] < this.maxInFlight) return undefined;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.inFlight[to] < this.maxInFlight) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Sends our watermark to every receiver, after everything sent before it. Skips repeats. */
  broadcastWatermark(wm: number, idle: boolean): void {
    if (wm === this.lastSentWm && idle === this.lastSentIdle) return;
    this.lastSentWm = wm;
    this.lastSentIdle = idle;
    for (let to = 0; to < this.mesh.size; to++)
      this.mesh.post(to, { x: this.name, k: 'wm', from: this.mesh.self, wm, idle });
  }

  /** The combined watermark of all senders as this receiver sees it. */
  watermark(): number {
    return this.combiner.current();
  }

  receive(msg: Wire): void {
    switch (msg.k) {
      case 'data':
        this.handlers.onData(msg.from, msg.body as T);
        if (msg.ack) this.mesh.post(msg.from, { x: this.name, k: 'ack', from: this.mesh.self });
        break;
      case 'wm':
        if (this.combiner.update(msg.from, msg.wm, msg.idle)) {
          this.handlers.onWatermark(this.combiner.current(), this.combiner.isIdle());
        }
        break;
      case 'ack': {
        this.inFlight[msg.from]--;
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
        break;
      }
    }
  }
}
