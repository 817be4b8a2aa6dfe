import { fmix32 } from '../../runtime/hash';
import { copyOfBytes } from './string-copy';

/**
 * Where a scanner puts a tweet's topics. A topic is either an ASCII tag given
 * as bytes (made into sign + the bytes lower-cased, which for ASCII is the
 * whole normalisation) or an already normalised string. A tweet's topics are
 * kept once each, in the order first given.
 */
export interface TopicSink {
  /** Starts the next tweet's topics. */
  clear(): void;
  /** The topic String.fromCharCode(sign) + bytes[start, end) lower-cased; the bytes are ASCII. */
  addAscii(bytes: Uint8Array, start: number, end: number, sign: number): void;
  addString(topic: string): void;
}

/** Most entries a dictionary holds before it starts over (checked between batches, see startBatch). */
const DEFAULT_MAX_ENTRIES = 1 << 16;
/** Its limit never drops below this, however few lookups hit. */
const MIN_ENTRIES = 1 << 12;
/** Bytes of ASCII topics it holds per entry of its limit before it starts over. */
const ARENA_BYTES_PER_ENTRY = 32;
/**
 * A new dictionary starts this small on purpose: it grows (table and arena)
 * within its first few dozen topics, while codeOfAscii still runs
 * unoptimised. Started at its working size, it first grew after V8 had
 * optimised codeOfAscii without that path, which threw the code away, twice
 * per worker (measured: 2 deoptimisations and ~35 ms of recompiling per
 * worker in a 1M-tweet run).
 */
const INITIAL_SLOTS = 16;
const INITIAL_ARENA_BYTES = 256;
const SLOT = 4;

/**
 * The local stage's topic dictionary: a topic -> code table, so that a topic
 * crosses threads as a number and its string is made, sent and hashed once
 * per dictionary rather than once per tweet (most tweets carry one of a few
 * thousand popular tags).
 *
 * ASCII topics are looked up by their bytes without making a string: an
 * open-addressing table of codes, the normalised bytes kept in one arena. A
 * string topic that is all ASCII is looked up in the same table (so a tag
 * seen as bytes and as a string gets one code); others in a Map.
 *
 * Codes are 0, 1, 2, ... in order of first sight. The dictionary is bounded:
 * at the start of a batch, when it holds more than its limits, it starts over
 * with a new epoch (a vocabulary of millions of one-off tags would otherwise
 * grow it without end; with those, a topic's string is made once per tweet
 * as it would be without a dictionary). Receivers mirror it per sender
 * (TopicMirror): a code's string travels once per epoch and receiver.
 *
 * The limit adapts: an epoch in which most lookups found a new topic (a
 * vocabulary of one-off tags) halves it, down to MIN_ENTRIES, since holding
 * those topics saves nothing and costs memory in every worker and its
 * mirrors (measured: ~40 MB at 1e6 topics a window); an epoch of mostly
 * hits doubles it again, up to the maximum.
 */
export class TopicDictionary {
  /** Increments when the dictionary starts over; codes of different epochs are unrelated. */
  epoch = 0;
  private readonly strings: string[] = [];
  /**
   * Open addressing over ASCII topics, SLOT ints a slot: code + 1 (0 = empty),
   * hash, arena offset, length; one cache line answers most probes. At most
   * half full.
   */
  private table = new Int32Array(SLOT * INITIAL_SLOTS);
  private asciiCount = 0;
  private arena = new Uint8Array(INITIAL_ARENA_BYTES);
  private arenaUsed = 0;
  private readonly others = new Map<string, number>();
  /** Entries (and ARENA_BYTES_PER_ENTRY times as many arena bytes) of this epoch before starting over. */
  private limit: number;
  /** Lookups this epoch; the entries are its misses. */
  private lookups = 0;

  constructor(
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
    private readonly minEntries = Math.min(MIN_ENTRIES, maxEntries),
  ) {
    this.limit = maxEntries;
    // V8 compiles a field stored only once as a constant and throws that code away when it first
    // changes (here: the first rehash or arena growth, with codeOfAscii hot). Stored twice, they are
    // known to change.
    this.table = new Int32Array(SLOT * INITIAL_SLOTS);
    this.arena = new Uint8Array(INITIAL_ARENA_BYTES);
  }

  /** The entries this epoch may hold (see the class comment). */
  get entryLimit(): number {
    return this.limit;
  }

  get size(): number {
    return this.strings.length;
  }

  /** The topic of a code of the current epoch. */
  topic(code: number): string {
    return this.strings[code];
  }

  /** Called before a batch's topics are coded: starts over when over the limits (see the class comment). */
  startBatch(): void {
    const entries = this.strings.length;
    if (entries <= this.limit && this.arenaUsed <= this.limit * ARENA_BYTES_PER_ENTRY) return;
    const misses = entries / Math.max(1, this.lookups);
    if (misses > 0.5) this.limit = Math.max(this.minEntries, this.limit / 2);
    else if (misses < 0.1) this.limit = Math.min(this.maxEntries, this.limit * 2);
    this.strings.length = 0;
    // Sized for the new limit (half full at most), so a limit that fell gives its memory back.
    const slots = SLOT * Math.max(INITIAL_SLOTS, 2 ** Math.ceil(Math.log2(2 * this.limit)));
    if (this.table.length > slots) this.table = new Int32Array(slots);
    else this.table.fill(0);
    if (this.arena.length > 2 * this.limit * ARENA_BYTES_PER_ENTRY)
      this.arena = new Uint8Array(INITIAL_ARENA_BYTES);
    this.asciiCount = 0;
    this.arenaUsed = 0;
    this.lookups = 0;
    this.others.clear();
    this.epoch++;
  }

  /** The code of String.fromCharCode(sign) + bytes[start, end) lower-cased (ASCII bytes). */
  codeOfAscii(bytes: Uint8Array, start: number, end: number, sign: number): number {
    this.lookups++;
    let h = Math.imul(sign ^ 0x811c9dc5, 0x01000193);
    for (let i = start; i < end; i++) h = Math.imul(h ^ lower(bytes[i]), 0x01000193);
    const length = end - start + 1;
    h = fmix32(h ^ length) | 0;
    const table = this.table;
    const arena = this.arena;
    const mask = table.length / SLOT - 1;
    let slot = h & mask;
    for (;;) {
      const at = slot * SLOT;
      const entry = table[at];
      if (entry === 0) break;
      if (table[at + 1] === h && table[at + 3] === length) {
        let a = table[at + 2];
        if (arena[a] === sign) {
          let i = start;
          for (a++; i < end && arena[a] === lower(bytes[i]); i++) a++;
          if (i === end) return entry - 1;
        }
      }
      slot = (slot + 1) & mask;
    }
    const offset = this.reserveArena(length);
    const stored = this.arena;
    stored[offset] = sign;
    for (let i = start; i < end; i++) stored[offset + 1 + i - start] = lower(bytes[i]);
    return this.insertAscii(slot, h, offset, length, copyOfBytes(stored, offset, offset + length));
  }

  /** The code of a normalised topic given as a string. */
  codeOf(topic: string): number {
    this.lookups++;
    const length = topic.length;
    // An empty topic (never a real one) has no bytes to find it by.
    if (length === 0) return this.codeOfOther(topic);
    let h = 0x811c9dc5;
    for (let i = 0; i < length; i++) {
      const c = topic.charCodeAt(i);
      if (c >= 0x80) return this.codeOfOther(topic);
      h = Math.imul(h ^ c, 0x01000193);
    }
    h = fmix32(h ^ length) | 0;
    const table = this.table;
    const arena = this.arena;
    const mask = table.length / SLOT - 1;
    let slot = h & mask;
    for (;;) {
      const at = slot * SLOT;
      const entry = table[at];
      if (entry === 0) break;
      if (table[at + 1] === h && table[at + 3] === length) {
        const a = table[at + 2];
        let i = 0;
        while (i < length && arena[a + i] === topic.charCodeAt(i)) i++;
        if (i === length) return entry - 1;
      }
      slot = (slot + 1) & mask;
    }
    const offset = this.reserveArena(length);
    for (let i = 0; i < length; i++) this.arena[offset + i] = topic.charCodeAt(i);
    return this.insertAscii(slot, h, offset, length, topic);
  }

  private codeOfOther(topic: string): number {
    let code = this.others.get(topic);
    if (code === undefined) {
      code = this.strings.length;
      this.strings.push(topic);
      this.others.set(topic, code);
    }
    return code;
  }

  private insertAscii(slot: number, h: number, offset: number, length: number, topic: string): number {
    const code = this.strings.length;
    this.strings.push(topic);
    const at = slot * SLOT;
    this.table[at] = code + 1;
    this.table[at + 1] = h;
    this.table[at + 2] = offset;
    this.table[at + 3] = length;
    if (2 * ++this.asciiCount > this.table.length / SLOT) this.rehash();
    return code;
  }

  private reserveArena(length: number): number {
    const at = this.arenaUsed;
    if (at + length > this.arena.length) {
      const bigger = new Uint8Array(Math.max(2 * this.arena.length, at + length));
      bigger.set(this.arena.subarray(0, at));
      this.arena = bigger;
    }
    this.arenaUsed = at + length;
    return at;
  }

  /** Doubles the table. */
  private rehash(): void {
    const old = this.table;
    const table = new Int32Array(2 * old.length);
    const mask = table.length / SLOT - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at] === 0) continue;
      let slot = old[at + 1] & mask;
      while (table[slot * SLOT] !== 0) slot = (slot + 1) & mask;
      table.set(old.subarray(at, at + SLOT), slot * SLOT);
    }
    this.table = table;
  }
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** The local stage's TopicSink: a tweet's topics as codes of one dictionary, each once. */
export class TopicCodeSink implements TopicSink {
  /** codes[0 .. count) are the tweet's topics. Reused: read before the next tweet. */
  readonly codes: number[] = [];
  count = 0;

  constructor(readonly dictionary: TopicDictionary) {}

  clear(): void {
    this.count = 0;
  }

  addAscii(bytes: Uint8Array, start: number, end: number, sign: number): void {
    this.add(this.dictionary.codeOfAscii(bytes, start, end, sign));
  }

  addString(topic: string): void {
    this.add(this.dictionary.codeOf(topic));
  }

  private add(code: number): void {
    for (let i = 0; i < this.count; i++) if (this.codes[i] === code) return;
    this.codes[this.count++] = code;
  }
}

/** Which codes of a dictionary's current epoch one receiver has been sent (their strings go once). */
export class TopicSendState {
  private epoch = -1;
  private sent = new Uint8Array(1024);

  /** Whether `code`'s string must go with the batch to this receiver; marks it sent. */
  mustSend(dictionary: TopicDictionary, code: number): boolean {
    if (this.epoch !== dictionary.epoch) {
      this.sent.fill(0);
      this.epoch = dictionary.epoch;
    }
    if (code >= this.sent.length) {
      const bigger = new Uint8Array(Math.max(2 * this.sent.length, code + 1));
      bigger.set(this.sent);
      this.sent = bigger;
    }
    if (this.sent[code] === 1) return false;
    this.sent[code] = 1;
    return true;
  }
}

/** The strings of a codes-and-strings message: the codes' topics, per occurrence, and what is new. */
export interface CodedTopics {
  /** Dictionary epoch of the codes. */
  topicEpoch: number;
  topicCodes: Uint32Array;
  /** Codes seen for the first time by this receiver in this epoch, and their topics. */
  newTopicCodes: Uint32Array;
  newTopics: string[];
}

/**
 * A receiver's copy of one sender's dictionary, rebuilt from what the
 * sender's batches carry; apply every batch of the sender, in order. Caches
 * of codes are kept per mirror object and epoch.
 */
export class TopicMirror {
  /** The epoch of the codes last applied; a change means earlier codes mean nothing now. */
  epoch = -1;
  private readonly strings: string[] = [];

  /** Takes in a batch's new codes; after it, topic() knows every code of the batch. */
  apply(b: CodedTopics): void {
    if (b.topicEpoch !== this.epoch) {
      this.strings.length = 0;
      this.epoch = b.topicEpoch;
    }
    const strings = this.strings;
    for (let i = 0; i < b.newTopicCodes.length; i++) {
      const code = b.newTopicCodes[i];
      // Codes arrive out of order when their first tweets went to other receivers: fill the gap first.
      while (strings.length < code) strings.push('');
      strings[code] = b.newTopics[i];
    }
  }

  /** The topic of a code of the current epoch. */
  topic(code: number): string {
    const topic = this.strings[code];
    if (topic === undefined || topic === '')
      throw new Error(`topic code ${code} of epoch ${this.epoch} was never sent`);
    return topic;
  }

  /** The topics of codes[from .. to). */
  topics(codes: Uint32Array, from = 0, to = codes.length): string[] {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(this.topic(codes[i]));
    return out;
  }
}
