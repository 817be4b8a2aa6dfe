/**
 * The fast path of tweet-scanner.ts on a line's UTF-8 bytes, for sources
 * that hand out byte ranges (RecordBatch.raw): the line never becomes a
 * string unless it must take the full path. Strings are made only for what
 * the job keeps (topics); ids and authors stay ranges of the bytes.
 *
 * Contract: scanTweetBytes(bytes, start, end) is undefined exactly when
 * scanTweetIn(line) is, for line = bytes.toString('utf8', start, end), and
 * otherwise the same tweet, with byte offsets for character offsets (the
 * differential tests hold it to this). It mirrors the string scanner rule
 * for rule:
 *
 * - a byte below 0x20 anywhere makes the line unusual (the string scanner
 *   rules out control characters up front; in UTF-8 they are only ever
 *   those bytes), so whitespace between tokens is the space alone;
 * - invalid UTF-8 is no concern: the string form would hold U+FFFD there,
 *   which the scan accepts inside strings as it accepts any non-ASCII
 *   byte, and values that are decoded (tags, text, an unusual created_at)
 *   are decoded from the same bytes between ASCII quotes, so they equal the
 *   string form's.
 *
 * For speed, strings are scanned four bytes at a time, and the members of
 * the usual v2 and v1.1 tweets and entity items are first matched against
 * the expected keys in place (usualMembers, usualItem); wherever a line
 * deviates from them, the general scan decides.
 */
import { extractCashtags, extractHashtags, normalizeCashtag, normalizeHashtag } from './hashtags';
import type { TopicSink } from './topic-dictionary';
import { parseCreatedAtBytes } from './tweet-dates';
import type { DecodeOptions } from './tweet';

/** Deeper nesting is left to JSON.parse (as in tweet-scanner.ts). */
const MAX_DEPTH = 64;
/** Entity items (hashtags, symbols, cashtags) a line may hold for the fast path. */
const MAX_TAGS = 64;

// Flags of a scanned string.
const ESCAPED = 1;
const NON_ASCII = 2;

// Top-level fields that matter, as bits (each may appear once).
const F_ID = 1 << 0;
const F_ID_STR = 1 << 1;
const F_CREATED_AT = 1 << 2;
const F_USER = 1 << 3;
const F_AUTHOR_ID = 1 << 4;
const F_AUTHOR = 1 << 5;
const F_ENTITIES = 1 << 6;
const F_TEXT = 1 << 7;
const F_FULL_TEXT = 1 << 8;
const F_LONG = 1 << 9;

// Entity lists, by kind; their presence bits are 1 << kind.
const HASHTAGS = 0;
const SYMBOLS = 1;
const CASHTAGS = 2;

// The objects whose members matter.
const TWEET = 0;
const USER = 1;
const ENTITIES = 2;
const ITEM = 3;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SPACE = 0x20;

/** Keys as byte values, to compare in place. */
function keyBytes(key: string): Uint8Array {
  return Uint8Array.from(key, (c) => c.charCodeAt(0));
}
const K_ID_STR = keyBytes('id_str');
const K_TEXT = keyBytes('text');
const K_USER = keyBytes('user');
const K_AUTHOR = keyBytes('author');
const K_ENTITIES = keyBytes('entities');
const K_AUTHOR_ID = keyBytes('author_id');
const K_FULL_TEXT = keyBytes('full_text');
const K_CREATED_AT = keyBytes('created_at');
const K_NOTE_TWEET = keyBytes('note_tweet');
const K_EXTENDED_TWEET = keyBytes('extended_tweet');
const K_HASHTAGS = keyBytes('hashtags');
const K_SYMBOLS = keyBytes('symbols');
const K_CASHTAGS = keyBytes('cashtags');
const K_TAG = keyBytes('tag');
const K_TRUE = keyBytes('true');
const K_FALSE = keyBytes('false');
const K_NULL = keyBytes('null');

/**
 * Bytes the fast path expects at a place, as little-endian 32-bit words at
 * offsets 0, 4, 8, ... and length - 4 (overlapping the one before), to be
 * compared four bytes at a time.
 */
interface Expected {
  length: number;
  words: Int32Array;
}
function expected(text: string): Expected {
  const bytes = Buffer.from(text, 'latin1');
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  for (let k = 0; k < words.length; k++) words[k] = bytes.readInt32LE(Math.min(4 * k, bytes.length - 4));
  return { length: bytes.length, words };
}
// The usual v2 and v1.1 tweets, up to each value's first byte.
const X_ID = expected('{"id":"');
const X_CREATED_AT = expected(',"created_at":"');
const X_AUTHOR_ID = expected(',"author_id":"');
const X_TEXT = expected(',"text":"');
const X_LANG = expected(',"lang":"');
const X_V1_CREATED_AT = expected('{"created_at":"');
const X_V1_ID = expected(',"id":');
const X_ID_STR = expected(',"id_str":"');
const X_USER = expected(',"user":{');
const X_ENTITIES = expected(',"entities":{');
// The usual v2 and v1.1 entity items.
const X_START = expected('{"start":');
const X_END = expected(',"end":');
const X_TAG = expected(',"tag":"');
const X_ITEM_TEXT = expected('{"text":"');
const X_INDICES = expected(',"indices":[');

/** A tweet as the byte scan found it: offsets into the bytes it was given. Reused: read before the next call. */
export interface ScannedTweetBytes {
  bytes: Buffer;
  idStart: number;
  idEnd: number;
  /** -1 when the tweet names no author. */
  authorStart: number;
  authorEnd: number;
  timestampMs: number;
  /** Normalised topics, each once, when scanned without a TopicSink of the caller's (else left as they were). */
  topics: string[];
}

class ByteScan {
  b: Buffer = Buffer.alloc(0);
  /** End of the line (exclusive); reading at or past it gives -1 from at(). */
  n = 0;
  /** The bytes' memory, to read four bytes at once, and where the bytes start in it. */
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  base = 0;
  strFlags = 0;
  fields = 0;
  idNumber = false;
  idStart = 0;
  idEnd = 0;
  idStrStart = 0;
  idStrEnd = 0;
  createdStart = 0;
  createdEnd = 0;
  authorIdStart = 0;
  authorIdEnd = 0;
  userIdStart = -1;
  userIdEnd = 0;
  textStart = 0;
  textEnd = 0;
  textFlags = 0;
  fullTextStart = 0;
  fullTextEnd = 0;
  fullTextFlags = 0;
  lists = 0;
  tagCount = 0;
  readonly tagKind = new Uint8Array(MAX_TAGS);
  readonly tagStart = new Int32Array(MAX_TAGS);
  readonly tagEnd = new Int32Array(MAX_TAGS);
  readonly tagFlags = new Uint8Array(MAX_TAGS);

  reset(b: Buffer, end: number): void {
    if (b !== this.b) {
      // Callers pass the lines of one buffer in a row; the getters below are not free.
      if (b.buffer !== this.view.buffer) this.view = new DataView(b.buffer);
      this.base = b.byteOffset;
      this.b = b;
    }
    this.n = end;
    this.fields = 0;
    this.idNumber = false;
    this.userIdStart = -1;
    this.lists = 0;
    this.tagCount = 0;
  }

  /** The byte at i, or -1 past the end of the line (as charCodeAt gives NaN past a string's end). */
  at(i: number): number {
    return i < this.n ? this.b[i] : -1;
  }

  ws(i: number): number {
    // Only the space: the other JSON whitespace bytes are control characters (see the module comment).
    while (this.at(i) === SPACE) i++;
    return i;
  }

  /** Whether the key bytes sit at k (the caller checked the length). */
  is(k: number, key: Uint8Array): boolean {
    const b = this.b;
    for (let j = 0; j < key.length; j++) if (b[k + j] !== key[j]) return false;
    return true;
  }

  /** Whether the expected bytes sit at i, within the line. */
  matches(i: number, x: Expected): boolean {
    const length = x.length;
    if (i + length > this.n) return false;
    const view = this.view;
    const p = this.base + i;
    const words = x.words;
    const last = words.length - 1;
    for (let k = 0; k < last; k++) if (view.getInt32(p + 4 * k, true) !== words[k]) return false;
    return view.getInt32(p + length - 4, true) === words[last];
  }

  /** `i` at an opening quote: the index after the closing quote, or -1. Sets strFlags (ESCAPED only). */
  string(i: number): number {
    const b = this.b;
    const n = this.n;
    const view = this.view;
    const base = this.base;
    let flags = 0;
    i++;
    for (;;) {
      if (i + 4 <= n) {
        // Four bytes at a time: the high bit of a byte of m is set where the byte is a quote, a
        // backslash or below 0x20 (the lowest such byte exactly; borrows only ever run upwards).
        // Each test is the usual (v - k) & ~v on the byte's high bit, sharing ~x: the bytes
        // compared with the quote and the backslash have the high bit of x.
        const x = view.getInt32(base + i, true);
        const m =
          ((x - 0x20202020) | ((x ^ 0x22222222) - 0x01010101) | ((x ^ 0x5c5c5c5c) - 0x01010101)) &
          ~x &
          0x80808080;
        if (m === 0) {
          i += 4;
          continue;
        }
        i += (31 - Math.clz32(m & -m)) >> 3;
      } else if (i >= n) {
        return -1;
      }
      const c = b[i];
      if (c === QUOTE) {
        this.strFlags = flags;
        return i + 1;
      }
      if (c === BACKSLASH) {
        flags = ESCAPED;
        i = this.escape(i);
        if (i < 0) return -1;
      } else if (c < 0x20) {
        return -1;
      } else {
        i++;
      }
    }
  }

  /** `i` at a backslash: the index after the escape, or -1. */
  private escape(i: number): number {
    const e = this.at(i + 1);
    if (e === 0x75) {
      if (!isHex(this.at(i + 2)) || !isHex(this.at(i + 3))) return -1;
      if (!isHex(this.at(i + 4)) || !isHex(this.at(i + 5))) return -1;
      return i + 6;
    }
    if (
      e === QUOTE ||
      e === BACKSLASH ||
      e === 0x2f ||
      e === 0x62 ||
      e === 0x66 ||
      e === 0x6e ||
      e === 0x72 ||
      e === 0x74
    ) {
      return i + 2;
    }
    return -1;
  }

  number(i: number): number {
    const b = this.b;
    const n = this.n;
    let c = this.at(i);
    if (c === 0x2d) c = this.at(++i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (i < n && isDigit(b[i])) i++;
    } else return -1;
    c = this.at(i);
    if (c === 0x2e) {
      if (!isDigit(this.at(++i))) return -1;
      while (i < n && isDigit(b[i])) i++;
      c = this.at(i);
    }
    if (c === 0x65 || c === 0x45) {
      c = this.at(++i);
      if (c === 0x2b || c === 0x2d) i++;
      if (!isDigit(this.at(i))) return -1;
      while (i < n && isDigit(b[i])) i++;
    }
    return i;
  }

  /** A literal (true, false, null) at i: the index after it, or -1. */
  private literal(i: number, key: Uint8Array): number {
    return i + key.length <= this.n && this.is(i, key) ? i + key.length : -1;
  }

  skip(i: number, depth: number): number {
    switch (this.at(i)) {
      case QUOTE:
        return this.string(i);
      case OPEN_BRACE:
        return this.skipObject(i, depth + 1);
      case OPEN_BRACKET:
        return this.skipArray(i, depth + 1);
      case 0x74:
        return this.literal(i, K_TRUE);
      case 0x66:
        return this.literal(i, K_FALSE);
      case 0x6e:
        return this.literal(i, K_NULL);
      default:
        return this.number(i);
    }
  }

  private skipObject(i: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    i = this.ws(i + 1);
    if (this.at(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (this.at(i) !== QUOTE) return -1;
      i = this.string(i);
      if (i < 0) return -1;
      i = this.ws(i);
      if (this.at(i) !== COLON) return -1;
      i = this.skip(this.ws(i + 1), depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = this.at(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACE) return i + 1;
      else return -1;
    }
  }

  private skipArray(i: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    i = this.ws(i + 1);
    if (this.at(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.skip(i, depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = this.at(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACKET) return i + 1;
      else return -1;
    }
  }

  members(i: number, object: number): number {
    i = this.ws(i + 1);
    if (this.at(i) === CLOSE_BRACE) return i + 1;
    i = this.member(i, object);
    return i < 0 ? -1 : this.rest(i, object);
  }

  /** `i` after a member's value: the index after the object's closing brace, or -1. */
  private rest(i: number, object: number): number {
    for (;;) {
      i = this.ws(i);
      const c = this.at(i);
      if (c === CLOSE_BRACE) return i + 1;
      if (c !== COMMA) return -1;
      i = this.member(this.ws(i + 1), object);
      if (i < 0) return -1;
    }
  }

  /** `i` at a member's key: the index after its value, or -1. */
  private member(i: number, object: number): number {
    if (this.at(i) !== QUOTE) return -1;
    const keyStart = i + 1;
    i = this.string(i);
    if (i < 0 || (this.strFlags & ESCAPED) !== 0) return -1;
    const keyLength = i - 1 - keyStart;
    i = this.ws(i);
    if (this.at(i) !== COLON) return -1;
    const at = this.ws(i + 1);
    switch (object) {
      case TWEET:
        return this.topMember(keyStart, keyLength, at);
      case USER:
        return this.userMember(keyStart, keyLength, at);
      case ENTITIES:
        return this.entitiesMember(keyStart, keyLength, at);
      default:
        return this.itemMember(keyStart, keyLength, at);
    }
  }

  /**
   * members(i, TWEET) for a tweet whose members start as API v2 or v1.1
   * write them, with the expected keys and separators compared in place. Up
   * to where they stop matching, members() would have read the same keys and
   * kept the same values, so the general scan goes on from there. -1 when
   * the line does not start so or is invalid: members() then decides from
   * the start.
   */
  usualMembers(i: number): number {
    let end = this.expectedString(i, X_ID);
    if (end >= 0) {
      // v2: id, created_at, author_id and text, then lang and entities if there.
      if (this.strFlags !== 0) return -1;
      this.idStart = i + X_ID.length;
      this.idEnd = end - 1;
      i = end;
      end = this.expectedString(i, X_CREATED_AT);
      if (end < 0 || this.strFlags !== 0) return -1;
      this.createdStart = i + X_CREATED_AT.length;
      this.createdEnd = end - 1;
      i = end;
      end = this.expectedString(i, X_AUTHOR_ID);
      if (end < 0 || this.strFlags !== 0) return -1;
      this.authorIdStart = i + X_AUTHOR_ID.length;
      this.authorIdEnd = end - 1;
      i = end;
      end = this.expectedString(i, X_TEXT);
      if (end < 0) return -1;
      this.textStart = i + X_TEXT.length;
      this.textEnd = end - 1;
      this.textFlags = this.strFlags;
      this.fields = F_ID | F_CREATED_AT | F_AUTHOR_ID | F_TEXT;
      if (this.matches(end, X_LANG)) {
        end = this.string(end + X_LANG.length - 1);
        if (end < 0) return -1;
      }
    } else {
      // v1.1: created_at, id, id_str, text and user, then entities if there.
      end = this.expectedString(i, X_V1_CREATED_AT);
      if (end < 0 || this.strFlags !== 0) return -1;
      this.createdStart = i + X_V1_CREATED_AT.length;
      this.createdEnd = end - 1;
      if (!this.matches(end, X_V1_ID)) return -1;
      i = this.number(end + X_V1_ID.length);
      if (i < 0) return -1;
      this.idNumber = true;
      end = this.expectedString(i, X_ID_STR);
      if (end < 0 || this.strFlags !== 0) return -1;
      this.idStrStart = i + X_ID_STR.length;
      this.idStrEnd = end - 1;
      i = end;
      end = this.expectedString(i, X_TEXT);
      if (end < 0) return -1;
      this.textStart = i + X_TEXT.length;
      this.textEnd = end - 1;
      this.textFlags = this.strFlags;
      if (!this.matches(end, X_USER)) return -1;
      end = this.members(end + X_USER.length - 1, USER);
      if (end < 0) return -1;
      this.fields = F_CREATED_AT | F_ID | F_ID_STR | F_TEXT | F_USER;
    }
    if (this.matches(end, X_ENTITIES)) {
      this.fields |= F_ENTITIES;
      end = this.members(end + X_ENTITIES.length - 1, ENTITIES);
      if (end < 0) return -1;
    }
    return this.rest(end, TWEET);
  }

  /** The index after the string value that follows the expected x (up to its opening quote) at i, or -1. */
  private expectedString(i: number, x: Expected): number {
    return this.matches(i, x) ? this.string(i + x.length - 1) : -1;
  }

  topMember(k: number, len: number, at: number): number {
    const b = this.b;
    let field = 0;
    switch (len) {
      case 2:
        if (b[k] === 0x69 && b[k + 1] === 0x64) field = F_ID;
        break;
      case 4:
        if (this.is(k, K_TEXT)) field = F_TEXT;
        else if (this.is(k, K_USER)) field = F_USER;
        break;
      case 6:
        if (this.is(k, K_ID_STR)) field = F_ID_STR;
        else if (this.is(k, K_AUTHOR)) field = F_AUTHOR;
        break;
      case 8:
        if (this.is(k, K_ENTITIES)) field = F_ENTITIES;
        break;
      case 9:
        if (this.is(k, K_AUTHOR_ID)) field = F_AUTHOR_ID;
        else if (this.is(k, K_FULL_TEXT)) field = F_FULL_TEXT;
        break;
      case 10:
        if (this.is(k, K_CREATED_AT)) field = F_CREATED_AT;
        else if (this.is(k, K_NOTE_TWEET)) field = F_LONG;
        break;
      case 14:
        if (this.is(k, K_EXTENDED_TWEET)) field = F_LONG;
        break;
    }
    if (field === 0) return this.skip(at, 1);
    if ((this.fields & field) !== 0) return -1;
    this.fields |= field;
    const c = this.at(at);
    let end: number;
    switch (field) {
      case F_ID:
        if (c === QUOTE) {
          end = this.string(at);
          if (end < 0 || this.strFlags !== 0) return -1;
          this.idStart = at + 1;
          this.idEnd = end - 1;
          return end;
        }
        this.idNumber = true;
        return this.number(at);
      case F_ID_STR:
        if (c !== QUOTE) return -1;
        end = this.string(at);
        if (end < 0 || this.strFlags !== 0) return -1;
        this.idStrStart = at + 1;
        this.idStrEnd = end - 1;
        return end;
      case F_CREATED_AT:
        if (c !== QUOTE) return -1;
        end = this.string(at);
        if (end < 0 || this.strFlags !== 0) return -1;
        this.createdStart = at + 1;
        this.createdEnd = end - 1;
        return end;
      case F_AUTHOR_ID:
        if (c !== QUOTE) return -1;
        end = this.string(at);
        if (end < 0 || this.strFlags !== 0) return -1;
        this.authorIdStart = at + 1;
        this.authorIdEnd = end - 1;
        return end;
      case F_TEXT:
        if (c !== QUOTE) return -1;
        end = this.string(at);
        this.textStart = at + 1;
        this.textEnd = end - 1;
        this.textFlags = this.strFlags;
        return end;
      case F_FULL_TEXT:
        if (c !== QUOTE) return -1;
        end = this.string(at);
        this.fullTextStart = at + 1;
        this.fullTextEnd = end - 1;
        this.fullTextFlags = this.strFlags;
        return end;
      case F_USER:
        if (c !== OPEN_BRACE) return -1;
        return this.members(at, USER);
      case F_ENTITIES:
        if (c !== OPEN_BRACE) return -1;
        return this.members(at, ENTITIES);
      case F_AUTHOR:
        return this.skip(at, 1);
      default: // F_LONG
        return -1;
    }
  }

  userMember(k: number, len: number, at: number): number {
    if (len !== 6 || !this.is(k, K_ID_STR)) return this.skip(at, 2);
    if (this.userIdStart !== -1 || this.at(at) !== QUOTE) return -1;
    const end = this.string(at);
    if (end < 0 || this.strFlags !== 0) return -1;
    this.userIdStart = at + 1;
    this.userIdEnd = end - 1;
    return end;
  }

  entitiesMember(k: number, len: number, at: number): number {
    let kind = -1;
    if (len === 8 && this.is(k, K_HASHTAGS)) kind = HASHTAGS;
    else if (len === 7 && this.is(k, K_SYMBOLS)) kind = SYMBOLS;
    else if (len === 8 && this.is(k, K_CASHTAGS)) kind = CASHTAGS;
    if (kind === -1) return this.skip(at, 2);
    if ((this.lists & (1 << kind)) !== 0) return -1;
    this.lists |= 1 << kind;
    if (this.at(at) !== OPEN_BRACKET) return this.skip(at, 2);
    let i = this.ws(at + 1);
    if (this.at(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.at(i) === OPEN_BRACE ? this.tagItem(i, kind) : this.skip(i, 3);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = this.at(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACKET) return i + 1;
      else return -1;
    }
  }

  private itemTagStart = -1;
  private itemTagEnd = 0;
  private itemTagFlags = 0;
  private itemTextStart = -1;
  private itemTextEnd = 0;
  private itemTextFlags = 0;
  private itemKeys = 0;

  private tagItem(i: number, kind: number): number {
    let end = this.usualItem(i);
    if (end < 0) {
      this.itemTagStart = -1;
      this.itemTextStart = -1;
      this.itemKeys = 0;
      end = this.members(i, ITEM);
      if (end < 0) return -1;
    }
    let start: number;
    let stop: number;
    let flags: number;
    if (this.itemTagStart !== -1) {
      start = this.itemTagStart;
      stop = this.itemTagEnd;
      flags = this.itemTagFlags;
    } else if (this.itemTextStart !== -1) {
      start = this.itemTextStart;
      stop = this.itemTextEnd;
      flags = this.itemTextFlags;
    } else {
      return end;
    }
    if (start === stop) return end;
    const t = this.tagCount;
    if (t === MAX_TAGS) return -1;
    this.tagKind[t] = kind;
    this.tagStart[t] = start;
    this.tagEnd[t] = stop;
    this.tagFlags[t] = flags;
    this.tagCount = t + 1;
    return end;
  }

  /**
   * members(i, ITEM) for the item v2 writes ({"start":4,"end":12,"tag":"x"})
   * or v1.1 writes ({"text":"x","indices":[4,12]}), compared in place, with
   * the item's tag or text set as members() sets it; -1 for any other item
   * (members() then decides).
   */
  private usualItem(i: number): number {
    let at: number;
    let end: number;
    if (this.matches(i, X_START)) {
      end = this.number(i + X_START.length);
      if (end < 0 || !this.matches(end, X_END)) return -1;
      end = this.number(end + X_END.length);
      if (end < 0 || !this.matches(end, X_TAG)) return -1;
      at = end + X_TAG.length - 1;
      end = this.string(at);
      if (end < 0 || this.at(end) !== CLOSE_BRACE) return -1;
      this.itemTagStart = at + 1;
      this.itemTagEnd = end - 1;
      this.itemTagFlags = this.strFlags;
      this.itemTextStart = -1;
      return end + 1;
    }
    if (!this.matches(i, X_ITEM_TEXT)) return -1;
    at = i + X_ITEM_TEXT.length - 1;
    end = this.string(at);
    if (end < 0 || !this.matches(end, X_INDICES)) return -1;
    const textEnd = end - 1;
    const flags = this.strFlags;
    end = this.number(end + X_INDICES.length);
    if (end < 0 || this.at(end) !== COMMA) return -1;
    end = this.number(end + 1);
    if (end < 0 || this.at(end) !== CLOSE_BRACKET || this.at(end + 1) !== CLOSE_BRACE) return -1;
    this.itemTextStart = at + 1;
    this.itemTextEnd = textEnd;
    this.itemTextFlags = flags;
    this.itemTagStart = -1;
    return end + 2;
  }

  itemMember(k: number, len: number, at: number): number {
    let key = 0;
    if (len === 3 && this.is(k, K_TAG)) key = 1;
    else if (len === 4 && this.is(k, K_TEXT)) key = 2;
    if (key === 0) return this.skip(at, 4);
    if ((this.itemKeys & key) !== 0) return -1;
    this.itemKeys |= key;
    if (this.at(at) !== QUOTE) return this.skip(at, 4);
    const end = this.string(at);
    if (end < 0) return -1;
    if (key === 1) {
      this.itemTagStart = at + 1;
      this.itemTagEnd = end - 1;
      this.itemTagFlags = this.strFlags;
    } else {
      this.itemTextStart = at + 1;
      this.itemTextEnd = end - 1;
      this.itemTextFlags = this.strFlags;
    }
    return end;
  }

  /** The string value at [start, end) of the bytes, decoded as the string form decodes it. */
  value(start: number, end: number, flags: number): string {
    return (flags & ESCAPED) === 0
      ? this.b.toString('utf8', start, end)
      : (JSON.parse(this.b.toString('utf8', start - 1, end + 1)) as string);
  }

  digitsAt(start: number, end: number): boolean {
    if (start === end) return false;
    const view = this.view;
    const base = this.base;
    let i = start;
    // Four at a time: a byte outside 0x30-0x39 sets its high bit in x - 0x30 or in x + 0x46
    // (the lowest such byte exactly, as no borrow or carry comes from the digits below it).
    for (; i + 4 <= end; i += 4) {
      const x = view.getInt32(base + i, true);
      if (((x - 0x30303030) | (x + 0x46464646)) & 0x80808080) return false;
    }
    const b = this.b;
    for (; i < end; i++) if (!isDigit(b[i])) return false;
    return true;
  }

  /** Fills `out` as tweet-scanner's result() does; false when the full path must decide. */
  result(options: DecodeOptions, out: ScannedTweetBytes, sink: TopicSink): boolean {
    const fields = this.fields;
    if ((fields & (F_ID | F_ID_STR)) === 0) return false;
    const v1 = (fields & (F_ID_STR | F_USER)) !== 0 || this.idNumber;

    if ((fields & F_ID_STR) !== 0) {
      if (!this.digitsAt(this.idStrStart, this.idStrEnd)) return false;
      out.idStart = this.idStrStart;
      out.idEnd = this.idStrEnd;
    } else {
      if (this.idNumber || !this.digitsAt(this.idStart, this.idEnd)) return false;
      out.idStart = this.idStart;
      out.idEnd = this.idEnd;
    }

    if ((fields & F_CREATED_AT) === 0) return false;
    const timestampMs = this.date(this.createdStart, this.createdEnd);
    if (timestampMs === undefined) return false;
    out.timestampMs = timestampMs;

    if (v1 && (fields & F_USER) !== 0) {
      if (this.userIdStart === -1 || !this.digitsAt(this.userIdStart, this.userIdEnd)) return false;
      out.authorStart = this.userIdStart;
      out.authorEnd = this.userIdEnd;
    } else if ((fields & F_AUTHOR_ID) !== 0 && this.digitsAt(this.authorIdStart, this.authorIdEnd)) {
      out.authorStart = this.authorIdStart;
      out.authorEnd = this.authorIdEnd;
    } else if ((fields & F_AUTHOR) !== 0) {
      return false;
    } else {
      out.authorStart = -1;
      out.authorEnd = -1;
    }

    sink.clear();
    if ((fields & F_ENTITIES) !== 0) {
      this.addTags(HASHTAGS, false, sink);
      if (options.cashtags) {
        const primary = v1 ? SYMBOLS : CASHTAGS;
        this.addTags((this.lists & (1 << primary)) !== 0 ? primary : v1 ? CASHTAGS : SYMBOLS, true, sink);
      }
    } else {
      let start = -1;
      let end = 0;
      let flags = 0;
      if (v1 && (fields & F_FULL_TEXT) !== 0) {
        start = this.fullTextStart;
        end = this.fullTextEnd;
        flags = this.fullTextFlags;
      } else if ((fields & F_TEXT) !== 0) {
        start = this.textStart;
        end = this.textEnd;
        flags = this.textFlags;
      }
      // Most texts name no topic: decode only those whose bytes may hold a sign (textTopics looks for them).
      if (start !== -1 && this.maySign(start, end, flags, options.cashtags))
        textTopics(this.value(start, end, flags), options, sink);
    }
    out.bytes = this.b;
    return true;
  }

  /**
   * Whether the string at [start, end) may hold '#', U+FF03 or (with
   * cashtags) '$' once decoded. Without escapes those are the bytes 0x23,
   * 0xEF 0xBC 0x83 and 0x24 (other bytes never decode to them, invalid UTF-8
   * included); an escape could spell any of them.
   */
  private maySign(start: number, end: number, flags: number, cashtags: boolean): boolean {
    if ((flags & ESCAPED) !== 0) return true;
    const b = this.b;
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c === 0x23 || (c === 0x24 && cashtags)) return true;
      if (c === 0xef && b[i + 1] === 0xbc && b[i + 2] === 0x83) return true;
    }
    return false;
  }

  /** The date at [start, end) (unescaped); undefined with a non-ASCII byte. */
  private date(start: number, end: number): number | undefined {
    return parseCreatedAtBytes(this.b, start, end);
  }

  private addTags(kind: number, cashtag: boolean, sink: TopicSink): void {
    const b = this.b;
    for (let t = 0; t < this.tagCount; t++) {
      if (this.tagKind[t] !== kind) continue;
      const start = this.tagStart[t];
      const end = this.tagEnd[t];
      let flags = this.tagFlags[t];
      for (let i = start; i < end && flags === 0; i++) if (b[i] >= 0x80) flags = NON_ASCII;
      if (flags === 0) {
        // NFKC leaves ASCII as it is: lower-casing is the whole normalisation.
        sink.addAscii(b, start, end, cashtag ? 0x24 : 0x23);
      } else {
        const tag = this.value(start, end, flags);
        sink.addString(cashtag ? normalizeCashtag(tag) : normalizeHashtag(tag));
      }
    }
  }
}

/** As tweet-scanner.ts's: the topics of the text when there are no entities. */
function textTopics(text: string, options: DecodeOptions, sink: TopicSink): void {
  if (text.indexOf('#') !== -1 || text.indexOf('\uFF03') !== -1) {
    const tags = extractHashtags(text);
    for (let i = 0; i < tags.length; i++) sink.addString(tags[i]);
  }
  if (options.cashtags && text.indexOf('$') !== -1) {
    const cashtags = extractCashtags(text);
    for (let i = 0; i < cashtags.length; i++) sink.addString(cashtags[i]);
  }
}

/** The TopicSink of callers that want topics as strings: into ScannedTweetBytes.topics. */
class StringTopicSink implements TopicSink {
  constructor(private readonly topics: string[]) {}

  clear(): void {
    this.topics.length = 0;
  }

  addAscii(bytes: Uint8Array, start: number, end: number, sign: number): void {
    this.addString(asciiTopic(bytes, start, end, sign));
  }

  addString(topic: string): void {
    if (this.topics.indexOf(topic) === -1) this.topics.push(topic);
  }
}

/**
 * sign + the ASCII bytes [start, end) lower-cased, as one string made at
 * once (a native decode, a lower-cased copy and a concatenation cost more
 * for tags of a few characters).
 */
function asciiTopic(b: Uint8Array, start: number, end: number, sign: number): string {
  const length = end - start + 1;
  if (length >= TOPIC_CODES.length)
    return (
      String.fromCharCode(sign) +
      Buffer.from(b.buffer, b.byteOffset + start, end - start)
        .toString('latin1')
        .toLowerCase()
    );
  // An array of exactly this length, reused (as in string-copy.ts).
  let codes = TOPIC_CODES[length];
  if (codes === undefined) codes = TOPIC_CODES[length] = new Array<number>(length).fill(0);
  codes[0] = sign;
  for (let i = 1; i < length; i++) {
    const c = b[start + i - 1];
    codes[i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  return String.fromCharCode.apply(null, codes);
}
/** Character-code arrays by length, for asciiTopic. */
const TOPIC_CODES: (number[] | undefined)[] = new Array<number[] | undefined>(48).fill(undefined);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

const scan = new ByteScan();
const scanned: ScannedTweetBytes = {
  bytes: Buffer.alloc(0),
  idStart: 0,
  idEnd: 0,
  authorStart: -1,
  authorEnd: -1,
  timestampMs: 0,
  topics: [],
};
const stringTopics = new StringTopicSink(scanned.topics);

/**
 * The tweet of the line bytes[start, end) by the fast path, in an object
 * reused by the next call, or undefined when the line must go through the
 * full path (as a string). Its topics go to `sink` (each once, in order),
 * by default into the result's `topics`; a sink gets topics only for a
 * tweet the call returns. Never throws.
 */
export function scanTweetBytes(
  bytes: Buffer,
  start: number,
  end: number,
  options: DecodeOptions,
  sink: TopicSink = stringTopics,
): ScannedTweetBytes | undefined {
  scan.reset(bytes, end);
  const open = scan.ws(start);
  if (scan.at(open) !== OPEN_BRACE) return undefined;
  let i = scan.usualMembers(open);
  if (i < 0) {
    scan.reset(bytes, end);
    i = scan.members(open, TWEET);
  }
  if (i < 0 || scan.ws(i) !== end) return undefined;
  return scan.result(options, scanned, sink) ? scanned : undefined;
}
