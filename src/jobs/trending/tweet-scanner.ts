/**
 * The decoder's fast path: decodes a line holding one bare tweet object (API
 * v1.1, or API v2 as the generator and the streaming endpoints write it)
 * without JSON.parse, reading only the fields the job needs where they sit
 * in the line.
 *
 * Contract: scanTweet(line) is either undefined ("not for the fast path") or
 * exactly the one tweet that the full path (JSON.parse, then decodeValue)
 * gives for the same line. It is undefined for anything unusual, and the
 * caller then runs the full path, which also writes every failure message:
 *
 * - the line is not valid JSON (the whole line is validated, so a broken
 *   tail cannot hide behind the fields already read);
 * - it is not one object with an `id` or `id_str`, i.e. pages and envelopes;
 * - a key that matters is escaped, given twice, or of an unexpected type;
 * - the tweet has `extended_tweet` or `note_tweet` (long tweets);
 * - a field would make the tweet a failure (ids that are not digits, dates
 *   that do not parse, ...) or take a rarer branch (numeric ids without
 *   `id_str`, users without `id_str`, twarc's `author` object);
 * - nesting deeper than MAX_DEPTH, more than MAX_TAGS entity items.
 *
 * The scan keeps its working state in one reused object and typed arrays.
 * scanTweetIn hands out the id and author as ranges of the line in a reused
 * result, so its only allocations per line are the topic strings; scanTweet
 * makes the Tweet (and its strings) from it.
 */
import { extractCashtags, extractHashtags, normalizeCashtag, normalizeHashtag } from './hashtags';
import { copyOf } from './string-copy';
import { parseCreatedAtIn } from './tweet-dates';
import type { DecodeOptions, Tweet } from './tweet';

/** Deeper nesting is left to JSON.parse (which the scan would otherwise have to mirror with a stack). */
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

// The objects whose members matter (Scan.members).
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

class Scan {
  s = '';
  n = 0;
  /** Flags of the string scanned last. */
  strFlags = 0;
  /** Fields seen at the top level (F_*). */
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
  /** user.id_str, when the user object has one (-1 otherwise). */
  userIdStart = -1;
  userIdEnd = 0;
  textStart = 0;
  textEnd = 0;
  textFlags = 0;
  fullTextStart = 0;
  fullTextEnd = 0;
  fullTextFlags = 0;
  /** Entity lists present in `entities` (1 << kind). */
  lists = 0;
  tagCount = 0;
  readonly tagKind = new Uint8Array(MAX_TAGS);
  readonly tagStart = new Int32Array(MAX_TAGS);
  readonly tagEnd = new Int32Array(MAX_TAGS);
  readonly tagFlags = new Uint8Array(MAX_TAGS);

  /** Index of the next backslash at or after the scan position (-1: none left). */
  nextBackslash = -1;

  reset(s: string): void {
    this.s = s;
    this.n = s.length;
    this.nextBackslash = s.indexOf('\\');
    this.fields = 0;
    this.idNumber = false;
    this.userIdStart = -1;
    this.lists = 0;
    this.tagCount = 0;
  }

  /** The index of the first non-whitespace character at or after i (JSON whitespace only). */
  ws(i: number): number {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
      i++;
    }
  }

  /**
   * `i` at an opening quote: the index after the closing quote, or -1 if the
   * string is not valid JSON. Sets strFlags (ESCAPED only: NON_ASCII is left
   * to the few strings that need it, see flagsOf).
   */
  string(i: number): number {
    const s = this.s;
    const q = s.indexOf('"', i + 1);
    if (q === -1) return -1;
    // Most strings hold no backslash: then the next quote ends them. Control
    // characters were ruled out for the whole line up front.
    let bs = this.nextBackslash;
    if (bs !== -1 && bs <= i) bs = this.nextBackslash = s.indexOf('\\', i + 1);
    if (bs === -1 || bs > q) {
      this.strFlags = 0;
      return q + 1;
    }
    return this.escapedString(bs);
  }

  /** The rest of a string from its first backslash at `i`, character by character. */
  private escapedString(i: number): number {
    const s = this.s;
    const n = this.n;
    for (;;) {
      if (i >= n) return -1;
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.strFlags = ESCAPED;
        this.nextBackslash = s.indexOf('\\', i + 1);
        return i + 1;
      }
      if (c === BACKSLASH) {
        const e = s.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!isHex(s.charCodeAt(i + 2)) || !isHex(s.charCodeAt(i + 3))) return -1;
          if (!isHex(s.charCodeAt(i + 4)) || !isHex(s.charCodeAt(i + 5))) return -1;
          i += 6;
          continue;
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
          i += 2;
          continue;
        }
        return -1;
      }
      i++;
    }
  }

  /** A JSON number at i: the index after it, or -1. */
  number(i: number): number {
    const s = this.s;
    let c = s.charCodeAt(i);
    if (c === 0x2d) c = s.charCodeAt(++i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (isDigit(s.charCodeAt(i))) i++;
    } else return -1;
    if (s.charCodeAt(i) === 0x2e) {
      if (!isDigit(s.charCodeAt(++i))) return -1;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    c = s.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      c = s.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) i++;
      if (!isDigit(s.charCodeAt(i))) return -1;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    return i;
  }

  /** Validates and skips any JSON value at i (no whitespace before it): the index after it, or -1. */
  skip(i: number, depth: number): number {
    const c = this.s.charCodeAt(i);
    switch (c) {
      case QUOTE:
        return this.string(i);
      case OPEN_BRACE:
        return this.skipObject(i, depth + 1);
      case OPEN_BRACKET:
        return this.skipArray(i, depth + 1);
      case 0x74: // t
        return this.s.startsWith('true', i) ? i + 4 : -1;
      case 0x66: // f
        return this.s.startsWith('false', i) ? i + 5 : -1;
      case 0x6e: // n
        return this.s.startsWith('null', i) ? i + 4 : -1;
      default:
        return this.number(i);
    }
  }

  private skipObject(i: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    const s = this.s;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) return -1;
      i = this.string(i);
      if (i < 0) return -1;
      i = this.ws(i);
      if (s.charCodeAt(i) !== COLON) return -1;
      i = this.skip(this.ws(i + 1), depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = s.charCodeAt(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACE) return i + 1;
      else return -1;
    }
  }

  private skipArray(i: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    const s = this.s;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.skip(i, depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = s.charCodeAt(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACKET) return i + 1;
      else return -1;
    }
  }

  /**
   * Reads the members of an object (TWEET, USER, ENTITIES or ITEM), handing
   * each value to that object's member method, which returns the index after
   * the value or -1.
   * Escaped keys give -1: they could spell a key that matters.
   */
  members(i: number, object: number): number {
    const s = this.s;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) return -1;
      const keyStart = i + 1;
      i = this.string(i);
      if (i < 0 || (this.strFlags & ESCAPED) !== 0) return -1;
      const keyLength = i - 1 - keyStart;
      i = this.ws(i);
      if (s.charCodeAt(i) !== COLON) return -1;
      const at = this.ws(i + 1);
      // A switch, not a callback: direct calls stay monomorphic and inlinable.
      switch (object) {
        case TWEET:
          i = this.topMember(keyStart, keyLength, at);
          break;
        case USER:
          i = this.userMember(keyStart, keyLength, at);
          break;
        case ENTITIES:
          i = this.entitiesMember(keyStart, keyLength, at);
          break;
        default:
          i = this.itemMember(keyStart, keyLength, at);
      }
      if (i < 0) return -1;
      i = this.ws(i);
      const c = s.charCodeAt(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACE) return i + 1;
      else return -1;
    }
  }

  /** A member of the tweet object. */
  topMember(k: number, len: number, at: number): number {
    const s = this.s;
    let field = 0;
    switch (len) {
      case 2:
        if (s.startsWith('id', k)) field = F_ID;
        break;
      case 4:
        if (s.startsWith('text', k)) field = F_TEXT;
        else if (s.startsWith('user', k)) field = F_USER;
        break;
      case 6:
        if (s.startsWith('id_str', k)) field = F_ID_STR;
        else if (s.startsWith('author', k)) field = F_AUTHOR;
        break;
      case 8:
        if (s.startsWith('entities', k)) field = F_ENTITIES;
        break;
      case 9:
        if (s.startsWith('author_id', k)) field = F_AUTHOR_ID;
        else if (s.startsWith('full_text', k)) field = F_FULL_TEXT;
        break;
      case 10:
        if (s.startsWith('created_at', k)) field = F_CREATED_AT;
        else if (s.startsWith('note_tweet', k)) field = F_LONG;
        break;
      case 14:
        if (s.startsWith('extended_tweet', k)) field = F_LONG;
        break;
    }
    if (field === 0) return this.skip(at, 1);
    // JSON.parse keeps the last of repeated keys; rather than mirror that, leave such lines to it.
    if ((this.fields & field) !== 0) return -1;
    this.fields |= field;
    const c = s.charCodeAt(at);
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

  /** A member of `user`: only `id_str` matters. */
  userMember(k: number, len: number, at: number): number {
    if (len !== 6 || !this.s.startsWith('id_str', k)) return this.skip(at, 2);
    if (this.userIdStart !== -1 || this.s.charCodeAt(at) !== QUOTE) return -1;
    const end = this.string(at);
    if (end < 0 || this.strFlags !== 0) return -1;
    this.userIdStart = at + 1;
    this.userIdEnd = end - 1;
    return end;
  }

  /** A member of `entities`: the hashtag, symbol and cashtag lists. */
  entitiesMember(k: number, len: number, at: number): number {
    const s = this.s;
    let kind = -1;
    if (len === 8 && s.startsWith('hashtags', k)) kind = HASHTAGS;
    else if (len === 7 && s.startsWith('symbols', k)) kind = SYMBOLS;
    else if (len === 8 && s.startsWith('cashtags', k)) kind = CASHTAGS;
    if (kind === -1) return this.skip(at, 2);
    if ((this.lists & (1 << kind)) !== 0) return -1;
    this.lists |= 1 << kind;
    // Anything but a list holds no tags, as in the full path.
    if (s.charCodeAt(at) !== OPEN_BRACKET) return this.skip(at, 2);
    let i = this.ws(at + 1);
    if (s.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = s.charCodeAt(i) === OPEN_BRACE ? this.tagItem(i, kind) : this.skip(i, 3);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = s.charCodeAt(i);
      if (c === COMMA) i = this.ws(i + 1);
      else if (c === CLOSE_BRACKET) return i + 1;
      else return -1;
    }
  }

  // One entity item: its `tag` (v2) if a string, else its `text` (v1.1) if a string.
  private itemTagStart = -1;
  private itemTagEnd = 0;
  private itemTagFlags = 0;
  private itemTextStart = -1;
  private itemTextEnd = 0;
  private itemTextFlags = 0;
  private itemKeys = 0;

  private tagItem(i: number, kind: number): number {
    this.itemTagStart = -1;
    this.itemTextStart = -1;
    this.itemKeys = 0;
    const end = this.members(i, ITEM);
    if (end < 0) return -1;
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
    // An empty tag is skipped (escapes never decode to nothing, so the raw length tells).
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

  itemMember(k: number, len: number, at: number): number {
    const s = this.s;
    let key = 0;
    if (len === 3 && s.startsWith('tag', k)) key = 1;
    else if (len === 4 && s.startsWith('text', k)) key = 2;
    if (key === 0) return this.skip(at, 4);
    if ((this.itemKeys & key) !== 0) return -1;
    this.itemKeys |= key;
    if (s.charCodeAt(at) !== QUOTE) return this.skip(at, 4);
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

  /** The string value at [start, end) of the line, escapes decoded. */
  value(start: number, end: number, flags: number): string {
    // The scan validated the string, so JSON.parse of it alone cannot throw.
    return (flags & ESCAPED) === 0
      ? this.s.slice(start, end)
      : (JSON.parse(this.s.slice(start - 1, end + 1)) as string);
  }

  digitsAt(start: number, end: number): boolean {
    if (start === end) return false;
    const s = this.s;
    for (let i = start; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
    return true;
  }

  /**
   * Fills `out` with the tweet once the whole line has been scanned; false
   * when the full path must decide.
   */
  result(options: DecodeOptions, out: ScannedTweet): boolean {
    const fields = this.fields;
    if ((fields & (F_ID | F_ID_STR)) === 0) return false;
    const s = this.s;
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
    const timestampMs = parseCreatedAtIn(s, this.createdStart, this.createdEnd);
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

    const topics = out.topics;
    topics.length = 0;
    if ((fields & F_ENTITIES) !== 0) {
      this.addTags(HASHTAGS, false, topics);
      if (options.cashtags) {
        const primary = v1 ? SYMBOLS : CASHTAGS;
        this.addTags((this.lists & (1 << primary)) !== 0 ? primary : v1 ? CASHTAGS : SYMBOLS, true, topics);
      }
    } else {
      let text: string | undefined;
      if (v1 && (fields & F_FULL_TEXT) !== 0)
        text = this.value(this.fullTextStart, this.fullTextEnd, this.fullTextFlags);
      else if ((fields & F_TEXT) !== 0) text = this.value(this.textStart, this.textEnd, this.textFlags);
      if (text !== undefined) textTopics(text, options, topics);
    }
    out.line = s;
    return true;
  }

  private addTags(kind: number, cashtag: boolean, topics: string[]): void {
    for (let t = 0; t < this.tagCount; t++) {
      if (this.tagKind[t] !== kind) continue;
      const start = this.tagStart[t];
      const end = this.tagEnd[t];
      const flags = this.tagFlags[t] | (isAscii(this.s, start, end) ? 0 : NON_ASCII);
      let topic: string;
      if (flags === 0) {
        // NFKC leaves ASCII as it is: lower-casing is the whole normalisation.
        topic = (cashtag ? '$' : '#') + this.s.slice(start, end).toLowerCase();
      } else {
        const tag = this.value(start, end, flags);
        topic = cashtag ? normalizeCashtag(tag) : normalizeHashtag(tag);
      }
      if (topics.indexOf(topic) === -1) topics.push(topic);
    }
  }
}

/** Appends the topics of a tweet's text to `topics` (empty), as the full path takes them when there are no entities. */
function textTopics(text: string, options: DecodeOptions, topics: string[]): void {
  // No hash sign, no hashtag: skip the regular expressions.
  if (text.indexOf('#') !== -1 || text.indexOf('\uFF03') !== -1) {
    const tags = extractHashtags(text);
    for (let i = 0; i < tags.length; i++) if (topics.indexOf(tags[i]) === -1) topics.push(tags[i]);
  }
  if (options.cashtags && text.indexOf('$') !== -1) {
    const cashtags = extractCashtags(text);
    for (let i = 0; i < cashtags.length; i++)
      if (topics.indexOf(cashtags[i]) === -1) topics.push(cashtags[i]);
  }
}

function isAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * A tweet as the fast path found it: its id and author as ranges of the
 * line (digits only), so the caller makes strings only of what it keeps.
 * scanTweetIn reuses one such object: read it before the next call.
 */
export interface ScannedTweet {
  line: string;
  idStart: number;
  idEnd: number;
  /** -1 when the tweet names no author. */
  authorStart: number;
  authorEnd: number;
  timestampMs: number;
  /** Normalised topics, each once. */
  topics: string[];
}

const scan = new Scan();
const scanned: ScannedTweet = {
  line: '',
  idStart: 0,
  idEnd: 0,
  authorStart: -1,
  authorEnd: -1,
  timestampMs: 0,
  topics: [],
};
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\u0000-\u001f]/;

/**
 * The tweet of `line` by the fast path, as ranges of the line in an object
 * reused by the next call, or undefined when the line must go through the
 * full path (see the module comment). Never throws.
 */
export function scanTweetIn(line: string, options: DecodeOptions): ScannedTweet | undefined {
  // A control character is only valid JSON as whitespace between tokens, which
  // tweets rarely have; ruling them out lets strings be skipped with indexOf.
  if (CONTROL.test(line)) return undefined;
  scan.reset(line);
  let i = scan.ws(0);
  if (line.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = scan.members(i, TWEET);
  if (i < 0 || scan.ws(i) !== line.length) return undefined;
  return scan.result(options, scanned) ? scanned : undefined;
}

/**
 * The tweet of `line` by the fast path, or undefined when the line must go
 * through the full path (see the module comment). Never throws.
 */
export function scanTweet(line: string, options: DecodeOptions): Tweet | undefined {
  const t = scanTweetIn(line, options);
  if (t === undefined) return undefined;
  return {
    id: copyOf(line, t.idStart, t.idEnd),
    timestampMs: t.timestampMs,
    authorId: t.authorStart === -1 ? undefined : copyOf(line, t.authorStart, t.authorEnd),
    topics: t.topics.slice(),
  };
}
