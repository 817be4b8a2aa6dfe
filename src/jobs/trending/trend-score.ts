/**
 * Trend score of a topic in a window against the topic's own history: a
 * z-score of this window's count against an exponentially weighted mean and
 * variance of its counts in earlier windows (windows without the topic count
 * as zero). The variance is floored by the mean (counts are roughly Poisson)
 * plus one, so a new topic's first burst scores high but finite, and a topic
 * that is always around scores near zero.
 *
 *   score = (count - mean) / sqrt(max(variance, mean) + 1)
 */
export interface TopicHistory {
  mean: number;
  variance: number;
  /** Start of the last window folded in, ms. */
  lastWindowStart: number;
}

/** Zero windows after which a history has decayed to nothing and is dropped. */
export const MAX_GAP_WINDOWS = 64;

export function trendScore(count: number, history: TopicHistory | undefined): number {
  const mean = history?.mean ?? 0;
  const variance = history?.variance ?? 0;
  return (count - mean) / Math.sqrt(Math.max(variance, mean) + 1);
}

function fold(h: TopicHistory, x: number, alpha: number): void {
  const diff = x - h.mean;
  const incr = alpha * diff;
  h.mean += incr;
  h.variance = (1 - alpha) * (h.variance + diff * incr);
}

/**
 * Folds a zero for every window of the topic's absence between the last window
 * folded in and `windowStart` (exclusive), so a window is scored against them.
 */
export function decayHistory(
  history: TopicHistory,
  windowStart: number,
  slideMs: number,
  alpha: number,
): void {
  const gap = Math.round((windowStart - history.lastWindowStart) / slideMs) - 1;
  if (gap <= 0) return;
  if (gap >= MAX_GAP_WINDOWS) {
    history.mean = 0;
    history.variance = 0;
  } else {
    for (let i = 0; i < gap; i++) fold(history, 0, alpha);
  }
  history.lastWindowStart = windowStart - slideMs;
}

/**
 * Folds this window's count into the history (creating it when absent),
 * first folding a zero for every window of the topic's absence since the last.
 */
export function updateHistory(
  history: TopicHistory | undefined,
  windowStart: number,
  count: number,
  slideMs: number,
  alpha: number,
): TopicHistory {
  if (history === undefined) {
    const h = { mean: 0, variance: 0, lastWindowStart: windowStart };
    fold(h, count, alpha);
    return h;
  }
  decayHistory(history, windowStart, slideMs, alpha);
  fold(history, count, alpha);
  history.lastWindowStart = windowStart;
  return history;
}
