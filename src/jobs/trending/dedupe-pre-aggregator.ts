import { assignWindows, isWindowComplete, WindowSpec } from '../../runtime/windows';
import { HyperLogLog } from '../../state/hyperloglog';
import { DedupeState, type DedupeDelta } from './dedupe';
import { NO_AUTHOR, type TweetBatch } from './trending-messages';

/** A partial aggregate of one (window, topic): what the window stage merges. */
export interface TopicPartial {
  start: number;
  topic: string;
  count: number;
  authors: HyperLogLog;
}

export interface DedupePreAggregatorOptions {
  spec: WindowSpec;
  allowedLatenessMs: number;
  dedupeHorizonMs: number;
  /** Partials held before a forced flush. */
  maxHeld: number;
}

/** A snapshot: the de-duplication ids per key group, and the watermark (which belongs to no key group). */
export interface DedupeSnapshot {
  watermark: number;
  /** Key group -> blob (DedupeState.snapshot), ascending; key groups without ids are absent. */
  keyGroups: Map<number, Buffer>;
}

export interface DedupeOutcome {
  duplicates: number;
  /** Tweets late for every window they belong to, as judged here (see addBatch). */
  late: { index: number; timestampMs: number }[];
}

/**
 * Stage 2 of the trending job, for the tweet ids one worker owns: drops
 * re-delivered ids (exactly, over the event-time horizon), assigns windows and
 * pre-aggregates count and author sketch per (window, topic) until the next
 * flush, so only one partial per (window, topic) per worker crosses threads.
 * Records for windows that have already fired (allowed lateness) are not
 * merged: each becomes its own partial, so each emits its own update.
 */
export class DedupePreAggregator {
  private readonly dedupe: DedupeState;
  private held = new Map<number, Map<string, TopicPartial>>();
  private heldCount = 0;
  private singles: TopicPartial[] = [];
  private wm = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: DedupePreAggregatorOptions) {
    this.dedupe = new DedupeState(options.dedupeHorizonMs);
  }

  watermark(): number {
    return this.wm;
  }

  /** True when enough is held (or late updates wait) that the caller should flush now. */
  shouldFlush(): boolean {
    return this.heldCount >= this.options.maxHeld || this.singles.length > 0;
  }

  addBatch(b: TweetBatch): DedupeOutcome {
    const { spec, allowedLatenessMs } = this.options;
    const outcome: DedupeOutcome = { duplicates: 0, late: [] };
    const n = b.timestamps.length;
    let otherId = 0;
    for (let i = 0; i < n; i++) {
      const ts = b.timestamps[i];
      // Ids come packed; the rare one that does not pack comes as the next string of otherIds.
      const high = b.idHighs[i];
      if (
        high >= 0
          ? this.dedupe.checkAndAddPacked(high, b.idLows[i], ts)
          : this.dedupe.checkAndAdd(b.otherIds[otherId++], ts)
      ) {
        outcome.duplicates++;
        continue;
      }
      // Normally the local stage's threshold is at least our watermark. Not so for a split that was
      // idle (and so left out of the watermark) while others moved on: judge by both.
      const windows = assignWindows(ts, spec, allowedLatenessMs, Math.max(b.lateThresholds[i], this.wm));
      if (windows.length === 0) {
        outcome.late.push({ index: i, timestampMs: ts });
        continue;
      }
      // The local stage hashed the author once for all the sketches it goes into; -1 marks "no author".
      const h1 = b.authorHighs[i] === NO_AUTHOR ? -1 : b.authorH1[i];
      const h2 = b.authorH2[i];
      for (const start of windows) {
        const fired = isWindowComplete(start, spec, this.wm);
        for (let t = b.topicOffsets[i]; t < b.topicOffsets[i + 1]; t++) {
          this.add(start, b.topics[t], h1, h2, fired);
        }
      }
    }
    return outcome;
  }

  private add(start: number, topic: string, h1: number, h2: number, fired: boolean): void {
    let topics = fired ? undefined : this.held.get(start);
    const existing = topics?.get(topic);
    if (existing !== undefined) {
      existing.count++;
      if (h1 !== -1) existing.authors.addHashes(h1, h2);
      return;
    }
    const authors = new HyperLogLog();
    if (h1 !== -1) authors.addHashes(h1, h2);
    const partial = { start, topic, count: 1, authors };
    if (fired) {
      this.singles.push(partial);
      return;
    }
    if (topics === undefined) this.held.set(start, (topics = new Map()));
    topics.set(topic, partial);
    this.heldCount++;
  }

  /**
   * Hands out the late singles and what is held for windows complete at
   * `watermark`, and forgets them. Partials of windows still open stay held:
   * the window stage cannot fire them before a later watermark, and holding
   * them on is what makes pre-aggregation pay (watermarks move with every
   * source batch).
   */
  flushComplete(watermark: number): TopicPartial[] {
    const out = this.singles;
    this.singles = [];
    for (const [start, topics] of this.held) {
      if (!isWindowComplete(start, this.options.spec, watermark)) continue;
      for (const p of topics.values()) out.push(p);
      this.heldCount -= topics.size;
      this.held.delete(start);
    }
    return out;
  }

  /** What shouldFlush asked for: everything when too much is held, else the late singles. */
  flushDue(): TopicPartial[] {
    return this.heldCount >= this.options.maxHeld ? this.flush() : this.flushComplete(this.wm);
  }

  /** Hands out everything held (late singles first) and forgets it. */
  flush(): TopicPartial[] {
    const out = this.singles;
    this.singles = [];
    for (const topics of this.held.values()) for (const p of topics.values()) out.push(p);
    this.held = new Map();
    this.heldCount = 0;
    return out;
  }

  /** Moves the watermark and expires de-duplication state past the horizon. Flush before forwarding it. */
  advance(watermark: number): void {
    if (watermark > this.wm) this.wm = watermark;
    this.dedupe.expire(this.wm);
  }

  dedupeSize(): number {
    return this.dedupe.size;
  }

  /**
   * Snapshots the de-duplication state per key group (keyGroupOf(id,
   * maxParallelism)). Held partials are not part of it: the checkpoint
   * protocol flushes them at the barrier, so this throws while any are held
   * (flush first).
   */
  snapshot(maxParallelism: number): DedupeSnapshot {
    if (this.heldCount > 0 || this.singles.length > 0) {
      throw new Error(
        `DedupePreAggregator.snapshot: ${this.heldCount + this.singles.length} partials are held; flush before snapshotting`,
      );
    }
    return { watermark: this.wm, keyGroups: this.dedupe.snapshot(maxParallelism) };
  }

  /**
   * The checkpoint part of this operator, taken at a barrier in O(buckets):
   * the ids added since the previous checkpoint (encode them with
   * encodeDelta, asynchronously) and the watermark. Like snapshot, it
   * throws while partials are held.
   */
  takeDelta(): { watermark: number; delta: DedupeDelta } {
    if (this.heldCount > 0 || this.singles.length > 0) {
      throw new Error(
        `DedupePreAggregator.takeDelta: ${this.heldCount + this.singles.length} partials are held; flush first`,
      );
    }
    return { watermark: this.wm, delta: this.dedupe.takeDelta() };
  }

  /**
   * Restores a fresh operator from every live delta of a checkpoint (see
   * DedupeState.restoreDeltas), keeping the key groups `owns` accepts, and
   * the watermark (the minimum over the workers that took them).
   */
  restoreDeltas(
    watermark: number,
    containers: Iterable<Uint8Array>,
    owns: (keyGroup: number) => boolean,
    maxParallelism: number,
  ): void {
    this.checkFresh(watermark);
    this.dedupe.restoreDeltas(containers, owns, watermark, maxParallelism);
    this.wm = watermark;
  }

  /**
   * Restores a fresh operator from any set of key-group blobs (one worker's
   * snapshot, or after rescaling the key groups this worker now owns, from
   * several snapshots) and the watermark: the snapshot's, or when merging
   * several, the minimum of theirs. Ids keep their time buckets, so they
   * expire as they would have. See DedupeState.restore for errors.
   */
  restore(watermark: number, blobs: Iterable<Uint8Array>): void {
    this.checkFresh(watermark);
    this.dedupe.restore(blobs);
    // Nothing to drop (the snapshot was taken at this watermark); it tells the state where it is.
    this.dedupe.expire(watermark);
    this.wm = watermark;
  }

  private checkFresh(watermark: number): void {
    if (
      this.wm !== Number.NEGATIVE_INFINITY ||
      this.dedupe.size > 0 ||
      this.heldCount > 0 ||
      this.singles.length > 0
    )
      throw new Error('DedupePreAggregator.restore: the operator must be fresh (no state, no watermark)');
    if (typeof watermark !== 'number' || Number.isNaN(watermark))
      throw new RangeError(`DedupePreAggregator.restore: bad watermark ${watermark}`);
  }
}
