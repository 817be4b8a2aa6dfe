import { copyOf } from './string-copy';

/**
 * Normalised topics of ASCII entity tags, looked up by the tag's characters
 * where they sit in the input line. Tags repeat heavily (a Zipf vocabulary),
 * so a hit costs no allocation at all, and every occurrence of a topic is the
 * same string, whose hash V8 keeps for the Map lookups of the later stages.
 *
 * Contract: get(s, start, end, cashtag) === (cashtag ? '$' : '#') +
 * s.slice(start, end).toLowerCase() for ASCII characters; the cache is only a
 * shortcut to that value. It holds at most `capacity` tags and forgets them
 * all when full, so memory stays bounded on an unbounded vocabulary.
 */
export class TopicCache {
  private readonly mask: number;
  /** Raw tags (copies, never views into a line) by slot; undefined: free. */
  private readonly raw: (string | undefined)[];
  private readonly topic: string[];
  private readonly cashtag: Uint8Array;
  private used = 0;

  /** `capacity`: tags held before the cache is cleared; slots are the next power of two of twice that. */
  constructor(private readonly capacity = 65_536) {
    let slots = 2;
    while (slots < capacity * 2) slots *= 2;
    this.mask = slots - 1;
    this.raw = new Array<string | undefined>(slots).fill(undefined);
    this.topic = new Array<string>(slots).fill('');
    this.cashtag = new Uint8Array(slots);
  }

  /** The topic of the ASCII tag s[start, end) (non-empty, no escapes): '#' or '$' + the tag lower-cased. */
  get(s: string, start: number, end: number, cashtag: boolean): string {
    const kind = cashtag ? 1 : 0;
    // FNV-1a over the characters.
    let h = 0x811c9dc5 ^ kind;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const length = end - start;
    let slot = h & this.mask;
    for (;;) {
      const raw = this.raw[slot];
      if (raw === undefined) break;
      if (raw.length === length && this.cashtag[slot] === kind && sameChars(raw, s, start))
        return this.topic[slot];
      slot = (slot + 1) & this.mask;
    }
    const tag = copyOf(s, start, end);
    const topic = (cashtag ? '$' : '#') + tag.toLowerCase();
    if (this.used === this.capacity) {
      this.raw.fill(undefined);
      this.used = 0;
      slot = h & this.mask;
    }
    this.raw[slot] = tag;
    this.topic[slot] = topic;
    this.cashtag[slot] = kind;
    this.used++;
    return topic;
  }
}

function sameChars(raw: string, s: string, start: number): boolean {
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) !== s.charCodeAt(start + i)) return false;
  return true;
}
