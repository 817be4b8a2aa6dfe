import { HyperLogLog } from '../../state/hyperloglog';
import { isWindowComplete, isWindowExpired, WindowSpec } from '../../runtime/windows';
import { decayHistory, MAX_GAP_WINDOWS, TopicHistory, trendScore, updateHistory } from './trend-score';

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

export interface WindowCount {
  start: number;
  end: number;
  topic: string;
  count: number;
  distinctAuthors: number;
}

export interface TopicWindowOptions {
  spec: WindowSpec;
  allowedLatenessMs: number;
  minCount: number;
  top: number;
  trendAlpha: number;
}

/** Best first: higher score, then higher count, then topic in code-unit order; one order everywhere. */
export function compareCandidates(a: TrendCandidate, b: TrendCandidate): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.count !== b.count) return b.count - a.count;
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0;
}

interface TopicAggregate {
  count: number;
  authors: HyperLogLog;
}

interface WindowState {
  fired: boolean;
  topics: Map<string, TopicAggregate>;
}

/**
 * The keyed window stage of the trending job, for the topics (key groups) one
 * worker owns: merges partial aggregates from every worker's local stage,
 * fires each window once when the watermark reaches its end, scores topics
 * against their history, and keeps fired windows until their allowed
 * lateness has passed, emitting an updated count for each late partial.
 */
export class TopicWindowOperator {
  private readonly windows = new Map<number, WindowState>();
  private readonly history = new Map<string, TopicHistory>();
  private wm = Number.NEGATIVE_INFINITY;
  /** Partials that arrived for windows already expired; the local stage should have dropped them. */
  expiredPartials = 0;

  constructor(
    private readonly options: TopicWindowOptions,
    private readonly emitCount: (count: WindowCount) => void,
  ) {}

  watermark(): number {
    return this.wm;
  }

  /** Open (unfired or within lateness) windows; for tests and metrics. */
  openWindows(): number {
    return this.windows.size;
  }

  historySize(): number {
    return this.history.size;
  }

  addPartial(start: number, topic: string, count: number, authors: HyperLogLog): void {
    const { spec, allowedLatenessMs } = this.options;
    if (isWindowExpired(start, spec, allowedLatenessMs, this.wm)) {
      this.expiredPartials++;
      return;
    }
    let w = this.windows.get(start);
    if (w === undefined) {
      // A window complete before its first partial got here fired (empty) already: this is a late update.
      w = { fired: isWindowComplete(start, spec, this.wm), topics: new Map() };
      this.windows.set(start, w);
    }
    const agg = w.topics.get(topic);
    if (agg === undefined) w.topics.set(topic, { count, authors });
    else {
      agg.count += count;
      agg.authors.merge(authors);
    }
    if (w.fired) {
      const a = w.topics.get(topic) as TopicAggregate;
      this.emitCount({
        start,
        end: start + spec.sizeMs,
        topic,
        count: a.count,
        distinctAuthors: a.authors.estimate(),
      });
    }
  }

  /** Moves the watermark; fires complete windows (oldest first) and drops expired ones. */
  advance(watermark: number): FiredWindow[] {
    if (watermark <= this.wm) return [];
    this.wm = watermark;
    const { spec, allowedLatenessMs } = this.options;
    const due = [...this.windows.entries()]
      .filter(([start, w]) => !w.fired && isWindowComplete(start, spec, watermark))
      .sort((a, b) => a[0] - b[0]);
    const fired = due.map(([start, w]) => this.fire(start, w));
    for (const [start] of this.windows) {
      if (isWindowExpired(start, spec, allowedLatenessMs, watermark)) this.windows.delete(start);
    }
    if (fired.length > 0) this.pruneHistory(fired[fired.length - 1].start);
    return fired;
  }

  private fire(start: number, w: WindowState): FiredWindow {
    const { spec, minCount, top, trendAlpha } = this.options;
    const end = start + spec.sizeMs;
    w.fired = true;
    const candidates: TrendCandidate[] = [];
    for (const [topic, agg] of w.topics) {
      const distinctAuthors = agg.authors.estimate();
      this.emitCount({ start, end, topic, count: agg.count, distinctAuthors });
      const prior = this.history.get(topic);
      // Score against the windows the topic was absent from too.
      if (prior !== undefined) decayHistory(prior, start, spec.slideMs, trendAlpha);
      if (agg.count >= minCount) {
        const score = Math.round(trendScore(agg.count, prior) * 1e4) / 1e4;
        candidates.push({ topic, count: agg.count, distinctAuthors, score });
      }
      this.history.set(topic, updateHistory(prior, start, agg.count, spec.slideMs, trendAlpha));
    }
    candidates.sort(compareCandidates);
    if (candidates.length > top) candidates.length = top;
    return { start, end, candidates };
  }

  private pruneHistory(latestStart: number): void {
    const horizon = latestStart - MAX_GAP_WINDOWS * this.options.spec.slideMs;
    for (const [topic, h] of this.history) if (h.lastWindowStart < horizon) this.history.delete(topic);
  }
}
