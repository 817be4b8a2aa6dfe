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
 * and dates are parsed by hand (tweet-dates.ts).
 */
import { extractCashtags, extractHashtags, normalizeCashtag, normalizeHashtag } from './hashtags';
import { parseCreatedAt } from './tweet-dates';
import { scanTweet } from './tweet-scanner';
import type { DeadLetterReason, DecodeOptions, DecodeResult, Tweet } from './tweet';

type JsonObject = Record<string, unknown>;

/** Twitter's snowflake epoch, ms since the Unix epoch (2010-11-04T01:42:54.657Z). */
const TWITTER_EPOCH_MS = 1288834974657;
/** The first snowflake id; smaller ids were sequential and carry no time. */
const FIRST_SNOWFLAKE_ID = 29700859247n;
/** Ids are signed 64-bit integers. */
const MAX_TWEET_ID = 0x7fffffffffffffffn;

/** Where a tweet sits in the record, for failure details. */
const BARE = -1;
const ENVELOPE = -2;
// A value >= 0 is an index into a page's `data` array.

/**
 * Decodes one line of input. Invalid JSON gives one 'invalid-json' failure
 * whose detail is the parser's message.
 *
 * Lines holding one ordinary tweet take the fast path (tweet-scanner.ts),
 * which gives the same tweet without JSON.parse; everything else is parsed.
 */
export function decodeLine(line: string, options: DecodeOptions): DecodeResult {
  const tweet = scanTweet(line, options);
  if (tweet !== undefined) return { tweets: [tweet], failures: [] };
  return decodeLineByParse(line, options);
}

/**
 * decodeLine without the fast path: JSON.parse, then decodeValue. The
 * reference the fast path must agree with, and the way every line that is
 * not for the fast path goes.
 */
export function decodeLineByParse(line: string, options: DecodeOptions): DecodeResult {
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
