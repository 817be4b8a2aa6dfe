/**
 * An independent reference for the trending job's counts, written from the
 * rules of the issue alone (it imports nothing from src/): the integration
 * tests compare Floe's output with it.
 *
 * Deliberately simple: JSON.parse, a handful of `typeof` checks, one regular
 * expression for hashtags in text, Date.parse for created_at, BigInt for
 * snowflake ids, a Set per (window, topic) for distinct authors. No
 * watermarks: records the caller knows to be late are left out by the caller.
 */

export type RefReason = 'invalid-json' | 'not-a-tweet' | 'no-id' | 'wrong-type' | 'no-time';

export interface RefTweet {
  id: string;
  timeMs: number;
  /** undefined when the tweet names no author. */
  author: string | undefined;
  /** "#tag", normalised, each once. */
  topics: string[];
}

export interface RefDecoded {
  tweets: RefTweet[];
  failures: RefReason[];
}

export interface RefWindowSpec {
  sizeMs: number;
  /** Defaults to sizeMs (tumbling). */
  slideMs?: number;
}

export interface RefCount {
  windowStart: number;
  windowEnd: number;
  topic: string;
  count: number;
  distinctAuthors: number;
}

export interface RefResult {
  counts: RefCount[];
  /** Lines (0-based, in input order) and the reason each failed, once per failure. */
  failures: { line: number; reason: RefReason }[];
  /** Tweets decoded, duplicates included. */
  tweets: number;
  /** Deliveries of an id already seen. */
  duplicates: number;
}

const SNOWFLAKE_EPOCH_MS = 1288834974657n;
/** Twitter switched to snowflake ids in November 2010; ids below the first one are sequential and carry no time. */
const FIRST_SNOWFLAKE = 29700859247n;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDigitString = (v: unknown): v is string => typeof v === 'string' && /^[0-9]+$/.test(v);

/** Hashtags in free text: URLs removed first, then '#'/'＃' not after a word character or '&'. */
const URL_RE = /\b(?:https?:\/\/|www\.)\S*/giu;
const TAG_RE = /(?<![\p{L}\p{M}\p{Nd}_&])[#\uFF03]([\p{L}\p{M}\p{Nd}_]+)/gu;
const HAS_LETTER = /[\p{L}\p{M}]/u;

export function refNormalize(tag: string): string {
  return '#' + tag.normalize('NFKC').toLowerCase();
}

export function refHashtagsFromText(text: string): string[] {
  const stripped = text.replace(URL_RE, ' ');
  const out: string[] = [];
  for (const m of stripped.matchAll(TAG_RE)) if (HAS_LETTER.test(m[1])) out.push(refNormalize(m[1]));
  return out;
}

function snowflakeTime(id: string): number | undefined {
  const n = BigInt(id);
  if (n < FIRST_SNOWFLAKE || n >= 1n << 63n) return undefined;
  return Number((n >> 22n) + SNOWFLAKE_EPOCH_MS);
}

function tagsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const h of list) {
    if (!isObj(h)) continue;
    const t = typeof h.tag === 'string' ? h.tag : h.text;
    if (typeof t === 'string' && t !== '') out.push(refNormalize(t));
  }
  return out;
}

/** One tweet object (v1.1 or v2) into a tweet or a failure reason. */
function refTweet(t: Obj): RefTweet | RefReason {
  let id: string;
  if (t.id_str !== undefined && t.id_str !== null) {
    if (!isDigitString(t.id_str)) return 'wrong-type';
    id = t.id_str;
  } else if (t.id === undefined || t.id === null) {
    return 'no-id';
  } else if (isDigitString(t.id)) {
    id = t.id;
  } else if (typeof t.id === 'number' && Number.isSafeInteger(t.id) && t.id >= 0) {
    id = String(t.id);
  } else {
    return 'wrong-type';
  }

  let timeMs: number | undefined;
  if (typeof t.created_at === 'string') {
    const parsed = Date.parse(t.created_at);
    if (!Number.isNaN(parsed)) timeMs = parsed;
  }
  if (timeMs === undefined) timeMs = snowflakeTime(id);
  if (timeMs === undefined) return 'no-time';

  let author: string | undefined;
  if (isObj(t.user)) {
    if (isDigitString(t.user.id_str)) author = t.user.id_str;
    else if (typeof t.user.id === 'number' && Number.isSafeInteger(t.user.id)) author = String(t.user.id);
  } else if (isDigitString(t.author_id)) {
    author = t.author_id;
  } else if (isObj(t.author) && isDigitString(t.author.id)) {
    author = t.author.id;
  }

  // v1.1 long tweets keep their whole text and entities in extended_tweet.
  const holder = isObj(t.extended_tweet) ? t.extended_tweet : t;
  let topics: string[];
  if (isObj(holder.entities)) topics = tagsOf(holder.entities.hashtags);
  else {
    const text = holder.full_text ?? holder.text;
    topics = typeof text === 'string' ? refHashtagsFromText(text) : [];
  }
  return { id, timeMs, author, topics: [...new Set(topics)] };
}

/** Decodes one input line: v1.1 tweet, v2 tweet (bare or {"data": {...}}), or v2 page {"data": [...]}. */
export function refDecodeLine(line: string): RefDecoded {
  const out: RefDecoded = { tweets: [], failures: [] };
  const add = (r: RefTweet | RefReason): void => {
    if (typeof r === 'string') out.failures.push(r);
    else out.tweets.push(r);
  };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    out.failures.push('invalid-json');
    return out;
  }
  if (!isObj(v)) {
    out.failures.push('not-a-tweet');
  } else if ('id' in v || 'id_str' in v) {
    add(refTweet(v));
  } else if (Array.isArray(v.data)) {
    // A page: every element of data is a tweet; includes are referenced tweets only.
    for (const el of v.data) {
      if (isObj(el)) add(refTweet(el));
      else out.failures.push('not-a-tweet');
    }
  } else if (isObj(v.data)) {
    add(refTweet(v.data));
  } else if ('text' in v || 'created_at' in v || 'author_id' in v || 'user' in v || 'entities' in v) {
    out.failures.push('no-id');
  } else {
    out.failures.push('not-a-tweet');
  }
  return out;
}

/** Starts of the epoch-aligned windows [start, start + size) holding t. */
export function refWindowStarts(t: number, spec: RefWindowSpec): number[] {
  const slide = spec.slideMs ?? spec.sizeMs;
  const out: number[] = [];
  for (let s = Math.floor(t / slide) * slide; s > t - spec.sizeMs; s -= slide) out.push(s);
  return out;
}

/** Counts and exact distinct authors per (window, topic) for the lines, in order; first delivery of an id counts. */
export function referenceTrending(lines: string[], spec: RefWindowSpec): RefResult {
  const seen = new Set<string>();
  const agg = new Map<string, { windowStart: number; topic: string; count: number; authors: Set<string> }>();
  const result: RefResult = { counts: [], failures: [], tweets: 0, duplicates: 0 };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const d = refDecodeLine(line);
    for (const reason of d.failures) result.failures.push({ line: i, reason });
    for (const t of d.tweets) {
      result.tweets++;
      if (seen.has(t.id)) {
        result.duplicates++;
        continue;
      }
      seen.add(t.id);
      for (const start of refWindowStarts(t.timeMs, spec)) {
        for (const topic of t.topics) {
          const key = `${start}\u0000${topic}`;
          let a = agg.get(key);
          if (a === undefined)
            agg.set(key, (a = { windowStart: start, topic, count: 0, authors: new Set() }));
          a.count++;
          if (t.author !== undefined) a.authors.add(t.author);
        }
      }
    }
  });
  for (const a of agg.values()) {
    result.counts.push({
      windowStart: a.windowStart,
      windowEnd: a.windowStart + spec.sizeMs,
      topic: a.topic,
      count: a.count,
      distinctAuthors: a.authors.size,
    });
  }
  result.counts.sort(
    (x, y) => x.windowStart - y.windowStart || (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : 0),
  );
  return result;
}
