import type { TopicHistory } from './trend-score';

const MIN_CAPACITY = 16;

/**
 * Trend history per topic as a topic -> slot Map and three Float64Array
 * columns, instead of a TopicHistory object per topic (~100 bytes more each
 * with its boxed doubles): a window of a million new topics creates a
 * million histories when it fires. Slots of pruned topics are reused; the
 * Map keeps insertion order, so iteration (and so a snapshot) lists topics
 * in the order they were first added, as a Map of objects would.
 */
export class TopicHistoryTable {
  private readonly slots = new Map<string, number>();
  private means: Float64Array = new Float64Array(MIN_CAPACITY);
  private variances: Float64Array = new Float64Array(MIN_CAPACITY);
  private lasts: Float64Array = new Float64Array(MIN_CAPACITY);
  private readonly free: number[] = [];
  private used = 0;

  get size(): number {
    return this.slots.size;
  }

  slotOf(topic: string): number | undefined {
    return this.slots.get(topic);
  }

  /** Copies slot's history into `into` and returns it. */
  load(slot: number, into: TopicHistory): TopicHistory {
    into.mean = this.means[slot];
    into.variance = this.variances[slot];
    into.lastWindowStart = this.lasts[slot];
    return into;
  }

  store(slot: number, h: TopicHistory): void {
    this.means[slot] = h.mean;
    this.variances[slot] = h.variance;
    this.lasts[slot] = h.lastWindowStart;
  }

  /** Sets a topic's history (adding the topic when absent). */
  set(topic: string, h: TopicHistory): void {
    let slot = this.slots.get(topic);
    if (slot === undefined) {
      slot = this.free.length > 0 ? (this.free.pop() as number) : this.newSlot();
      this.slots.set(topic, slot);
    }
    this.store(slot, h);
  }

  get(topic: string): TopicHistory | undefined {
    const slot = this.slots.get(topic);
    return slot === undefined ? undefined : this.load(slot, { mean: 0, variance: 0, lastWindowStart: 0 });
  }

  /** Makes room for `topics` more histories without growing on the way. */
  reserve(topics: number): void {
    const needed = this.used + Math.max(0, topics - this.free.length);
    if (needed > this.means.length) this.resize(Math.max(needed, this.means.length * 2));
  }

  /** Drops the histories whose last window started before `horizon`. */
  deleteOlderThan(horizon: number): void {
    for (const [topic, slot] of this.slots) {
      if (this.lasts[slot] < horizon) {
        this.slots.delete(topic);
        this.free.push(slot);
      }
    }
  }

  /** Calls `visit` for every topic, in insertion order. */
  forEach(visit: (topic: string, mean: number, variance: number, lastWindowStart: number) => void): void {
    for (const [topic, slot] of this.slots)
      visit(topic, this.means[slot], this.variances[slot], this.lasts[slot]);
  }

  private newSlot(): number {
    const slot = this.used++;
    if (slot === this.means.length) this.resize(this.means.length * 2);
    return slot;
  }

  private resize(capacity: number): void {
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    this.means = grow(this.means);
    this.variances = grow(this.variances);
    this.lasts = grow(this.lasts);
  }
}
