import type { RecordBatch, SplitDescriptor, SplitReader } from '../connectors/contract';
import type { Clock } from './clock';
import {
  BoundedOutOfOrdernessWatermark,
  MAX_WATERMARK,
  MIN_WATERMARK,
  WatermarkCombiner,
} from './watermarks';

/** One split as the source stage tracks it. */
export interface SplitState {
  readonly split: SplitDescriptor;
  readonly reader: SplitReader;
  /** Bounded out-of-orderness watermark of this split alone. */
  readonly watermark: BoundedOutOfOrdernessWatermark;
  /** Processing time of the last batch, ms. */
  lastRecordAt: number;
  idle: boolean;
  finished: boolean;
}

export interface SourceRunnerOptions {
  outOfOrdernessMs: number;
  /** A split with no records for this long stops holding the watermark back; 0 disables idleness. */
  idleTimeoutMs: number;
  batchSize: number;
  clock: Clock;
  /** Pause between rounds in which no split had data, ms. */
  idlePollMs?: number;
  /**
   * Watermark alignment, ms (absent or 0: off): an alignable split
   * (SplitDescriptor.alignable) whose watermark is more than this ahead of
   * the worker's watermark is not polled until the worker's watermark
   * catches up, so the event time this worker holds open stays within about
   * this much plus a window. It never makes a record late: the splits that
   * are read are the ones at or near the watermark.
   */
  alignmentMs?: number;
}

/** A split's state at a checkpoint barrier: where to resume and what its watermark had seen. */
export interface SplitCheckpoint {
  splitId: string;
  /** The reader's position (connector-specific), or null once the split has ended. */
  position: unknown;
  /** Largest event time observed on the split, ms; -Infinity when none. */
  maxTimestamp: number;
}

export interface SourceRunnerHandlers {
  /** A batch from one split. May await (backpressure). Observe timestamps on split.watermark. */
  onBatch(split: SplitState, batch: RecordBatch): Promise<void> | void;
  /** The worker's source watermark (min over active splits) or idleness changed. */
  onWatermark(watermark: number, idle: boolean): void;
  /**
   * A checkpoint barrier, taken between batches: everything handed to onBatch
   * before it is covered by `splits`. Send the barrier downstream here.
   */
  onBarrier?(id: number, splits: SplitCheckpoint[]): Promise<void> | void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The source stage of one worker: polls its splits round-robin, keeps a
 * watermark per split and combines them (minimum over active splits; idle
 * splits excluded; a finished split no longer counts). When every split has
 * ended the watermark is +Infinity: the final watermark that fires every
 * open window. With alignment, alignable splits too far ahead of that
 * minimum sit out rounds until it catches up.
 */
export class SourceRunner {
  readonly splits: SplitState[];
  private readonly combiner = new WatermarkCombiner();
  private stopping = false;
  private running = false;
  private handlers: SourceRunnerHandlers | null = null;
  private pendingBarriers: number[] = [];

  constructor(
    readers: SplitReader[],
    private readonly options: SourceRunnerOptions,
  ) {
    const now = options.clock.now();
    this.splits = readers.map((reader) => ({
      split: reader.split,
      reader,
      watermark: new BoundedOutOfOrdernessWatermark(options.outOfOrdernessMs),
      lastRecordAt: now,
      idle: false,
      finished: false,
    }));
    for (const s of this.splits) this.combiner.addInput(s.split.id);
  }

  /**
   * Restores what a checkpoint recorded of a split's watermark (the reader was
   * created at the recorded position). A split recorded as ended is ended.
   */
  restoreSplit(splitId: string, maxTimestamp: number): void {
    const s = this.splits.find((x) => x.split.id === splitId);
    if (s !== undefined && maxTimestamp !== Number.NEGATIVE_INFINITY) s.watermark.observe(maxTimestamp);
  }

  /** Adds a split discovered while running; it is polled from the next round on, from its beginning. */
  addReader(reader: SplitReader): void {
    this.splits.push({
      split: reader.split,
      reader,
      watermark: new BoundedOutOfOrdernessWatermark(this.options.outOfOrdernessMs),
      lastRecordAt: this.options.clock.now(),
      idle: false,
      finished: false,
    });
    this.combiner.addInput(reader.split.id);
  }

  /** Asks for checkpoint barrier `id` at the next batch boundary (at once when the sources have ended). */
  requestBarrier(id: number): void {
    this.pendingBarriers.push(id);
    if (!this.running && this.handlers !== null) void this.emitBarriers(this.handlers);
  }

  private async emitBarriers(handlers: SourceRunnerHandlers): Promise<void> {
    while (this.pendingBarriers.length > 0) {
      const id = this.pendingBarriers.shift() as number;
      const splits = this.splits.map((s) => ({
        splitId: s.split.id,
        position: s.finished ? null : s.reader.position(),
        maxTimestamp: s.watermark.maxObserved(),
      }));
      await handlers.onBarrier?.(id, splits);
    }
  }

  /** Ends every split at its next poll; unbounded sources end this way on shutdown. */
  stop(): void {
    this.stopping = true;
    for (const s of this.splits) s.reader.stop();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  watermark(): number {
    return this.combiner.current();
  }

  isIdle(): boolean {
    return this.combiner.isIdle();
  }

  /**
   * The splits to poll this round: all open ones, but alignable splits more
   * than alignmentMs ahead of the combined watermark. Until every split has
   * reported (the combined watermark is still -Infinity) nothing is held
   * back, and when all would be, all are polled: the split holding the
   * minimum always runs, so alignment can slow reading but never stop it.
   */
  private due(open: SplitState[]): SplitState[] {
    const alignmentMs = this.options.alignmentMs ?? 0;
    const wm = this.combiner.current();
    if (alignmentMs <= 0 || wm === MIN_WATERMARK) return open;
    const limit = wm + alignmentMs;
    const due = open.filter((s) => s.split.alignable !== true || s.watermark.current() <= limit);
    return due.length > 0 ? due : open;
  }

  async run(handlers: SourceRunnerHandlers): Promise<void> {
    const { clock, batchSize, idleTimeoutMs } = this.options;
    this.handlers = handlers;
    this.running = true;
    handlers.onWatermark(this.combiner.current(), this.combiner.isIdle());
    let open = this.splits.filter((s) => !s.finished);
    while (open.length > 0) {
      if (this.pendingBarriers.length > 0) await this.emitBarriers(handlers);
      let progressed = false;
      let changed = false;
      for (const s of this.due(open)) {
        const result = await s.reader.poll(batchSize);
        const now = clock.now();
        if (result === 'end') {
          s.finished = true;
          changed = this.combiner.update(s.split.id, MAX_WATERMARK, false) || changed;
          await s.reader.close();
        } else if (result === 'idle') {
          if (!s.idle && idleTimeoutMs > 0 && now - s.lastRecordAt >= idleTimeoutMs) {
            s.idle = true;
            changed = this.combiner.setIdle(s.split.id, true) || changed;
          }
        } else {
          progressed = true;
          s.lastRecordAt = now;
          await handlers.onBatch(s, result);
          if (s.idle) s.idle = false;
          changed = this.combiner.update(s.split.id, s.watermark.current(), false) || changed;
        }
      }
      if (changed) handlers.onWatermark(this.combiner.current(), this.combiner.isIdle());
      open = this.splits.filter((s) => !s.finished);
      // Yield to the event loop either way: exchange messages for this worker are waiting.
      if (progressed) await new Promise<void>((r) => setImmediate(r));
      else if (open.length > 0) await sleep(this.options.idlePollMs ?? 5);
    }
    if (this.splits.length === 0) handlers.onWatermark(MAX_WATERMARK, false);
    this.running = false;
    // Barriers asked for while the last round ran, and any asked for later, go out at once.
    await this.emitBarriers(handlers);
  }
}
