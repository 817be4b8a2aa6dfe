/**
 * Deterministic synthetic tweet stream (JSON lines), used by the `generator`
 * source of the trending job, by `floe generate` and by tests.
 *
 * Same seed + same options => byte-identical output, however it is consumed
 * (nextLine, nextChunk of any size, or a mix). Each of `splitCount` parallel
 * streams gets its own random stream and its own snowflake worker bits, so ids
 * never collide across splits, while the hashtag vocabulary, the author
 * population and the burst schedule are shared by all splits (topic counts
 * aggregate across them).
 *
 * Guarantees a consumer may rely on (watermarks, tests):
 * - every line's created_at (as parsed) lies in (n - max(disorderMs, 1), n],
 *   where n is `nominalTimeMs` read just before the line is produced; so
 *   `nominalTimeMs - disorderMs` is a valid watermark, and no line is behind
 *   the max created_at seen before it by disorderMs or more. Exception: v1.1
 *   lines have second precision, so with disorderMs < 1000 they may be up to
 *   999 ms older than that bound.
 * - duplicates are verbatim re-deliveries of one of the last 1024 fresh lines
 *   of the same stream, made only while they keep the bound above (with very
 *   sparse event time a few are dropped); they do not advance event time.
 * - ids: ((t - 1288834974657) << 22) | (splitIndex & 1023) << 12 | sequence,
 *   t = the tweet's nominal ms (later only if over 4096 tweets share a ms).
 *
 * For speed, lines are serialised straight into bytes through a DataView:
 * every string piece is pre-encoded as UTF-8 and copied 4 bytes at a time,
 * numbers are written two digits at a time, so a line allocates nothing.
 * Hashtag/mention/url/cashtag offsets are in code points.
 */
import { fmix32, mixSeed, Xoshiro128 } from './random';
import { zipf, type ZipfSampler } from './zipf';

export interface TweetGeneratorOptions {
  /** Same seed + same options => byte-identical output. */
  seed: number;
  /** This stream's index among splitCount parallel streams (ids never collide across splits). */
  splitIndex: number;
  splitCount: number;
  /** Event time of the first tweet (ms since epoch). */
  startMs: number;
  /** Event-time rate of this stream: created_at advances by 1000/eventsPerSecond ms per tweet on average. */
  eventsPerSecond: number;
  /** created_at = nominal time - uniform[0, disorderMs): bounded out-of-orderness. */
  disorderMs: number;
  /** Probability that a line is an exact re-delivery of a recent earlier line of this stream. */
  duplicateRate: number;
  /** Vocabulary size of ordinary hashtags, drawn Zipf(s=1.1). */
  topics: number;
  /**
   * 'zipf': hashtags drawn Zipf(s=1.1) from the vocabulary (realistic);
   * 'cycle': every hashtag is the next one of the vocabulary in turn, so n
   * hashtags cover min(n, topics) distinct topics (to size state exactly).
   */
  topicDistribution: 'zipf' | 'cycle';
  /** Number of distinct authors, drawn Zipf(s=0.8). */
  authors: number;
  /** Every this much event time a brand-new tag starts bursting (bursts start at multiples of it since the epoch). */
  burstEveryMs: number;
  /** How long a burst lasts. */
  burstDurationMs: number;
  /** Share of tweets carrying the burst tag during a burst. */
  burstShare: number;
  /** Share of lines in Twitter API v1.1 format, rest v2. */
  v1Share: number;
}

type RequiredOptionKeys = 'seed' | 'splitIndex' | 'splitCount' | 'startMs' | 'eventsPerSecond';

export const defaultGeneratorOptions: Omit<TweetGeneratorOptions, RequiredOptionKeys> = Object.freeze({
  disorderMs: 3000,
  duplicateRate: 0.01,
  topics: 20000,
  topicDistribution: 'zipf',
  authors: 1_000_000,
  burstEveryMs: 300_000,
  burstDurationMs: 120_000,
  burstShare: 0.05,
  v1Share: 0.1,
});

/** What the constructor accepts: the required options; anything left out takes its default. */
export type TweetGeneratorInit = Pick<TweetGeneratorOptions, RequiredOptionKeys> &
  Partial<TweetGeneratorOptions>;

/** Twitter's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const TWITTER_EPOCH_MS = 1288834974657;

/** Event time (ms since the epoch) encoded in a snowflake id given as a decimal string. */
export function snowflakeTimeMs(id: string): number {
  return Number(BigInt(id) >> 22n) + TWITTER_EPOCH_MS;
}

const TOPIC_EXPONENT = 1.1;
const AUTHOR_EXPONENT = 0.8;
const MAX_SEQUENCE = 4095;
/** Upper bound on the bytes of one line (actual lines stay well under 3 KiB). */
const MAX_LINE_BYTES = 8192;
/** A duplicate re-delivers one of the last this many fresh lines. */
const DUPLICATE_WINDOW = 1024;
const MAX_TAGS = 8;
/** Free bytes kept after any write: pieces are copied 4 bytes at a time and may overshoot by 3. */
const OVERSHOOT = 8;

// ---- small fixed vocabularies -------------------------------------------------------------------

/** Most popular hashtags first (rank 1 = most frequent), with a few non-ASCII ones mixed in. */
// prettier-ignore
const POPULAR_TAGS = [
  'WorldCup', 'Bitcoin', 'NFL', 'AI', 'Crypto', 'Music', 'News', 'Football', '東京', 'NBA', 'Love',
  'Photography', 'Gaming', 'Travel', 'Art', 'Tech', 'Fashion', 'Food', 'Fitness', 'Movies', 'café',
  'Anime', 'Motivation', 'Climate', 'Science', 'Startup', 'JavaScript', 'TypeScript', 'NodeJS', 'サッカー',
  'Nature', 'Ethereum', 'Netflix', 'Marvel', 'Python', 'Rust', 'KPop', 'BTS', 'München', 'Olympics',
  'Wimbledon', 'FormulaOne', 'UFC', 'MondayMotivation', 'ThrowbackThursday', 'TBT', 'FridayFeeling', 'Москва',
  'Oscars', 'Grammys', 'Eurovision', 'Bundesliga', 'LaLiga', 'PremierLeague', 'ChampionsLeague', '서울',
  'Cricket', 'IPL', 'Tennis', 'Golf', 'Yoga', 'Vegan', 'Coffee', 'Pizza', '𠮷野家', 'Dogs', 'Cats',
  'Weather', 'SpaceX', 'NASA', 'Mars', 'Apple', 'Android', 'iPhone', 'SãoPaulo', 'Linux', 'OpenSource',
  'DevOps', 'Kubernetes', 'Cloud', 'BigData', 'DataScience', 'MachineLearning', 'Stocks', 'España',
  'Markets', 'Economy', 'Inflation', 'Housing', '日本', 'Paris', 'London', 'NYC', 'Tokyo', 'Berlin',
  'Madrid', 'Roma', 'ラーメン', 'Mumbai', 'Zürich', 'Sydney', 'Toronto',
];

// prettier-ignore
const SYLLABLES = [
  'ka', 'lo', 'mi', 'ren', 'tor', 'vi', 'zen', 'sa', 'ple', 'dra', 'ne', 'qua', 'bel', 'fin', 'ox',
  'ur', 'gal', 'po', 'ti', 'mor', 'sun', 'ly', 'cro', 'vex', 'da', 'ri', 'an', 'el', 'jo', 'bu',
];
const KANA = ['さ', 'く', 'ら', 'ま', 'つ', 'り', 'の', 'か', 'ぜ', 'や', 'ゆ', 'き', 'は', 'な', 'み'];
const ACCENTED = ['ré', 'lü', 'ño', 'çà', 'mö', 'zé', 'då', 'fê'];
// prettier-ignore
const TAG_SUFFIXES = ['', '', '', '', 'Live', 'Day', 'News', 'Fans', 'Life', 'Club', 'Talk', 'Time', 'Vibes', 'Week', 'Hub'];

/** Plain words of tweet text; a few emoji (surrogate pairs, or 2 code points for ❤️) and accented words. */
// prettier-ignore
const WORDS = [
  'the', 'a', 'is', 'this', 'that', 'what', 'a', 'game', 'today', 'tonight', 'love', 'new', 'just', 'so',
  'great', 'can\'t', 'believe', 'watching', 'now', 'best', 'ever', 'finally', 'here', 'we', 'go', 'my',
  'your', 'our', 'team', 'win', 'lost', 'again', 'why', 'how', 'really', 'amazing', 'check', 'out',
  'thread', 'big', 'news', 'update', 'live', 'follow', 'for', 'more', 'and', 'with', 'from', 'in', 'on',
  'at', 'of', 'to', 'it\'s', 'time', 'people', 'world', 'city', 'day', 'night', 'week', 'year', 'first',
  'last', 'good', 'bad', 'wow', 'omg', 'lol', 'yes', 'no', 'free', 'sale', 'launch', 'release', 'code',
  'data', 'stream', 'match', 'goal', 'score', 'final', 'market', 'price', 'up', 'down', 'coffee',
  'morning', 'weekend', 'happy', 'sad', 'crazy', 'vibes', 'music', 'song', 'album', 'show', 'episode',
  'everyone', 'tomorrow', 'announcement', 'incredible', 'highlights', 'performance', 'streaming',
  'community', 'together', 'honestly', 'literally', 'absolutely', 'unbelievable', 'congratulations',
  '🔥', '😂', '⚽', '🎉', '❤️', '🚀', 'über', 'niño', 'déjà', 'vu', 'naïve', 'señor', 'wow!', 'right?',
  'yes.', 'ok,', '...', '-', '100%', '2x',
];

const CASHTAGS = ['AAPL', 'TSLA', 'BTC', 'ETH', 'GOOG', 'AMZN', 'MSFT', 'NVDA', 'DOGE', 'SPY'];

const EXPANDED_URLS = [
  'https://example.com/news/2022/09/match-report',
  'https://blog.example.org/posts/stream-processing',
  'https://www.example.net/live',
  'https://shop.example.com/sale?ref=tw',
  'https://video.example.com/watch?v=dQw4w9WgXcQ',
];

/** URLs with a fragment, written as is: the '#...' belongs to the URL and is never a hashtag. */
const FRAGMENT_URLS = [
  'https://example.com/page#section',
  'https://example.com/sports#WorldCup',
  'https://docs.example.org/guide#install',
  'https://example.net/wiki/Bitcoin#history',
  'https://news.example.com/live#update-3',
];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

// prettier-ignore
const LANGS = ['en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en', 'en',
  'es', 'es', 'ja', 'ja', 'pt', 'fr', 'de', 'und'];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // count everything but low surrogates
  }
  return n;
}

/** A list of strings pre-encoded as UTF-8 in one byte array, padded so 4-byte copies may over-read. */
class Arena {
  readonly view: DataView;
  readonly offset: Int32Array;
  readonly length: Int32Array;
  readonly codePoints: Int32Array;

  /** Unless `raw`, the strings go inside JSON strings and so must not need escaping. */
  constructor(
    readonly strings: readonly string[],
    raw = false,
  ) {
    const encoded = strings.map((s) => {
      if (!raw && JSON.stringify(s) !== `"${s}"`)
        throw new Error(`tweet generator: needs JSON escaping: ${s}`);
      return Buffer.from(s, 'utf8');
    });
    const bytes = Buffer.concat([...encoded, Buffer.alloc(OVERSHOOT)]);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = new Int32Array(strings.length);
    this.length = new Int32Array(strings.length);
    this.codePoints = new Int32Array(strings.length);
    let at = 0;
    for (let i = 0; i < strings.length; i++) {
      this.offset[i] = at;
      this.length[i] = encoded[i].length;
      this.codePoints[i] = codePoints(strings[i]);
      at += encoded[i].length;
    }
  }
}

/** Copies len bytes 4 at a time; may write up to 3 bytes past pos + len (later writes cover them). */
function copyBytes(out: DataView, pos: number, src: DataView, from: number, len: number): number {
  for (let i = 0; i < len; i += 4) out.setUint32(pos + i, src.getUint32(from + i));
  return pos + len;
}

function putArena(out: DataView, pos: number, arena: Arena, index: number): number {
  return copyBytes(out, pos, arena.view, arena.offset[index], arena.length[index]);
}

/** Constant JSON fragments. */
const CONSTANT_STRINGS = {
  v1Open: '{"created_at":"',
  v1Id: '","id":',
  idStr: ',"id_str":"',
  text: '","text":"',
  v2Open: '{"id":"',
  v2CreatedAt: '","created_at":"',
  v2AuthorId: '","author_id":"',
  newline: '\\n',
  tco: 'https://t.co/',
  v1User: ',"user":{"id":',
  screenName: '","screen_name":"',
  v1Hashtags: '"},"entities":{"hashtags":[',
  v1Symbols: '],"symbols":[',
  v1Urls: '],"urls":[',
  v1Mentions: '],"user_mentions":[',
  v1Lang: ']},"lang":"',
  v2Lang: ',"lang":"',
  v2Entities: ',"entities":{',
  cashtags: '"cashtags":[',
  hashtags: '"hashtags":[',
  hashtagsSep: ',"hashtags":[',
  mentions: '"mentions":[',
  mentionsSep: ',"mentions":[',
  urls: '"urls":[',
  urlsSep: ',"urls":[',
  textField: '{"text":"',
  indices: '","indices":[',
  closeIndices: ']}',
  start: '{"start":',
  end: ',"end":',
  tag: ',"tag":"',
  closeStr: '"}',
  mentionScreenName: '{"screen_name":"',
  username: ',"username":"',
  idQuoted: '","id":"',
  url: '{"url":"',
  urlSep: ',"url":"',
  expandedUrl: '","expanded_url":"',
};
const CONSTANTS = new Arena(Object.values(CONSTANT_STRINGS), true);
/** Index of each constant in CONSTANTS. */
const K = Object.fromEntries(Object.keys(CONSTANT_STRINGS).map((key, i) => [key, i])) as Record<
  keyof typeof CONSTANT_STRINGS,
  number
>;

const Q = 0x22; // '"'

function put(out: DataView, pos: number, constant: number): number {
  return copyBytes(out, pos, CONSTANTS.view, CONSTANTS.offset[constant], CONSTANTS.length[constant]);
}

const LANG_ARENA = new Arena(LANGS);
const EXPANDED_URL_ARENA = new Arena(EXPANDED_URLS);
const FRAGMENT_URL_ARENA = new Arena(FRAGMENT_URLS);
const CASHTAG_ARENA = new Arena(CASHTAGS);
const SYLLABLE_ARENA = new Arena(SYLLABLES);

/** Text is made of phrases of 1-4 words from this fixed pool (much cheaper than word by word). */
const PHRASE_COUNT = 4096;
const PHRASES = ((): Arena => {
  const rng = new Xoshiro128(0xf4a5e);
  const phrases: string[] = [];
  for (let i = 0; i < PHRASE_COUNT; i++) {
    const n = 1 + rng.below(4);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(WORDS[rng.below(WORDS.length)]);
    phrases.push(words.join(' '));
  }
  return new Arena(phrases);
})();

/** "00".."99", each as a big-endian pair of ASCII digits. */
const DIGIT_PAIRS = Uint16Array.from(
  { length: 100 },
  (_, i) => ((48 + Math.floor(i / 10)) << 8) | (48 + (i % 10)),
);

/** Decimal digits of a non-negative integer below 2^53. */
function putUint(out: DataView, pos: number, n: number): number {
  if (n >= 1e9) {
    const high = Math.floor(n / 1e9);
    return putPadded(out, putUint(out, pos, high), n - high * 1e9, 9);
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  return putPadded(out, pos, n, digits);
}

/** Exactly `width` digits of n (0 <= n < min(10^width, 2^31)), zero-padded; int32 arithmetic only. */
function putPadded(out: DataView, pos: number, n: number, width: number): number {
  let at = pos + width;
  while (at - pos >= 2) {
    const q = (n / 100) | 0;
    at -= 2;
    out.setUint16(at, DIGIT_PAIRS[n - q * 100]);
    n = q;
  }
  if (at > pos) out.setUint8(pos, 48 + n);
  return pos + width;
}

/** Decimal digits of msSinceTwitterEpoch * 2^22 + low22, exact without BigInt (up to 2^63). */
function putSnowflake(out: DataView, pos: number, msSinceTwitterEpoch: number, low22: number): number {
  const hiHigh = Math.floor(msSinceTwitterEpoch / 1e6);
  let a = hiHigh * 4194304; // < 2^63 / 1e6: exact
  let b = (msSinceTwitterEpoch - hiHigh * 1e6) * 4194304 + low22; // < 4.2e12: exact
  const carry = Math.floor(b / 1e6);
  a += carry;
  b -= carry * 1e6;
  if (a === 0) return putUint(out, pos, b);
  return putPadded(out, putUint(out, pos, a), b, 6);
}

/** Author ids: a bijection of the rank; a quarter are 64-bit snowflake-style (too big for a double). */
function putAuthorId(out: DataView, pos: number, rank: number): number {
  const h = fmix32(rank); // bijective: distinct ranks => distinct h
  if ((h & 3) === 0) {
    const ms = 1420070400000 - TWITTER_EPOCH_MS + rank * 37 + ((h >>> 2) & 31);
    return putSnowflake(out, pos, ms, (h >>> 8) & 0x3fffff);
  }
  return putUint(out, pos, h);
}

/** Screen names: two syllables, '_', the rank in base 36 (so unique per author). ASCII. */
function putScreenName(out: DataView, pos: number, rank: number): number {
  const h = fmix32(rank);
  pos = putArena(out, pos, SYLLABLE_ARENA, h % SYLLABLES.length);
  pos = putArena(out, pos, SYLLABLE_ARENA, (h >>> 5) % SYLLABLES.length);
  out.setUint8(pos++, 0x5f); // '_'
  let digits = 1;
  for (let p = 36; p <= rank; p *= 36) digits++;
  for (let at = pos + digits - 1; at >= pos; at--) {
    const q = Math.floor(rank / 36);
    out.setUint8(at, BASE36.charCodeAt(rank - q * 36));
    rank = q;
  }
  return pos + digits;
}

// ---- hashtag vocabulary -------------------------------------------------------------------------

/** Entry variant * size + rank - 1: variant 0 = canonical spelling, 1 = lower case, 2 = upper case. */
const vocabularies = new Map<number, Arena>();

/** The (seed-independent) vocabulary of `size` distinct hashtags, most popular first. */
function vocabulary(size: number): Arena {
  let arena = vocabularies.get(size);
  if (arena !== undefined) return arena;
  const rng = new Xoshiro128(0x7a6);
  const seen = new Set<string>();
  const base: string[] = [];
  const add = (tag: string): boolean => {
    const key = tag.toLowerCase();
    if (seen.has(key) || /\d$/.test(tag)) return false; // burst tags end with digits: keep them new
    seen.add(key);
    base.push(tag);
    return true;
  };
  for (const tag of POPULAR_TAGS) {
    if (base.length >= size) break;
    add(tag);
  }
  let i = 0;
  while (base.length < size) {
    i++;
    for (let extra = 0; ; extra++) {
      // longer words until unique; terminates since the space grows
      const syllables = 2 + rng.below(3) + extra;
      let word = '';
      if (i % 37 === 0) {
        for (let k = 0; k < syllables; k++) word += KANA[rng.below(KANA.length)];
      } else {
        for (let k = 0; k < syllables; k++) {
          const accented = i % 41 === 0 && k === 1;
          word += accented ? ACCENTED[rng.below(ACCENTED.length)] : SYLLABLES[rng.below(SYLLABLES.length)];
        }
        word = word[0].toUpperCase() + word.slice(1) + TAG_SUFFIXES[rng.below(TAG_SUFFIXES.length)];
      }
      if (add(word)) break;
    }
  }
  const lower: string[] = [];
  const upper: string[] = [];
  for (const tag of base) {
    const key = tag.toLowerCase();
    const up = tag.toUpperCase();
    lower.push(key);
    // Variants must normalise (toLowerCase) to the same topic; keep the canonical form otherwise.
    upper.push(up.toLowerCase() === key ? up : tag);
  }
  arena = new Arena([...base, ...lower, ...upper]);
  vocabularies.set(size, arena);
  return arena;
}

// ---- the generator ------------------------------------------------------------------------------

export class TweetGenerator {
  readonly options: Readonly<TweetGeneratorOptions>;

  private readonly rng: Xoshiro128;
  private readonly topicZipf: ZipfSampler;
  private readonly authorZipf: ZipfSampler;
  private readonly vocab: Arena;
  private readonly topics: number;
  private readonly cycleTopics: boolean;
  /** Next vocabulary rank (0-based) in 'cycle' mode. */
  private nextTopic = 0;
  private readonly seedMix: number;
  private readonly startMsInt: number;
  private readonly stepMs: number;
  private readonly workerBits: number;
  private readonly disorderMs: number;
  private readonly v1Share: number;
  private readonly burstsEnabled: boolean;
  private readonly burstEveryMs: number;
  private readonly burstDurationMs: number;
  private readonly burstShare: number;

  /** Event-time offset of the next fresh tweet from startMsInt (fractional ms). */
  private offsetMs = 0;
  private lastIdMs = -1;
  private sequence = 0;
  /** created_at (ms, as it will parse) of the fresh line just written. */
  private createdMs = 0;

  /**
   * Re-deliveries: when a fresh line is written it is, with probability
   * duplicateProbability, copied and scheduled to come again after 1..1024
   * more fresh lines (only copying the lines that will repeat is much cheaper
   * than keeping a ring of all recent lines). Sorted by `due`.
   */
  private readonly duplicateProbability: number;
  private readonly scheduled: { due: number; createdMs: number; line: Buffer }[] = [];
  private freshLines = 0;

  /** A line produced but not yet handed out (it did not fit a chunk), and its nominal time. */
  private readonly pendingBytes = Buffer.alloc(MAX_LINE_BYTES);
  private pendingLength = -1;
  private pendingNominalMs = 0;
  private lastLineNominalMs = 0;
  private readonly scratch = Buffer.alloc(MAX_LINE_BYTES + OVERSHOOT);
  private readonly scratchView = new DataView(
    this.scratch.buffer,
    this.scratch.byteOffset,
    this.scratch.length,
  );

  // Per-second caches of formatted timestamps (direct-mapped, 16 slots of 32 bytes each).
  private readonly isoKeys = new Float64Array(16).fill(NaN);
  private readonly v1Keys = new Float64Array(16).fill(NaN);
  private readonly dateBytes = Buffer.alloc(2 * 16 * 32 + OVERSHOOT);
  private readonly dateView = new DataView(
    this.dateBytes.buffer,
    this.dateBytes.byteOffset,
    this.dateBytes.length,
  );

  // Burst tags by burst index (direct-mapped): entry 2 * slot (canonical) and 2 * slot + 1 (lower case).
  private readonly burstKeys = new Float64Array(8).fill(NaN);
  private readonly burstStrings: string[] = new Array<string>(16).fill('x');
  private burstArena = new Arena(this.burstStrings);

  // The tweet being built: text cursor (bytes and code points) and its entities.
  private out: DataView = this.scratchView;
  private pos = 0;
  private cp = 0;
  private readonly tagRef = new Int32Array(MAX_TAGS); // vocab index, or -1 - burst arena index
  private readonly tagCp = new Int32Array(MAX_TAGS);
  private readonly tagPos = new Int32Array(MAX_TAGS);
  private readonly tagPunct = new Int32Array(MAX_TAGS);
  private nHashtags = 0;
  private readonly hashStart = new Int32Array(MAX_TAGS);
  private readonly hashEnd = new Int32Array(MAX_TAGS);
  private readonly hashRef = new Int32Array(MAX_TAGS);
  private mentionStart = -1;
  private mentionEnd = 0;
  private mentionRank = 0;
  private cashtagStart = -1;
  private cashtagIndex = 0;
  private urlStart = -1;
  private urlEnd = 0;
  private urlByteStart = 0;
  private urlByteEnd = 0;
  private urlExpanded = -1;

  constructor(init: TweetGeneratorInit) {
    const o = { ...defaultGeneratorOptions } as TweetGeneratorOptions;
    for (const [key, value] of Object.entries(init)) {
      if (value !== undefined) (o as unknown as Record<string, unknown>)[key] = value;
    }
    validate(o);
    this.options = Object.freeze(o);
    this.seedMix = mixSeed(o.seed);
    this.rng = new Xoshiro128(mixSeed(o.seed, o.splitIndex, 0x5eed));
    this.topics = o.topics;
    this.cycleTopics = o.topicDistribution === 'cycle';
    this.vocab = vocabulary(o.topics);
    this.topicZipf = zipf(o.topics, TOPIC_EXPONENT);
    this.authorZipf = zipf(o.authors, AUTHOR_EXPONENT);
    this.startMsInt = Math.floor(o.startMs);
    this.stepMs = 1000 / o.eventsPerSecond;
    this.workerBits = (o.splitIndex % 1024) * 4096;
    this.disorderMs = Math.floor(o.disorderMs);
    // Each fresh line repeats at most once; p / (1 + p) of all lines are then duplicates.
    this.duplicateProbability = Math.min(1, o.duplicateRate / (1 - o.duplicateRate));
    this.v1Share = o.v1Share;
    this.burstEveryMs = o.burstEveryMs;
    this.burstDurationMs = o.burstDurationMs;
    this.burstShare = o.burstShare;
    this.burstsEnabled = o.burstShare > 0 && o.burstDurationMs > 0 && Number.isFinite(o.burstEveryMs);
  }

  /** Nominal event time of the next tweet (before disorder), ms. */
  get nominalTimeMs(): number {
    return this.pendingLength >= 0 ? this.pendingNominalMs : this.startMsInt + Math.floor(this.offsetMs);
  }

  /** One JSON line, no trailing newline. */
  nextLine(): string {
    if (this.pendingLength >= 0) {
      const line = this.pendingBytes.toString('utf8', 0, this.pendingLength);
      this.pendingLength = -1;
      return line;
    }
    const end = this.writeLine(this.scratch, this.scratchView, 0);
    return this.scratch.toString('utf8', 0, end);
  }

  /**
   * Appends whole lines (each followed by '\n') to a new Buffer of at most
   * maxBytes (never splits a line; a single line longer than maxBytes is
   * returned alone) and at most maxLines lines; returns it and the number of lines.
   */
  nextChunk(maxBytes: number, maxLines = Number.POSITIVE_INFINITY): { bytes: Buffer; lines: number } {
    if (Number.isNaN(maxBytes) || Number.isNaN(maxLines)) throw new RangeError('nextChunk: NaN limit');
    if (maxLines < 1) return { bytes: Buffer.alloc(0), lines: 0 };
    const limit = Math.max(0, Math.floor(maxBytes)); // may be Infinity (then maxLines is the limit)
    let buf = Buffer.allocUnsafe(Math.min(limit, 1 << 24) + MAX_LINE_BYTES + OVERSHOOT);
    let out = new DataView(buf.buffer, buf.byteOffset, buf.length);
    let used = 0;
    let lines = 0;
    while (lines < maxLines) {
      if (used + MAX_LINE_BYTES + OVERSHOOT > buf.length) {
        const bigger = Buffer.allocUnsafe(2 * buf.length);
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
        out = new DataView(buf.buffer, buf.byteOffset, buf.length);
      }
      let end: number;
      if (this.pendingLength >= 0) {
        end = used + this.pendingBytes.copy(buf, used, 0, this.pendingLength);
        this.pendingLength = -1;
      } else {
        end = this.writeLine(buf, out, used);
      }
      if (lines > 0 && end + 1 > limit) {
        this.pendingLength = buf.copy(this.pendingBytes, 0, used, end);
        this.pendingNominalMs = this.lastLineNominalMs;
        break;
      }
      buf[end] = 0x0a;
      used = end + 1;
      lines++;
      if (used >= limit) break;
    }
    return { bytes: buf.subarray(0, used), lines };
  }

  /** The burst tag (canonical spelling, without '#') bursting at eventTimeMs, if any (the latest one). */
  burstTagAt(eventTimeMs: number): string | undefined {
    if (!this.burstsEnabled) return undefined;
    // Bursts all last equally long, so if the latest-started one is over, all are.
    const k = Math.floor(eventTimeMs / this.burstEveryMs);
    if (eventTimeMs - k * this.burstEveryMs >= this.burstDurationMs) return undefined;
    return this.burstStrings[2 * this.burstSlot(k)];
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Writes the next line (no newline) at pos of buf (out views buf) and returns its end. */
  private writeLine(buf: Buffer, out: DataView, pos: number): number {
    const nominal = this.startMsInt + Math.floor(this.offsetMs);
    this.lastLineNominalMs = nominal;
    const scheduled = this.scheduled;
    while (scheduled.length > 0 && scheduled[0].due <= this.freshLines) {
      const repeat = scheduled.shift()!;
      // Only while it keeps the out-of-orderness bound (always, unless event time is very sparse).
      if (repeat.createdMs > nominal - Math.max(this.disorderMs, 1)) return pos + repeat.line.copy(buf, pos);
    }
    const end = this.writeFresh(nominal, out, pos);
    if (end - pos > MAX_LINE_BYTES - OVERSHOOT) throw new Error('tweet generator: line too long'); // cannot happen
    this.offsetMs += this.stepMs * (0.5 + this.rng.next()); // uniform in [0.5, 1.5) steps
    this.freshLines++;
    if (this.duplicateProbability > 0 && this.rng.next() < this.duplicateProbability) {
      // Repeat within the bound: event time moves at most 1.5 steps per fresh line.
      const budgetMs = this.createdMs + Math.max(this.disorderMs, 1) - 2 - nominal;
      const maxLater = Math.max(1, Math.min(DUPLICATE_WINDOW, Math.floor(budgetMs / (1.5 * this.stepMs))));
      const due = this.freshLines + this.rng.below(maxLater);
      let at = scheduled.length;
      while (at > 0 && scheduled[at - 1].due > due) at--;
      scheduled.splice(at, 0, { due, createdMs: this.createdMs, line: Buffer.from(buf.subarray(pos, end)) });
    }
    return end;
  }

  private writeFresh(nominal: number, out: DataView, start: number): number {
    const r = this.rng;

    // Snowflake id: the nominal ms, carrying into the next ms when the sequence overflows.
    if (nominal > this.lastIdMs) {
      this.lastIdMs = nominal;
      this.sequence = 0;
    } else if (++this.sequence > MAX_SEQUENCE) {
      this.lastIdMs++;
      this.sequence = 0;
    }

    const v1 = r.next() < this.v1Share;
    let createdMs = nominal - Math.floor(r.next() * this.disorderMs);
    if (v1) {
      // Second precision; prefer a whole second still inside (nominal - disorder, nominal].
      let sec = Math.floor(createdMs / 1000) * 1000;
      if (sec <= nominal - this.disorderMs && sec + 1000 <= nominal) sec += 1000;
      createdMs = sec;
    }
    this.createdMs = createdMs;
    const authorRank = this.authorZipf.sample(r);

    // Fixed-probability choices are sliced out of two 32-bit draws (fewer draws, same determinism):
    // f = entities 0-9 | mention 10-16 | cashtag 17-23 | url 24-31;
    // g = phrases 0-1 | mention first 2-9 | position 10-17 | url last 18 | lang 19-28 | newline 29-31.
    const f = r.nextU32();
    const g = r.nextU32();
    const ent = v1 || (f & 1023) >= 102; // 10% of v2 lines come without entities
    const nPhrases = 2 + (g & 3); // text body: 2-5 phrases of 1-4 words
    const hasMention = ((f >>> 10) & 127) < 19; // 15%
    const mentionPos = hasMention ? (((g >>> 2) & 255) < 154 ? -1 : ((g >>> 10) & 255) % nPhrases) : -2; // 60% lead
    const cashtagPos = ((f >>> 17) & 127) < 3 ? ((g >>> 10) & 255) % nPhrases : -2; // 2%
    const urlBits = (f >>> 24) & 255;
    const urlKind = urlBits < 21 ? 1 : urlBits < 31 ? 2 : 0; // 8% t.co, 4% with a #fragment
    const urlLast = (g & 0x40000) !== 0;
    const lang = ((g >>> 19) & 1023) % LANGS.length;
    const mentionRank = hasMention ? this.authorZipf.sample(r) : 0;

    // Hashtags: 35% none, 40% one, 20% two, 5% three; plus the burst tag during a burst.
    const u = r.next();
    let nTags = u < 0.35 ? 0 : u < 0.75 ? 1 : u < 0.95 ? 2 : 3;
    const vocab = this.vocab;
    for (let i = 0; i < nTags; i++) {
      let rank: number;
      if (this.cycleTopics) {
        rank = this.nextTopic + 1;
        this.nextTopic = (this.nextTopic + 1) % this.topics;
      } else {
        rank = this.topicZipf.sample(r);
      }
      const t = r.nextU32();
      const c = t & 1023; // spelling: 75% canonical, 18% lower case, 7% upper case
      const ref = (c < 768 ? 0 : c < 952 ? this.topics : 2 * this.topics) + rank - 1;
      this.tagRef[i] = ref;
      this.tagCp[i] = vocab.codePoints[ref];
      this.tagPos[i] = ((t >>> 10) & 255) < 115 ? ((t >>> 18) & 255) % nPhrases : -1; // 45% inline
      const p = t >>> 26; // 0..63
      this.tagPunct[i] = p < 3 ? 0x21 : p < 5 ? 0x2c : 0; // a few '!' and ','
    }
    if (this.burstsEnabled) nTags = this.addBurstTags(nominal, nTags, nPhrases);
    let trailingTags = 0;
    for (let i = 0; i < nTags; i++) if (this.tagPos[i] === -1) trailingTags++;
    const newline = g >>> 29 === 0 && trailingTags > 0; // ~5% of tweets: trailing tags on their own line

    // Header.
    let pos = start;
    const idMs = this.lastIdMs - TWITTER_EPOCH_MS;
    const idLow = this.workerBits + this.sequence;
    if (v1) {
      pos = put(out, pos, K.v1Open);
      pos = this.putV1Date(out, pos, createdMs);
      pos = put(out, pos, K.v1Id);
      const idStart = pos;
      pos = putSnowflake(out, pos, idMs, idLow);
      const idLength = pos - idStart;
      pos = put(out, pos, K.idStr);
      pos = copyBytes(out, pos, out, idStart, idLength);
      pos = put(out, pos, K.text);
    } else {
      pos = put(out, pos, K.v2Open);
      pos = putSnowflake(out, pos, idMs, idLow);
      pos = put(out, pos, K.v2CreatedAt);
      pos = this.putIsoDate(out, pos, createdMs);
      pos = put(out, pos, K.v2AuthorId);
      pos = putAuthorId(out, pos, authorRank);
      pos = put(out, pos, K.text);
    }

    // Text.
    this.out = out;
    this.pos = pos;
    this.cp = 0;
    this.nHashtags = 0;
    this.mentionStart = -1;
    this.cashtagStart = -1;
    this.urlStart = -1;
    if (mentionPos === -1) this.emitMention(mentionRank);
    for (let w = 0; w < nPhrases; w++) {
      this.emitPhrase(r.nextU32() & (PHRASE_COUNT - 1));
      for (let i = 0; i < nTags; i++) if (this.tagPos[i] === w) this.emitTag(i, true);
      if (mentionPos === w) this.emitMention(mentionRank);
      if (cashtagPos === w) this.emitCashtag(r.below(CASHTAGS.length));
    }
    if (urlKind !== 0 && !urlLast) this.emitUrl(urlKind);
    let trailing = 0;
    for (let i = 0; i < nTags; i++) {
      if (this.tagPos[i] !== -1) continue;
      if (newline && trailing === 0) {
        this.pos = put(out, this.pos, K.newline);
        this.cp++;
        this.emitTag(i, false);
      } else {
        this.emitTag(i, true);
      }
      trailing++;
    }
    if (urlKind !== 0 && urlLast) this.emitUrl(urlKind);
    pos = this.pos;
    out.setUint8(pos++, Q);

    // Trailer.
    if (v1) {
      pos = put(out, pos, K.v1User);
      const authorStart = pos;
      pos = putAuthorId(out, pos, authorRank);
      const authorLength = pos - authorStart;
      pos = put(out, pos, K.idStr);
      pos = copyBytes(out, pos, out, authorStart, authorLength);
      pos = put(out, pos, K.screenName);
      pos = putScreenName(out, pos, authorRank);
      pos = put(out, pos, K.v1Hashtags);
      pos = this.putHashtags(out, pos, true);
      pos = put(out, pos, K.v1Symbols);
      if (this.cashtagStart >= 0) pos = this.putCashtag(out, pos, true);
      pos = put(out, pos, K.v1Urls);
      if (this.urlStart >= 0) pos = this.putUrl(out, pos, true);
      pos = put(out, pos, K.v1Mentions);
      if (this.mentionStart >= 0) pos = this.putMention(out, pos, true);
      pos = put(out, pos, K.v1Lang);
      pos = putArena(out, pos, LANG_ARENA, lang);
      return put(out, pos, K.closeStr);
    }
    pos = put(out, pos, K.v2Lang);
    pos = putArena(out, pos, LANG_ARENA, lang);
    out.setUint8(pos++, Q);
    if (
      ent &&
      (this.nHashtags > 0 || this.mentionStart >= 0 || this.urlStart >= 0 || this.cashtagStart >= 0)
    ) {
      // Like API v2: only the non-empty entity kinds.
      pos = put(out, pos, K.v2Entities);
      let sep = false;
      if (this.cashtagStart >= 0) {
        pos = put(out, pos, K.cashtags);
        pos = this.putCashtag(out, pos, false);
        out.setUint8(pos++, 0x5d); // ']'
        sep = true;
      }
      if (this.nHashtags > 0) {
        pos = put(out, pos, sep ? K.hashtagsSep : K.hashtags);
        pos = this.putHashtags(out, pos, false);
        out.setUint8(pos++, 0x5d);
        sep = true;
      }
      if (this.mentionStart >= 0) {
        pos = put(out, pos, sep ? K.mentionsSep : K.mentions);
        pos = this.putMention(out, pos, false);
        out.setUint8(pos++, 0x5d);
        sep = true;
      }
      if (this.urlStart >= 0) {
        pos = put(out, pos, sep ? K.urlsSep : K.urls);
        pos = this.putUrl(out, pos, false);
        out.setUint8(pos++, 0x5d);
      }
      out.setUint8(pos++, 0x7d); // '}'
    }
    out.setUint8(pos++, 0x7d);
    return pos;
  }

  // -- text tokens (each separated by a space); offsets in code points ----------------------------

  private space(): void {
    if (this.cp > 0) {
      this.out.setUint8(this.pos++, 0x20);
      this.cp++;
    }
  }

  private emitPhrase(index: number): void {
    this.space();
    this.pos = putArena(this.out, this.pos, PHRASES, index);
    this.cp += PHRASES.codePoints[index];
  }

  private emitTag(i: number, withSpace: boolean): void {
    if (withSpace) this.space();
    const out = this.out;
    const start = this.cp;
    const end = start + 1 + this.tagCp[i];
    const ref = this.tagRef[i];
    out.setUint8(this.pos++, 0x23); // '#'
    this.pos = this.putTag(out, this.pos, ref);
    this.cp = end;
    const punct = this.tagPunct[i];
    if (punct !== 0) {
      out.setUint8(this.pos++, punct);
      this.cp++;
    }
    const n = this.nHashtags++;
    this.hashStart[n] = start;
    this.hashEnd[n] = end;
    this.hashRef[n] = ref;
  }

  private putTag(out: DataView, pos: number, ref: number): number {
    return ref >= 0 ? putArena(out, pos, this.vocab, ref) : putArena(out, pos, this.burstArena, -1 - ref);
  }

  private emitMention(rank: number): void {
    this.space();
    const start = this.cp;
    this.out.setUint8(this.pos++, 0x40); // '@'
    const nameStart = this.pos;
    this.pos = putScreenName(this.out, this.pos, rank);
    this.cp += 1 + this.pos - nameStart; // ASCII
    this.mentionStart = start;
    this.mentionEnd = this.cp;
    this.mentionRank = rank;
  }

  private emitCashtag(index: number): void {
    this.space();
    const start = this.cp;
    this.out.setUint8(this.pos++, 0x24); // '$'
    this.pos = putArena(this.out, this.pos, CASHTAG_ARENA, index);
    this.cp += 1 + CASHTAG_ARENA.length[index]; // ASCII
    this.cashtagStart = start;
    this.cashtagIndex = index;
  }

  private emitUrl(kind: number): void {
    this.space();
    const out = this.out;
    const byteStart = this.pos;
    let pos = byteStart;
    if (kind === 2) {
      pos = putArena(out, pos, FRAGMENT_URL_ARENA, this.rng.below(FRAGMENT_URLS.length));
      this.urlExpanded = -1;
    } else {
      pos = put(out, pos, K.tco);
      let x = this.rng.nextU32();
      let y = this.rng.nextU32();
      this.urlExpanded = y % EXPANDED_URLS.length;
      for (let i = 0; i < 5; i++) {
        const qx = Math.floor(x / 62);
        out.setUint8(pos++, BASE62.charCodeAt(x - qx * 62));
        x = qx;
        const qy = Math.floor(y / 62);
        out.setUint8(pos++, BASE62.charCodeAt(y - qy * 62));
        y = qy;
      }
    }
    this.pos = pos;
    this.urlStart = this.cp;
    this.cp += pos - byteStart; // ASCII
    this.urlEnd = this.cp;
    this.urlByteStart = byteStart;
    this.urlByteEnd = pos;
  }

  // -- entities ---------------------------------------------------------------------------------

  private putHashtags(out: DataView, pos: number, v1: boolean): number {
    for (let i = 0; i < this.nHashtags; i++) {
      if (i > 0) out.setUint8(pos++, 0x2c);
      const ref = this.hashRef[i];
      if (v1) {
        pos = put(out, pos, K.textField);
        pos = this.putTag(out, pos, ref);
        pos = put(out, pos, K.indices);
        pos = putUint(out, pos, this.hashStart[i]);
        out.setUint8(pos++, 0x2c);
        pos = putUint(out, pos, this.hashEnd[i]);
        pos = put(out, pos, K.closeIndices);
      } else {
        pos = put(out, pos, K.start);
        pos = putUint(out, pos, this.hashStart[i]);
        pos = put(out, pos, K.end);
        pos = putUint(out, pos, this.hashEnd[i]);
        pos = put(out, pos, K.tag);
        pos = this.putTag(out, pos, ref);
        pos = put(out, pos, K.closeStr);
      }
    }
    return pos;
  }

  private putMention(out: DataView, pos: number, v1: boolean): number {
    const rank = this.mentionRank;
    if (v1) {
      pos = put(out, pos, K.mentionScreenName);
      pos = putScreenName(out, pos, rank);
      pos = put(out, pos, K.v1Id);
      const idStart = pos;
      pos = putAuthorId(out, pos, rank);
      const idLength = pos - idStart;
      pos = put(out, pos, K.idStr);
      pos = copyBytes(out, pos, out, idStart, idLength);
      pos = put(out, pos, K.indices);
      pos = putUint(out, pos, this.mentionStart);
      out.setUint8(pos++, 0x2c);
      pos = putUint(out, pos, this.mentionEnd);
      return put(out, pos, K.closeIndices);
    }
    pos = put(out, pos, K.start);
    pos = putUint(out, pos, this.mentionStart);
    pos = put(out, pos, K.end);
    pos = putUint(out, pos, this.mentionEnd);
    pos = put(out, pos, K.username);
    pos = putScreenName(out, pos, rank);
    pos = put(out, pos, K.idQuoted);
    pos = putAuthorId(out, pos, rank);
    return put(out, pos, K.closeStr);
  }

  private putCashtag(out: DataView, pos: number, v1: boolean): number {
    const index = this.cashtagIndex;
    const end = this.cashtagStart + 1 + CASHTAG_ARENA.length[index];
    if (v1) {
      pos = put(out, pos, K.textField);
      pos = putArena(out, pos, CASHTAG_ARENA, index);
      pos = put(out, pos, K.indices);
      pos = putUint(out, pos, this.cashtagStart);
      out.setUint8(pos++, 0x2c);
      pos = putUint(out, pos, end);
      return put(out, pos, K.closeIndices);
    }
    pos = put(out, pos, K.start);
    pos = putUint(out, pos, this.cashtagStart);
    pos = put(out, pos, K.end);
    pos = putUint(out, pos, end);
    pos = put(out, pos, K.tag);
    pos = putArena(out, pos, CASHTAG_ARENA, index);
    return put(out, pos, K.closeStr);
  }

  private putUrl(out: DataView, pos: number, v1: boolean): number {
    if (!v1) {
      pos = put(out, pos, K.start);
      pos = putUint(out, pos, this.urlStart);
      pos = put(out, pos, K.end);
      pos = putUint(out, pos, this.urlEnd);
      pos = put(out, pos, K.urlSep);
    } else {
      pos = put(out, pos, K.url);
    }
    const urlLength = this.urlByteEnd - this.urlByteStart;
    pos = copyBytes(out, pos, out, this.urlByteStart, urlLength);
    pos = put(out, pos, K.expandedUrl);
    pos =
      this.urlExpanded >= 0
        ? putArena(out, pos, EXPANDED_URL_ARENA, this.urlExpanded)
        : copyBytes(out, pos, out, this.urlByteStart, urlLength);
    if (!v1) return put(out, pos, K.closeStr);
    pos = put(out, pos, K.indices);
    pos = putUint(out, pos, this.urlStart);
    out.setUint8(pos++, 0x2c);
    pos = putUint(out, pos, this.urlEnd);
    return put(out, pos, K.closeIndices);
  }

  // -- bursts -----------------------------------------------------------------------------------

  /** Adds the tag of every burst active at `nominal`, each with probability burstShare. */
  private addBurstTags(nominal: number, nTags: number, nPhrases: number): number {
    const every = this.burstEveryMs;
    const duration = this.burstDurationMs;
    for (let k = Math.floor(nominal / every); k * every + duration > nominal && nTags < MAX_TAGS; k--) {
      if (this.rng.next() < this.burstShare) {
        const t = this.rng.nextU32();
        const entry = 2 * this.burstSlot(k) + ((t & 7) < 2 ? 1 : 0); // sometimes lower case
        this.tagRef[nTags] = -1 - entry;
        this.tagCp[nTags] = this.burstArena.codePoints[entry];
        this.tagPos[nTags] = ((t >>> 3) & 255) < 115 ? ((t >>> 11) & 255) % nPhrases : -1;
        this.tagPunct[nTags] = 0;
        nTags++;
      }
    }
    return nTags;
  }

  /** Cache slot holding burst k's tag (a made-up word + a number; bursts start at k * burstEveryMs). */
  private burstSlot(k: number): number {
    const slot = k & 7;
    if (this.burstKeys[slot] === k) return slot;
    let h = mixSeed(this.seedMix, k, 0xb0057);
    let word = '';
    for (let i = 0; i < 3; i++) {
      word += SYLLABLES[h % SYLLABLES.length];
      h = fmix32(h + i);
    }
    const tag = word[0].toUpperCase() + word.slice(1) + String(((k % 1000) + 1000) % 1000);
    this.burstKeys[slot] = k;
    this.burstStrings[2 * slot] = tag;
    this.burstStrings[2 * slot + 1] = tag.toLowerCase();
    this.burstArena = new Arena(this.burstStrings);
    return slot;
  }

  // -- timestamps (cached per second) -----------------------------------------------------------

  /** 2022-09-25T23:59:59.123Z */
  private putIsoDate(out: DataView, pos: number, ms: number): number {
    const sec = Math.floor(ms / 1000);
    const slot = sec & 15;
    if (this.isoKeys[slot] !== sec) {
      this.isoKeys[slot] = sec;
      // up to and including the '.'
      this.dateBytes.write(new Date(sec * 1000).toISOString().slice(0, 20), slot * 32, 'latin1');
    }
    pos = copyBytes(out, pos, this.dateView, slot * 32, 20);
    pos = putPadded(out, pos, ms - sec * 1000, 3);
    out.setUint8(pos, 0x5a); // 'Z'
    return pos + 1;
  }

  /** Sun Dec 14 23:12:32 +0000 2014 */
  private putV1Date(out: DataView, pos: number, ms: number): number {
    const sec = Math.floor(ms / 1000);
    const slot = sec & 15;
    const at = (16 + slot) * 32;
    if (this.v1Keys[slot] !== sec) {
      this.v1Keys[slot] = sec;
      const d = new Date(sec * 1000);
      const two = (n: number): string => (n < 10 ? '0' : '') + n;
      const text =
        `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
        `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
      this.dateBytes.write(text, at, 'latin1'); // 30 bytes for years 1000-9999
    }
    return copyBytes(out, pos, this.dateView, at, 30);
  }
}

function validate(o: TweetGeneratorOptions): void {
  const fail = (what: string): never => {
    throw new RangeError(`tweet generator: ${what}`);
  };
  if (!Number.isFinite(o.seed)) fail(`seed must be a finite number, got ${o.seed}`);
  if (!Number.isInteger(o.splitCount) || o.splitCount < 1 || o.splitCount > 1024)
    fail(`splitCount must be an integer in [1, 1024] (10 snowflake worker bits), got ${o.splitCount}`);
  if (!Number.isInteger(o.splitIndex) || o.splitIndex < 0 || o.splitIndex >= o.splitCount)
    fail(`splitIndex must be an integer in [0, splitCount), got ${o.splitIndex}`);
  if (!Number.isFinite(o.startMs) || o.startMs < TWITTER_EPOCH_MS || o.startMs >= TWITTER_EPOCH_MS + 2 ** 41)
    fail(`startMs must be a time between 2010-11-04 and 2080 (the snowflake range), got ${o.startMs}`);
  if (!(o.eventsPerSecond > 0) || !Number.isFinite(o.eventsPerSecond))
    fail(`eventsPerSecond must be positive, got ${o.eventsPerSecond}`);
  if (!(o.disorderMs >= 0) || !Number.isFinite(o.disorderMs))
    fail(`disorderMs must be >= 0, got ${o.disorderMs}`);
  if (!(o.duplicateRate >= 0 && o.duplicateRate <= 1))
    fail(`duplicateRate must be in [0, 1], got ${o.duplicateRate}`);
  if (!Number.isInteger(o.topics) || o.topics < 1) fail(`topics must be a positive integer, got ${o.topics}`);
  if (o.topicDistribution !== 'zipf' && o.topicDistribution !== 'cycle')
    fail(`topicDistribution must be zipf or cycle, got ${String(o.topicDistribution)}`);
  if (!Number.isInteger(o.authors) || o.authors < 1 || o.authors > 2 ** 31 - 1)
    fail(`authors must be an integer in [1, 2^31), got ${o.authors}`);
  if (!(o.burstEveryMs > 0)) fail(`burstEveryMs must be positive, got ${o.burstEveryMs}`);
  if (!(o.burstDurationMs >= 0)) fail(`burstDurationMs must be >= 0, got ${o.burstDurationMs}`);
  if (!(o.burstShare >= 0 && o.burstShare <= 1)) fail(`burstShare must be in [0, 1], got ${o.burstShare}`);
  if (!(o.v1Share >= 0 && o.v1Share <= 1)) fail(`v1Share must be in [0, 1], got ${o.v1Share}`);
}
