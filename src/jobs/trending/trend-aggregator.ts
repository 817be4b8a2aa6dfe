import { compareCandidates, type FiredWindow, type TrendCandidate } from './trend-candidates';

export interface WindowTrends {
  start: number;
  end: number;
  /** Global top K, best first; rank = index + 1. */
  trends: TrendCandidate[];
}

/**
 * Global top K per window, on the main thread. Each worker's window stage
 * sends its local top K when it fires a window, then its watermark; a window
 * is final once every worker's watermark has reached its end, and the global
 * top K is the top K of the union of local ones (each topic lives on exactly
 * one worker, so no topic is split across lists).
 */
export class TrendAggregator {
  private readonly pending = new Map<number, { end: number; candidates: TrendCandidate[] }>();
  private readonly workerWatermarks: number[];

  constructor(
    parallelism: number,
    private readonly top: number,
  ) {
    this.workerWatermarks = new Array<number>(parallelism).fill(Number.NEGATIVE_INFINITY);
  }

  /** Adds one worker's fired windows and watermark; returns windows now final, oldest first. */
  add(worker: number, fired: FiredWindow[], watermark: number): WindowTrends[] {
    for (const w of fired) {
      const p = this.pending.get(w.start);
      if (p === undefined) this.pending.set(w.start, { end: w.end, candidates: [...w.candidates] });
      else p.candidates.push(...w.candidates);
    }
    if (watermark > this.workerWatermarks[worker]) this.workerWatermarks[worker] = watermark;
    return this.drain();
  }

  watermark(): number {
    return Math.min(...this.workerWatermarks);
  }

  /** Windows still waiting for some worker, as plain data for a checkpoint. */
  snapshot(): { start: number; end: number; candidates: TrendCandidate[] }[] {
    return [...this.pending.entries()].map(([start, p]) => ({ start, end: p.end, candidates: p.candidates }));
  }

  /**
   * Restores pending windows. Worker watermarks start over: after a restore the
   * workers (maybe a different number of them) report theirs again.
   */
  restore(pending: { start: number; end: number; candidates: TrendCandidate[] }[]): void {
    for (const p of pending) this.pending.set(p.start, { end: p.end, candidates: [...p.candidates] });
  }

  private drain(): WindowTrends[] {
    const wm = this.watermark();
    const ready = [...this.pending.entries()].filter(([, p]) => p.end - 1 <= wm).sort((a, b) => a[0] - b[0]);
    return ready.map(([start, p]) => {
      this.pending.delete(start);
      const trends = p.candidates.sort(compareCandidates).slice(0, this.top);
      return { start, end: p.end, trends };
    });
  }
}
