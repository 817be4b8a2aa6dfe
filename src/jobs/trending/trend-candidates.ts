/**
 * Trend candidates and their one order, shared by the window stage (a
 * worker's local top K) and the main thread (the global top K), which
 * loads only this of the window stage's code.
 */

/** A topic's candidacy for a window's top K. */
export interface TrendCandidate {
  topic: string;
  count: number;
  distinctAuthors: number;
  score: number;
}

export interface FiredWindow {
  start: number;
  end: number;
  /** This operator's best candidates (at most `top`), best first. */
  candidates: TrendCandidate[];
}

/** Best first: higher score, then higher count, then topic in code-unit order; one order everywhere. */
export function compareCandidates(a: TrendCandidate, b: TrendCandidate): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.count !== b.count) return b.count - a.count;
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0;
}

/**
 * The best `k` candidates offered, best first (compareCandidates, a total
 * order, so the same as sorting all of them and keeping k). A window's
 * thousands of candidates are not sorted for the few that are kept.
 */
export class TopCandidates {
  readonly best: TrendCandidate[] = [];

  constructor(private readonly k: number) {}

  offer(c: TrendCandidate): void {
    const best = this.best;
    if (best.length === this.k && compareCandidates(c, best[best.length - 1]) >= 0) return;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareCandidates(best[mid], c) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, c);
    if (best.length > this.k) best.pop();
  }
}
