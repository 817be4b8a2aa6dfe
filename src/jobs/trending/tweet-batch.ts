/**
 * Builds and reads TweetBatch, the local stage's message to the dedupe
 * stage. The local stage hands over ids and authors as ranges of the input
 * line where it can, so the common tweet crosses threads as numbers only:
 * the id packed for the dedupe set, the author packed (for the rare late
 * dead letter) and hashed (for the sketches). No per-tweet id or author
 * string is made, cloned or collected.
 */
import { murmur3Bytes, murmur3In } from '../../runtime/hash';
import { copyOf } from './string-copy';
import { TopicDictionary, TopicSendState } from './topic-dictionary';
import { NO_AUTHOR, OTHER_AUTHOR, type TweetBatch } from './trending-messages';
import { packed, packIdBytes, packIdIn, unpackId } from './tweet-id-table';

/** The seeds of hashKeyH1 and hashKeyH2 (state/hyperloglog.ts); a unit test holds them equal. */
export const AUTHOR_SEED1 = 0x9747b28c;
export const AUTHOR_SEED2 = 0x5bd1e995;

// Float64 columns, then Uint32 columns, in one ArrayBuffer of 52 bytes per tweet (+4).
const F64_COLUMNS = 4;
const U32_COLUMNS = 4;

/** Collects the tweets for one destination worker; build() once, then drop it (its buffer is transferred). */
export class TweetBatchBuilder {
  length = 0;
  private capacity = 0;
  private buffer!: ArrayBuffer;
  private idHighs!: Float64Array;
  private timestamps!: Float64Array;
  private authorHighs!: Float64Array;
  private lateThresholds!: Float64Array;
  private idLows!: Uint32Array;
  private authorLows!: Uint32Array;
  private authorH1!: Uint32Array;
  private authorH2!: Uint32Array;
  private topicOffsets!: Uint32Array;
  private readonly otherIds: string[] = [];
  private readonly otherAuthors: string[] = [];
  private readonly topicCodes: number[] = [];
  private readonly newTopicCodes: number[] = [];
  private readonly newTopics: string[] = [];

  /**
   * `capacity`: tweets expected; more make it grow (a copy). Topics are coded
   * with `dictionary` (the local stage's, shared by its builders); `sent`:
   * what the receiver of this builder's batches has been sent of it. The
   * defaults make a batch that stands alone (every string in it).
   */
  constructor(
    capacity = 64,
    private readonly dictionary = new TopicDictionary(),
    private readonly sent = new TopicSendState(),
  ) {
    this.allocate(Math.max(1, capacity));
    this.topicOffsets[0] = 0;
  }

  private allocate(capacity: number): void {
    const old = this.capacity === 0 ? undefined : this.columns();
    this.capacity = capacity;
    this.buffer = new ArrayBuffer(capacity * (8 * F64_COLUMNS + 4 * U32_COLUMNS + 4) + 4);
    let at = 0;
    const f64 = (): Float64Array => {
      const a = new Float64Array(this.buffer, at, capacity);
      at += capacity * 8;
      return a;
    };
    const u32 = (n: number): Uint32Array => {
      const a = new Uint32Array(this.buffer, at, n);
      at += n * 4;
      return a;
    };
    this.idHighs = f64();
    this.timestamps = f64();
    this.authorHighs = f64();
    this.lateThresholds = f64();
    this.idLows = u32(capacity);
    this.authorLows = u32(capacity);
    this.authorH1 = u32(capacity);
    this.authorH2 = u32(capacity);
    this.topicOffsets = u32(capacity + 1);
    if (old !== undefined) {
      const now = this.columns();
      for (let c = 0; c < old.length; c++) now[c].set(old[c]);
    }
  }

  private columns(): (Float64Array | Uint32Array)[] {
    return [
      this.idHighs,
      this.timestamps,
      this.authorHighs,
      this.lateThresholds,
      this.idLows,
      this.authorLows,
      this.authorH1,
      this.authorH2,
      this.topicOffsets,
    ];
  }

  /**
   * A tweet whose id is line[idStart, idEnd) and whose author is
   * line[authorStart, authorEnd) (authorStart -1: none), as the scanner
   * finds them; its first `topicCount` topics.
   */
  addIn(
    line: string,
    idStart: number,
    idEnd: number,
    timestampMs: number,
    authorStart: number,
    authorEnd: number,
    topics: readonly string[],
    topicCount: number,
    threshold: number,
  ): void {
    const i = this.next();
    this.idIn(i, line, idStart, idEnd);
    this.authorIn(i, line, authorStart, authorEnd);
    for (let t = 0; t < topicCount; t++) this.addTopic(this.dictionary.codeOf(topics[t]));
    this.finish(i, timestampMs, threshold);
  }

  /**
   * addIn for a tweet read from bytes (tweet-byte-scanner.ts): id and author
   * are byte ranges of `bytes` (authorStart -1: none), digits only; its
   * topics are topicCodes[0 .. topicCount), codes of this builder's dictionary.
   */
  addBytes(
    bytes: Buffer,
    idStart: number,
    idEnd: number,
    timestampMs: number,
    authorStart: number,
    authorEnd: number,
    topicCodes: readonly number[],
    topicCount: number,
    threshold: number,
  ): void {
    const i = this.next();
    if (packIdBytes(bytes, idStart, idEnd)) this.setId(i);
    else {
      this.idHighs[i] = -1;
      this.otherIds.push(bytes.toString('utf8', idStart, idEnd));
    }
    if (authorStart === -1 || authorStart === authorEnd) this.setNoAuthor(i);
    else {
      if (packIdBytes(bytes, authorStart, authorEnd)) this.setAuthor(i);
      else {
        this.authorHighs[i] = OTHER_AUTHOR;
        this.otherAuthors.push(bytes.toString('utf8', authorStart, authorEnd));
      }
      this.authorH1[i] = murmur3Bytes(bytes, authorStart, authorEnd, AUTHOR_SEED1);
      this.authorH2[i] = murmur3Bytes(bytes, authorStart, authorEnd, AUTHOR_SEED2);
    }
    for (let t = 0; t < topicCount; t++) this.addTopic(topicCodes[t]);
    this.finish(i, timestampMs, threshold);
  }

  /** A tweet given as strings (the full decoder's); author undefined or '': none. */
  add(
    id: string,
    timestampMs: number,
    author: string | undefined,
    topics: readonly string[],
    threshold: number,
  ): void {
    const i = this.next();
    this.idIn(i, id, 0, id.length);
    const a = author ?? '';
    this.authorIn(i, a, a === '' ? -1 : 0, a.length);
    for (const topic of topics) this.addTopic(this.dictionary.codeOf(topic));
    this.finish(i, timestampMs, threshold);
  }

  /** Index of the next tweet, growing the columns when full. */
  private next(): number {
    const i = this.length;
    if (i === this.capacity) this.allocate(this.capacity * 2);
    return i;
  }

  /** Tweet i's id, line[start, end). */
  private idIn(i: number, line: string, start: number, end: number): void {
    if (packIdIn(line, start, end)) this.setId(i);
    else {
      this.idHighs[i] = -1;
      this.otherIds.push(copyOf(line, start, end));
    }
  }

  /** Tweet i's author, line[start, end) (start -1: none). */
  private authorIn(i: number, line: string, start: number, end: number): void {
    if (start === -1 || start === end) {
      this.setNoAuthor(i);
      return;
    }
    if (packIdIn(line, start, end)) this.setAuthor(i);
    else {
      this.authorHighs[i] = OTHER_AUTHOR;
      this.otherAuthors.push(copyOf(line, start, end));
    }
    this.authorH1[i] = murmur3In(line, start, end, AUTHOR_SEED1);
    this.authorH2[i] = murmur3In(line, start, end, AUTHOR_SEED2);
  }

  /** Tweet i's id is what packId* just packed. */
  private setId(i: number): void {
    this.idHighs[i] = packed.high;
    this.idLows[i] = packed.low;
  }

  /** Tweet i's author is what packId* just packed. */
  private setAuthor(i: number): void {
    this.authorHighs[i] = packed.high;
    this.authorLows[i] = packed.low;
  }

  private setNoAuthor(i: number): void {
    this.authorHighs[i] = NO_AUTHOR;
    this.authorH1[i] = 0;
    this.authorH2[i] = 0;
  }

  /** A topic of the tweet being added; its string goes along the first time this receiver gets the code. */
  private addTopic(code: number): void {
    this.topicCodes.push(code);
    if (this.sent.mustSend(this.dictionary, code)) {
      this.newTopicCodes.push(code);
      this.newTopics.push(this.dictionary.topic(code));
    }
  }

  private finish(i: number, timestampMs: number, threshold: number): void {
    this.timestamps[i] = timestampMs;
    this.lateThresholds[i] = threshold;
    this.topicOffsets[i + 1] = this.topicCodes.length;
    this.length = i + 1;
  }

  /** The batch, and the buffers to transfer with it (after which this builder is unusable). */
  build(): { batch: TweetBatch; transfer: ArrayBuffer[] } {
    const n = this.length;
    const topicCodes = Uint32Array.from(this.topicCodes);
    const newTopicCodes = Uint32Array.from(this.newTopicCodes);
    return {
      batch: {
        idHighs: this.idHighs.subarray(0, n),
        idLows: this.idLows.subarray(0, n),
        otherIds: this.otherIds,
        timestamps: this.timestamps.subarray(0, n),
        authorHighs: this.authorHighs.subarray(0, n),
        authorLows: this.authorLows.subarray(0, n),
        otherAuthors: this.otherAuthors,
        authorH1: this.authorH1.subarray(0, n),
        authorH2: this.authorH2.subarray(0, n),
        topicOffsets: this.topicOffsets.subarray(0, n + 1),
        topicEpoch: this.dictionary.epoch,
        topicCodes,
        newTopicCodes,
        newTopics: this.newTopics,
        lateThresholds: this.lateThresholds.subarray(0, n),
      },
      transfer: [this.buffer, topicCodes.buffer, newTopicCodes.buffer],
    };
  }
}

/** Tweets in the batch. */
export function tweetCount(b: TweetBatch): number {
  return b.timestamps.length;
}

/** The id of tweet `index` as a string (for dead letters; not the hot path). */
export function tweetIdAt(b: TweetBatch, index: number): string {
  const high = b.idHighs[index];
  if (high >= 0) return unpackId(high, b.idLows[index]);
  let k = 0;
  for (let i = 0; i < index; i++) if (b.idHighs[i] < 0) k++;
  return b.otherIds[k];
}

/** The author id of tweet `index` as a string, '' when it names none (for dead letters). */
export function authorAt(b: TweetBatch, index: number): string {
  const high = b.authorHighs[index];
  if (high === NO_AUTHOR) return '';
  if (high !== OTHER_AUTHOR) return unpackId(high, b.authorLows[index]);
  let k = 0;
  for (let i = 0; i < index; i++) if (b.authorHighs[i] === OTHER_AUTHOR) k++;
  return b.otherAuthors[k];
}
