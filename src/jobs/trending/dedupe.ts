/**
 * Exact de-duplication of tweet ids over an event-time horizon: an id seen
 * once never counts again while the watermark is within `horizonMs` of the
 * tweet's time. Ids are kept in time buckets so expiry drops whole buckets
 * instead of scanning every id.
 */
export class DedupeState {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();

  constructor(
    private readonly horizonMs: number,
    private readonly bucketMs = 60_000,
  ) {}

  /** Records the id; returns true when it was already seen (a duplicate). */
  checkAndAdd(id: string, timestampMs: number): boolean {
    if (this.seen.has(id)) return true;
    const bucket = Math.floor(timestampMs / this.bucketMs);
    this.seen.set(id, bucket);
    const ids = this.buckets.get(bucket);
    if (ids === undefined) this.buckets.set(bucket, [id]);
    else ids.push(id);
    return false;
  }

  /** Forgets ids whose whole bucket lies more than the horizon behind the watermark. */
  expire(watermark: number): number {
    let removed = 0;
    for (const [bucket, ids] of this.buckets) {
      if ((bucket + 1) * this.bucketMs - 1 + this.horizonMs > watermark) continue;
      for (const id of ids) this.seen.delete(id);
      removed += ids.length;
      this.buckets.delete(bucket);
    }
    return removed;
  }

  get size(): number {
    return this.seen.size;
  }
}
