import { MAX_WATERMARK } from './watermarks';

/**
 * Result latency per window: from the moment the job's watermark passed a
 * window's end to the moment the window's final results were handed to the
 * sink. Samples are plain data so they can go to a JSON-lines file now and
 * feed a histogram (`floe_window_result_latency_seconds`) later.
 *
 * "The watermark passed the window's end" is taken where the watermark is
 * born: a window [start, end) is complete once every worker's source
 * watermark has reached end - 1 (the job's watermark is the minimum over
 * workers), so the moment is the latest of the workers' first reports at or
 * beyond end - 1. Everything after it (exchanges, de-duplication, window
 * firing, the global top K on the main thread, the sink write) is latency.
 */
export interface WindowLatencySample {
  window_start: number;
  window_end: number;
  /** Wall clock (ms since the epoch) when the last worker's source watermark reached window_end - 1. */
  watermark_passed_at: number;
  /** Wall clock when the sink's write of the window's results returned. */
  sink_written_at: number;
  latency_ms: number;
  /**
   * The watermark that completed the window was the end-of-input one (a
   * bounded source ended): every open window fires at once then, so these
   * measure draining, not the steady state.
   */
  end_of_input: boolean;
}

export class WindowLatencyRecorder {
  /** Per worker: (watermark, wall time) as its source watermark advanced, watermarks ascending. */
  private readonly reports: { watermark: number[]; at: number[] }[];

  constructor(parallelism: number) {
    this.reports = Array.from({ length: parallelism }, () => ({ watermark: [], at: [] }));
  }

  /** A worker's source watermark reached `watermark` at wall time `at`. */
  observeSourceWatermark(worker: number, watermark: number, at: number): void {
    const r = this.reports[worker];
    const last = r.watermark.length === 0 ? Number.NEGATIVE_INFINITY : r.watermark[r.watermark.length - 1];
    // A watermark that does not advance tells nothing new; the first report of a level is the one that counts.
    if (watermark <= last) return;
    r.watermark.push(watermark);
    r.at.push(at);
  }

  /**
   * The results of [start, end) were written at `writtenAt`. Returns the
   * sample, or undefined when some worker never reported a watermark that
   * far (results written before the watermark, e.g. restored from a checkpoint).
   */
  windowWritten(start: number, end: number, writtenAt: number): WindowLatencySample | undefined {
    const due = end - 1;
    let passedAt = Number.NEGATIVE_INFINITY;
    let passedBy = Number.NEGATIVE_INFINITY;
    for (const r of this.reports) {
      const i = firstAtLeast(r.watermark, due);
      if (i === r.watermark.length) return undefined;
      if (r.at[i] >= passedAt) {
        passedAt = r.at[i];
        passedBy = r.watermark[i];
      }
      // Windows are written in order of their end, so reports below this one's due are no longer needed.
      if (i > 0) {
        r.watermark.splice(0, i);
        r.at.splice(0, i);
      }
    }
    return {
      window_start: start,
      window_end: end,
      watermark_passed_at: passedAt,
      sink_written_at: writtenAt,
      latency_ms: writtenAt - passedAt,
      end_of_input: passedBy === MAX_WATERMARK,
    };
  }
}

/** Index of the first element >= x in an ascending array (its length when none). */
function firstAtLeast(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
