/**
 * Watermarks. A watermark W promises that no more records with timestamp <= W
 * will come (Flink's convention). -Infinity means "no promise yet",
 * +Infinity means "input finished".
 */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;

/** Bounded out-of-orderness for one split: W = max timestamp seen - bound - 1. */
export class BoundedOutOfOrdernessWatermark {
  private maxTimestamp = Number.NEGATIVE_INFINITY;

  constructor(private readonly outOfOrdernessMs: number) {}

  observe(timestampMs: number): void {
    if (timestampMs > this.maxTimestamp) this.maxTimestamp = timestampMs;
  }

  /** Largest timestamp observed; checkpointed with the split so a restore resumes the same watermark. */
  maxObserved(): number {
    return this.maxTimestamp;
  }

  current(): number {
    return this.maxTimestamp === Number.NEGATIVE_INFINITY
      ? MIN_WATERMARK
      : this.maxTimestamp - this.outOfOrdernessMs - 1;
  }
}

interface InputState {
  watermark: number;
  idle: boolean;
}

/**
 * Combines the watermarks of several inputs (splits of one worker, or the
 * upstream workers of an exchange): the minimum over inputs that are neither
 * idle nor finished. A finished input reports MAX_WATERMARK. When every
 * remaining input is idle the combined watermark holds still and the
 * combination reports itself idle, so downstream stops waiting for it.
 * The output never goes backwards.
 */
export class WatermarkCombiner {
  private readonly inputs = new Map<string | number, InputState>();
  private output = MIN_WATERMARK;
  private outputIdle = false;

  /** Registers an input; until it reports, it holds the combined watermark at MIN. */
  addInput(id: string | number): void {
    if (!this.inputs.has(id)) this.inputs.set(id, { watermark: MIN_WATERMARK, idle: false });
  }

  hasInput(id: string | number): boolean {
    return this.inputs.has(id);
  }

  /** Updates one input; returns true when the combined watermark or idleness changed. */
  update(id: string | number, watermark: number, idle = false): boolean {
    const input = this.inputs.get(id);
    if (input === undefined) throw new Error(`unknown watermark input ${String(id)}`);
    if (watermark > input.watermark) input.watermark = watermark;
    input.idle = idle;
    return this.recompute();
  }

  setIdle(id: string | number, idle: boolean): boolean {
    const input = this.inputs.get(id);
    if (input === undefined) throw new Error(`unknown watermark input ${String(id)}`);
    input.idle = idle;
    return this.recompute();
  }

  current(): number {
    // No inputs: nothing can come, as if every input had finished.
    return this.inputs.size === 0 ? MAX_WATERMARK : this.output;
  }

  isIdle(): boolean {
    return this.outputIdle;
  }

  private recompute(): boolean {
    let min = MAX_WATERMARK;
    let idleOpen = 0;
    for (const input of this.inputs.values()) {
      if (input.idle && input.watermark !== MAX_WATERMARK) {
        idleOpen++;
        continue;
      }
      if (input.watermark < min) min = input.watermark;
    }
    // Idle when inputs remain open and all of them are idle (the rest, if any, finished).
    const idle = idleOpen > 0 && min === MAX_WATERMARK;
    const before = this.output;
    const beforeIdle = this.outputIdle;
    if (!idle && min > this.output) this.output = min;
    if (this.inputs.size === 0) this.output = MAX_WATERMARK;
    this.outputIdle = idle;
    return this.output !== before || idle !== beforeIdle;
  }
}

/** Formats a watermark for logs and dead-letter details. */
export function formatWatermark(wm: number): string {
  if (wm === MIN_WATERMARK) return '-inf';
  if (wm === MAX_WATERMARK) return '+inf';
  return new Date(wm).toISOString();
}
