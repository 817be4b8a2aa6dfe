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
  | { x: string; k: 'ack'; from: number }
  | { x: string; k: 'barrier'; from: number; id: number };

export interface ExchangeHandlers<T> {
  /** A batch from worker `from`. */
  onData(from: number, body: T): void;
  /** The combined watermark of all senders changed (or their idleness). */
  onWatermark(watermark: number, idle: boolean): void;
  /**
   * Barrier `id` has arrived from every sender (aligned): everything each
   * sender sent before its barrier has been handed to onData, nothing sent
   * after it yet. Snapshot here, then forward the barrier downstream.
   */
  onBarrier?(id: number): void;
}

export class PeerMesh {
  private readonly exchanges = new Map<string, Exchange<unknown>>();
  private readonly localQueue: Wire[] = [];
  private draining = false;
  private closed = false;

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
    // As on a closed MessagePort: nothing more goes out, to peers or to our own stages.
    if (this.closed) return;
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
    for (let i = 0; i < this.localQueue.length && !this.closed; i++) this.dispatch(this.localQueue[i]);
    this.localQueue.length = 0;
    this.draining = false;
  }

  private dispatch(msg: Wire): void {
    const ex = this.exchanges.get(msg.x);
    if (ex === undefined) throw new Error(`message for unknown exchange ${msg.x}`);
    ex.receive(msg);
  }

  /**
   * Ends the mesh: its ports close and nothing more is delivered, our own
   * queued messages included (a barrier asked for after the job's stages
   * finished must not run them again).
   */
  close(): void {
    this.closed = true;
    for (const port of this.peers) port?.close();
  }
}

export class Exchange<T> {
  private readonly combiner = new WatermarkCombiner();
  private readonly inFlight: number[];
  private waiters: (() => void)[] = [];
  private lastSentWm = Number.NEGATIVE_INFINITY;
  private lastSentIdle = false;
  /** Senders whose barrier for the checkpoint being aligned has arrived. */
  private readonly barrierFrom = new Set<number>();
  private aligningId = -1;
  /** Messages from senders already past the barrier, held until alignment completes. */
  private held: Wire[] = [];

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

  /**
   * Sends checkpoint barrier `id` to every receiver, after everything sent
   * before it. Barriers of one exchange must be sent in increasing id order,
   * one checkpoint at a time.
   */
  broadcastBarrier(id: number): void {
    for (let to = 0; to < this.mesh.size; to++)
      this.mesh.post(to, { x: this.name, k: 'barrier', from: this.mesh.self, id });
  }

  /** The combined watermark of all senders as this receiver sees it. */
  watermark(): number {
    return this.combiner.current();
  }

  receive(msg: Wire): void {
    // Aligned barriers: a sender whose barrier has arrived is not read again until every sender's has.
    // Its data waits unacknowledged, so its credits run out and it stops sending instead of filling our memory.
    if (this.aligningId !== -1 && msg.k !== 'ack' && this.barrierFrom.has(msg.from)) {
      this.held.push(msg);
      return;
    }
    switch (msg.k) {
      case 'barrier':
        this.onBarrierMessage(msg.from, msg.id);
        break;
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

  private onBarrierMessage(from: number, id: number): void {
    if (this.aligningId === -1) this.aligningId = id;
    else if (id !== this.aligningId) {
      throw new Error(
        `exchange ${this.name}: barrier ${id} from worker ${from} while aligning ${this.aligningId}`,
      );
    }
    this.barrierFrom.add(from);
    if (this.barrierFrom.size < this.mesh.size) return;
    this.aligningId = -1;
    this.barrierFrom.clear();
    this.handlers.onBarrier?.(id);
    const held = this.held;
    this.held = [];
    // Replayed in arrival order; a barrier among them starts the next alignment and holds the rest again.
    for (const m of held) this.receive(m);
  }
}
