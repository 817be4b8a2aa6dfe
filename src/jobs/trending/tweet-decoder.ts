/**
 * Decodes one input record (a JSON line) into tweets, whatever Twitter format
 * it arrived in:
 *
 * - API v1.1 tweet: `id_str` (or a numeric `id`), `created_at` like
 *   "Sun Dec 14 23:12:32 +0000 2014", `user`, `entities.hashtags[].text`,
 *   `entities.symbols[].text`, and `extended_tweet` for long tweets.
 * - API v2 tweet: string `id`, ISO-8601 `created_at`, `author_id`,
 *   `entities.hashtags[].tag`, `entities.cashtags[].tag`, and `note_tweet`
 *   for long tweets; bare, in a `{"data": {...}}` envelope, or flattened by
 *   twarc (with an `author` object).
 * - API v2 page: `{"data": [...tweets], "includes": {...}, "meta": {...}}`.
 *   Every element of `data` is one tweet; `includes.tweets` are only
 *   referenced tweets and are not decoded.
 *
 * A record that cannot be used becomes a failure with a reason and a detail
 * naming the field; in a page, a bad element fails alone.
 *
 * This runs once per record: no regular expressions, no copies of the input,
 * and dates are parsed by hand (Date.parse guesses at anything it is given).
 */
import { extractCashtags, extractHashtags, normalizeCashtag, normalizeHashtag } from './hashtags';
import type { DeadLetterReason, DecodeOptions, DecodeResult, Tweet } from './tweet';

type JsonObject = Record<string, unknown>;

/** Twitter's snowflake epoch, ms since the Unix epoch (2010-11-04T01:42:54.657Z). */
const TWITTER_EPOCH_MS = 1288834974657;
/** The first snowflake id; smaller ids were sequential and carry no time. */
const FIRST_SNOWFLAKE_ID = 29700859247n;
/** Ids are signed 64-bit integers. */
const MAX_TWEET_ID = 0x7fffffffffffffffn;

const MS_PER_DAY = 86_400_000;

/** Where a tweet sits in the record, for failure details. */
const BARE = -1;
const ENVELOPE = -2;
// A value >= 0 is an index into a page's `data` array.

/**
 * Decodes one line of input. Invalid JSON gives one 'invalid-json' failure
 * whose detail is the parser's message.
 */
export function decodeLine(line: string, options: DecodeOptions): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return {
      tweets: [],
      failures: [{ reason: 'invalid-json', detail: err instanceof Error ? err.message : String(err) }],
    };
  }
  return decodeValue(value, options);
}

/** Decodes one parsed JSON value: a v1.1 tweet, a v2 tweet (bare or in an envelope) or a v2 page. */
export function decodeValue(value: unknown, options: DecodeOptions): DecodeResult {
  const result: DecodeResult = { tweets: [], failures: [] };
  if (!isObject(value)) {
    addFailure(result, 'not-a-tweet', `expected a JSON object, got ${describe(value)}`);
    return result;
  }
  if (value.id !== undefined || value.id_str !== undefined) {
    decodeTweet(value, options, result, BARE);
    return result;
  }
  const data = value.data;
  if (data !== undefined) {
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i++) {
        const element: unknown = data[i];
        if (isObject(element)) decodeTweet(element, options, result, i);
        else
          addFailure(result, 'not-a-tweet', `data[${i}]: expected a JSON object, got ${describe(element)}`);
      }
    } else if (isObject(data)) {
      decodeTweet(data, options, result, ENVELOPE);
    } else {
      addFailure(result, 'wrong-type', `data: expected an array or an object, got ${describe(data)}`);
    }
    return result;
  }
  if (looksLikeTweet(value)) addFailure(result, 'no-id', 'id: missing (no id, id_str or data)');
  else addFailure(result, 'not-a-tweet', 'object has no id, id_str or data');
  return result;
}

/**
 * The creation time of a snowflake tweet id, ms since the epoch; undefined
 * for ids that are not strings of digits, predate snowflake (below
 * 29700859247) or exceed a signed 64-bit integer.
 */
export function tweetTimeFromId(id: string): number | undefined {
  // Fewer than 11 digits: below 29700859247 whatever the digits.
  if (id.length < 11 || !isDigits(id)) return undefined;
  const n = BigInt(id);
  if (n < FIRST_SNOWFLAKE_ID || n > MAX_TWEET_ID) return undefined;
  return Number(n >> 22n) + TWITTER_EPOCH_MS;
}

function decodeTweet(o: JsonObject, options: DecodeOptions, result: DecodeResult, where: number): void {
  // v1.1 names its string id `id_str` and its author `user`; v2 has neither.
  const v1 = o.id_str !== undefined || typeof o.id === 'number' || o.user !== undefined;

  // --- id
  let id: string;
  const idStr = o.id_str;
  if (idStr !== undefined && idStr !== null) {
    if (typeof idStr !== 'string' || !isDigits(idStr)) {
      return fail(result, 'wrong-type', where, `id_str: expected a string of digits, got ${describe(idStr)}`);
    }
    id = idStr;
  } else {
    const raw = o.id;
    if (raw === undefined || raw === null) {
      return fail(result, 'no-id', where, `id: missing (got ${describe(raw)})`);
    }
    if (typeof raw === 'string' && isDigits(raw)) {
      id = raw;
    } else if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) {
      id = String(raw);
    } else if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0) {
      return fail(
        result,
        'wrong-type',
        where,
        `id: number ${raw} is beyond 2^53 (its digits are lost) and there is no id_str`,
      );
    } else {
      return fail(result, 'wrong-type', where, `id: expected a string of digits, got ${describe(raw)}`);
    }
  }

  // --- event time: created_at, else the snowflake id
  const createdAt = o.created_at;
  let timestampMs = typeof createdAt === 'string' ? parseCreatedAt(createdAt) : undefined;
  if (timestampMs === undefined) timestampMs = tweetTimeFromId(id);
  if (timestampMs === undefined) {
    if (createdAt === undefined || createdAt === null) {
      return fail(result, 'no-time', where, `created_at: missing, and id ${id} is not a snowflake id`);
    }
    if (typeof createdAt !== 'string') {
      return fail(
        result,
        'wrong-type',
        where,
        `created_at: expected a string, got ${describe(createdAt)}, and id ${id} is not a snowflake id`,
      );
    }
    return fail(
      result,
      'no-time',
      where,
      `created_at: unparseable ${describe(createdAt)}, and id ${id} is not a snowflake id`,
    );
  }

  // --- author
  const authorId = v1 ? v1Author(o) : v2Author(o);

  // --- topics: the tweet's own entities when it has them, else its text
  let entities: unknown;
  let text: unknown;
  const long = v1 ? o.extended_tweet : o.note_tweet;
  if (
    isObject(long) &&
    (long.entities !== undefined || long.full_text !== undefined || long.text !== undefined)
  ) {
    entities = long.entities;
    text = v1 ? long.full_text : long.text;
  } else {
    entities = o.entities;
    text = v1 && typeof o.full_text === 'string' ? o.full_text : o.text;
  }

  let topics: string[];
  if (isObject(entities)) {
    topics = [];
    addEntityTags(entities.hashtags, false, topics);
    if (options.cashtags) {
      const primary = v1 ? entities.symbols : entities.cashtags;
      addEntityTags(
        primary !== undefined ? primary : v1 ? entities.cashtags : entities.symbols,
        true,
        topics,
      );
    }
  } else if (typeof text === 'string') {
    topics = extractHashtags(text);
    removeDuplicates(topics);
    if (options.cashtags) {
      const cashtags = extractCashtags(text);
      for (let i = 0; i < cashtags.length; i++) addUnique(topics, cashtags[i]);
    }
  } else {
    topics = [];
  }

  const tweet: Tweet = { id, timestampMs, authorId, topics };
  result.tweets.push(tweet);
}

/** v1.1: `user.id_str`, else a safe-integer `user.id`; a flat `author_id` as a last resort. */
function v1Author(o: JsonObject): string | undefined {
  const user = o.user;
  if (isObject(user)) {
    const idStr = user.id_str;
    if (typeof idStr === 'string' && isDigits(idStr)) return idStr;
    const id = user.id;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
    if (typeof id === 'string' && isDigits(id)) return id;
    return undefined;
  }
  return v2Author(o);
}

/** v2: `author_id`; twarc's flattened shape also has `author.id`. */
function v2Author(o: JsonObject): string | undefined {
  const authorId = o.author_id;
  if (typeof authorId === 'string' && isDigits(authorId)) return authorId;
  const author = o.author;
  if (isObject(author)) {
    const id = author.id;
    if (typeof id === 'string' && isDigits(id)) return id;
  }
  return undefined;
}

/**
 * Appends the normalised tags of an entity list (v2 items carry `tag`, v1.1
 * items `text`). Anything that is not a list, or an item without a non-empty
 * string tag, is skipped.
 */
function addEntityTags(list: unknown, cashtags: boolean, topics: string[]): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (!isObject(item)) continue;
    let tag = item.tag;
    if (typeof tag !== 'string') tag = item.text;
    if (typeof tag !== 'string' || tag.length === 0) continue;
    addUnique(topics, cashtags ? normalizeCashtag(tag) : normalizeHashtag(tag));
  }
}

/** A tweet has a handful of topics: a linear scan beats allocating a Set. */
function addUnique(topics: string[], topic: string): void {
  if (topics.indexOf(topic) === -1) topics.push(topic);
}

/** Removes later duplicates in place, keeping first-occurrence order. */
function removeDuplicates(topics: string[]): void {
  let kept = 0;
  for (let i = 0; i < topics.length; i++) {
    const topic = topics[i];
    let seen = false;
    for (let j = 0; j < kept; j++) {
      if (topics[j] === topic) {
        seen = true;
        break;
      }
    }
    if (!seen) topics[kept++] = topic;
  }
  topics.length = kept;
}

function fail(result: DecodeResult, reason: DeadLetterReason, where: number, detail: string): void {
  if (where === BARE) addFailure(result, reason, detail);
  else if (where === ENVELOPE) addFailure(result, reason, `data.${detail}`);
  else addFailure(result, reason, `data[${where}].${detail}`);
}

function addFailure(result: DecodeResult, reason: DeadLetterReason, detail: string): void {
  result.failures.push({ reason, detail });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields that only a tweet (v1.1 or v2) would carry, to tell 'no-id' from 'not-a-tweet'. */
function looksLikeTweet(o: JsonObject): boolean {
  return (
    o.text !== undefined ||
    o.full_text !== undefined ||
    o.created_at !== undefined ||
    o.author_id !== undefined ||
    o.user !== undefined ||
    o.entities !== undefined
  );
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A short description of a JSON value for failure details: its type, and strings and numbers themselves. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
    case 'number':
      return `number ${value}`;
    default:
      return typeof value;
  }
}

// ---------------------------------------------------------------------------
// Dates

/**
 * Parses a tweet's `created_at`: v1.1's "Sun Dec 14 23:12:32 +0000 2014" or
 * ISO-8601 ("2022-09-25T23:59:59.000Z"). Undefined when it is neither.
 */
export function parseCreatedAt(s: string): number | undefined {
  const c = s.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 ? parseIsoDate(s) : parseTwitterDate(s);
}

/** Three ASCII letters packed into one number, to look names up without slicing strings. */
function key3(s: string, at: number): number {
  return (s.charCodeAt(at) << 16) | (s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].map((d) => key3(d, 0));
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m) =>
  key3(m, 0),
);

/**
 * v1.1's "EEE MMM dd HH:mm:ss +ZZZZ yyyy", e.g. "Sun Dec 14 23:12:32 +0000 2014";
 * the offset is honoured. The weekday must be a weekday name but is not
 * checked against the date.
 */
function parseTwitterDate(s: string): number | undefined {
  if (
    s.length !== 30 ||
    s.charCodeAt(3) !== 0x20 ||
    s.charCodeAt(7) !== 0x20 ||
    s.charCodeAt(10) !== 0x20 ||
    s.charCodeAt(13) !== 0x3a ||
    s.charCodeAt(16) !== 0x3a ||
    s.charCodeAt(19) !== 0x20 ||
    s.charCodeAt(25) !== 0x20
  ) {
    return undefined;
  }
  if (WEEKDAYS.indexOf(key3(s, 0)) === -1) return undefined;
  const month = MONTHS.indexOf(key3(s, 4)) + 1;
  if (month === 0) return undefined;
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const sign = s.charCodeAt(20);
  const offsetHours = digits(s, 21, 2);
  const offsetMinutes = digits(s, 23, 2);
  const year = digits(s, 26, 4);
  if ((sign !== 0x2b && sign !== 0x2d) || offsetHours < 0 || offsetHours > 23 || offsetMinutes > 59) {
    return undefined;
  }
  const offset = (sign === 0x2d ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return toEpochMs(year, month, day, hour, minute, second, 0, offset);
}

/**
 * ISO-8601 / RFC 3339: "YYYY-MM-DD", or "YYYY-MM-DDTHH:mm[:ss[.fff...]]" with
 * a zone: "Z", "±HH:MM", "±HHMM" or "±HH" ('T' may also be 't' or a space).
 * A date with a time but no zone is refused: its meaning would depend on
 * the machine's time zone.
 */
function parseIsoDate(s: string): number | undefined {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (n === 10) return toEpochMs(year, month, day, 0, 0, 0, 0, 0);

  const t = s.charCodeAt(10);
  if ((t !== 0x54 && t !== 0x74 && t !== 0x20) || n < 16 || s.charCodeAt(13) !== 0x3a) return undefined;
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  let second = 0;
  let ms = 0;
  let i = 16;
  if (s.charCodeAt(i) === 0x3a) {
    second = digits(s, i + 1, 2);
    i += 3;
    if (s.charCodeAt(i) === 0x2e || s.charCodeAt(i) === 0x2c) {
      const start = ++i;
      while (i < n && isDigitCode(s.charCodeAt(i))) i++;
      if (i === start) return undefined;
      // Milliseconds: the first three fraction digits, truncated.
      for (let k = 0; k < 3; k++) ms = ms * 10 + (start + k < i ? s.charCodeAt(start + k) - 0x30 : 0);
    }
  }

  let offset: number;
  const z = s.charCodeAt(i);
  if ((z === 0x5a || z === 0x7a) && i + 1 === n) {
    offset = 0;
  } else if (z === 0x2b || z === 0x2d) {
    const hh = digits(s, i + 1, 2);
    let mm = 0;
    const rest = n - (i + 3);
    if (rest === 3 && s.charCodeAt(i + 3) === 0x3a) mm = digits(s, i + 4, 2);
    else if (rest === 2) mm = digits(s, i + 3, 2);
    else if (rest !== 0) return undefined;
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return undefined;
    offset = (z === 0x2d ? -1 : 1) * (hh * 60 + mm);
  } else {
    return undefined;
  }
  return toEpochMs(year, month, day, hour, minute, second, ms, offset);
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The decimal value of `count` digits at `at`, or -1 if any is not a digit (or is past the end). */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c)) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/**
 * Ms since the epoch of a local date-time at `offsetMinutes` east of UTC, or
 * undefined if a field is out of range. Plain arithmetic (days from the civil
 * date), so years 0-99 are not shifted the way Date.UTC shifts them.
 */
function toEpochMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | undefined {
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  ) {
    return undefined;
  }
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    ms
  );
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
