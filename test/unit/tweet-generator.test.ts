import {
  defaultGeneratorOptions,
  snowflakeTimeMs,
  TweetGenerator,
  TweetGeneratorOptions,
  TWITTER_EPOCH_MS,
} from '../../src/connectors/generator/tweet-generator';
import { Xoshiro128 } from '../../src/connectors/generator/random';
import {
  RejectionInversionZipf,
  TableZipf,
  zipfProbability,
  ZipfSampler,
} from '../../src/connectors/generator/zipf';

const START = Date.parse('2022-09-25T00:00:00Z'); // a multiple of every burst period used below

function generator(overrides: Partial<TweetGeneratorOptions> = {}): TweetGenerator {
  return new TweetGenerator({
    ...defaultGeneratorOptions,
    seed: 42,
    splitIndex: 0,
    splitCount: 1,
    startMs: START,
    eventsPerSecond: 1000,
    ...overrides,
  });
}

/**
 * Collects failed checks in hot loops (expect() per line would dominate the test's run time);
 * assert with expect(problems).toEqual([]) afterwards.
 */
class Problems extends Array<string> {
  check(ok: boolean, what: () => string): void {
    if (!ok && this.length < 5) this.push(what());
  }
}

function lines(gen: TweetGenerator, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(gen.nextLine());
  return out;
}

interface Span {
  start: number;
  end: number;
  value: string;
}

/** Both formats brought to one shape, the way a consumer would read them. */
interface Parsed {
  v1: boolean;
  id: string;
  createdMs: number;
  authorId: string;
  text: string;
  hasEntities: boolean;
  hashtags: Span[];
  mentions: Span[];
  urls: Span[];
  cashtags: Span[];
}

const V1_DATE = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (\w{3}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) \+0000 (\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function parseV1Date(s: string): number {
  const m = V1_DATE.exec(s);
  const month = m === null ? -1 : MONTHS.indexOf(m[2]);
  if (m === null || month < 0) throw new Error(`bad v1.1 created_at: ${s}`);
  const ms = Date.UTC(+m[7], month, +m[3], +m[4], +m[5], +m[6]);
  if (new Date(ms).toUTCString().slice(0, 3) !== m[1]) throw new Error(`wrong weekday: ${s}`);
  return ms;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function parse(line: string): Parsed {
  const o = JSON.parse(line);
  if (typeof o.id_str === 'string') {
    const e = o.entities;
    return {
      v1: true,
      id: o.id_str,
      createdMs: parseV1Date(o.created_at),
      authorId: o.user.id_str,
      text: o.text,
      hasEntities: true,
      hashtags: e.hashtags.map((h: any) => ({ start: h.indices[0], end: h.indices[1], value: h.text })),
      mentions: e.user_mentions.map((m: any) => ({
        start: m.indices[0],
        end: m.indices[1],
        value: m.screen_name,
      })),
      urls: e.urls.map((u: any) => ({ start: u.indices[0], end: u.indices[1], value: u.url })),
      cashtags: e.symbols.map((c: any) => ({ start: c.indices[0], end: c.indices[1], value: c.text })),
    };
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.created_at))
    throw new Error(`bad created_at: ${line}`);
  const e = o.entities ?? {};
  const spans = (list: any[] | undefined, key: string): Span[] =>
    (list ?? []).map((x: any) => ({ start: x.start, end: x.end, value: x[key] }));
  return {
    v1: false,
    id: o.id,
    createdMs: Date.parse(o.created_at),
    authorId: o.author_id,
    text: o.text,
    hasEntities: o.entities !== undefined,
    hashtags: spans(e.hashtags, 'tag'),
    mentions: spans(e.mentions, 'username'),
    urls: spans(e.urls, 'url'),
    cashtags: spans(e.cashtags, 'tag'),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Hashtags a careful consumer finds in the text: '#' at the start or after whitespace, URLs skipped. */
function hashtagsInText(text: string): string[] {
  const tags: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (token.startsWith('http')) continue;
    const m = /^#([\p{L}\p{M}\p{N}_]+)/u.exec(token);
    if (m !== null) tags.push(m[1]);
  }
  return tags;
}

describe('TweetGenerator', () => {
  it('is deterministic: same seed and options give the same bytes, however consumed', () => {
    const a = lines(generator({ seed: 7 }), 3000);
    const b = lines(generator({ seed: 7 }), 3000);
    expect(b).toEqual(a);
    const other = lines(generator({ seed: 8 }), 3000);
    expect(other).not.toEqual(a);
    expect(other.filter((line, i) => line === a[i]).length).toBe(0);

    // Chunks of assorted sizes, mixed with single lines, give the very same stream.
    const gen = generator({ seed: 7 });
    let text = '';
    const sizes = [1, 100, 4096, 333, 65536, 0, 2000];
    for (let i = 0; text.split('\n').length <= 3000; i++) {
      if (i % 5 === 4) text += gen.nextLine() + '\n';
      else text += gen.nextChunk(sizes[i % sizes.length]).bytes.toString('utf8');
    }
    expect(text.split('\n').slice(0, 3000)).toEqual(a);
  });

  it('fills in defaults for options left out', () => {
    const required = { seed: 3, splitIndex: 0, splitCount: 1, startMs: START, eventsPerSecond: 500 };
    const implicit = lines(new TweetGenerator(required), 500);
    const explicit = lines(new TweetGenerator({ ...defaultGeneratorOptions, ...required }), 500);
    expect(implicit).toEqual(explicit);
    expect(new TweetGenerator(required).options.disorderMs).toBe(3000);
  });

  it('rejects options it cannot honour', () => {
    expect(() => generator({ startMs: 0 })).toThrow(RangeError); // before the snowflake epoch
    expect(() => generator({ splitIndex: 2, splitCount: 2 })).toThrow(RangeError);
    expect(() => generator({ splitCount: 2048 })).toThrow(RangeError); // 10 worker bits
    expect(() => generator({ eventsPerSecond: 0 })).toThrow(RangeError);
    expect(() => generator({ topics: 0 })).toThrow(RangeError);
    expect(() => generator({ v1Share: 1.5 })).toThrow(RangeError);
  });

  it('gives disjoint ids to different splits, and the split in the worker bits', () => {
    const seen = new Map<string, number>();
    for (let split = 0; split < 4; split++) {
      const gen = generator({ splitIndex: split, splitCount: 4, eventsPerSecond: 5000 });
      const own = new Set<string>();
      const problems = new Problems();
      for (const line of lines(gen, 20000)) {
        const { id } = parse(line);
        problems.check(Number((BigInt(id) >> 12n) & 1023n) === split, () => `worker bits of ${id}`);
        own.add(id);
      }
      for (const id of own) {
        problems.check(!seen.has(id), () => `${id} of split ${split} also in split ${seen.get(id)}`);
        seen.set(id, split);
      }
      expect(problems).toEqual([]);
    }
    expect(seen.size).toBeGreaterThan(4 * 19000); // duplicates repeat ids within a split only
  });

  it('makes snowflake ids whose time is the nominal event time', () => {
    const gen = generator({ duplicateRate: 0, eventsPerSecond: 2000 });
    let previous = 0n;
    const problems = new Problems();
    for (let i = 0; i < 20000; i++) {
      const nominal = gen.nominalTimeMs;
      const line = gen.nextLine();
      const tweet = parse(line);
      problems.check(/^[1-9]\d{17,18}$/.test(tweet.id), () => `id ${tweet.id}`);
      const id = BigInt(tweet.id);
      problems.check((id >> 22n) + BigInt(TWITTER_EPOCH_MS) === BigInt(nominal), () => `${id} at ${nominal}`);
      problems.check(snowflakeTimeMs(tweet.id) === nominal, () => `snowflakeTimeMs(${id})`);
      problems.check(id > previous, () => `${id} after ${previous}`);
      previous = id;
      // v1.1 also gives the id as a JSON number, which a double cannot hold exactly.
      if (tweet.v1) problems.check(line.includes(`"id":${tweet.id},"id_str":"${tweet.id}"`), () => line);
    }
    expect(problems).toEqual([]);
  });

  it('carries the sequence into the next ms when more than 4096 tweets share one', () => {
    const gen = generator({ duplicateRate: 0, eventsPerSecond: 20_000_000, splitCount: 2 }); // ~20000 per ms
    const ids = new Set<string>();
    let previous = 0n;
    const problems = new Problems();
    for (let i = 0; i < 30000; i++) {
      const nominal = gen.nominalTimeMs;
      const { id } = parse(gen.nextLine());
      problems.check(BigInt(id) > previous, () => `${id} after ${previous}`);
      previous = BigInt(id);
      problems.check(snowflakeTimeMs(id) >= nominal, () => `${id} before ${nominal}`);
      problems.check(
        ((BigInt(id) >> 12n) & 1023n) === 0n,
        () => `sequence overflowed into worker bits: ${id}`,
      );
      ids.add(id);
    }
    expect(problems).toEqual([]);
    expect(ids.size).toBe(30000);
    expect(snowflakeTimeMs(String(previous)) - gen.nominalTimeMs).toBeLessThan(10); // little drift
  });

  it('writes lines that all parse, in realistic v2 and v1.1 shapes and sizes', () => {
    const gen = generator({ eventsPerSecond: 10000 });
    const size = { v1: [0, 0], v2: [0, 0] };
    const authors = new Map<string, number>();
    let maxLength = 0;
    const problems = new Problems();
    for (let i = 0; i < 100000; i++) {
      const line = gen.nextLine();
      problems.check(!line.includes('\n'), () => line);
      const o = JSON.parse(line);
      const v1 = typeof o.id_str === 'string';
      const keys = (x: object): string => Object.keys(x).join();
      if (v1) {
        problems.check(keys(o) === 'created_at,id,id_str,text,user,entities,lang', () => line);
        problems.check(keys(o.user) === 'id,id_str,screen_name', () => line);
        problems.check(keys(o.entities) === 'hashtags,symbols,urls,user_mentions', () => line);
        problems.check(/^\d+$/.test(o.user.id_str) && typeof o.id === 'number', () => line);
      } else {
        problems.check(/^id,created_at,author_id,text,lang(,entities)?$/.test(keys(o)), () => line);
        problems.check(/^\d+$/.test(o.author_id), () => line);
        if (o.entities !== undefined) {
          const lists = Object.values(o.entities) as unknown[][];
          problems.check(lists.length > 0 && lists.every((list) => list.length > 0), () => line);
        }
      }
      parse(line); // throws on malformed dates
      const authorId = v1 ? o.user.id_str : o.author_id;
      authors.set(authorId, (authors.get(authorId) ?? 0) + 1);
      const bytes = Buffer.byteLength(line);
      size[v1 ? 'v1' : 'v2'][0] += bytes;
      size[v1 ? 'v1' : 'v2'][1]++;
      maxLength = Math.max(maxLength, bytes);
    }
    expect(problems).toEqual([]);
    const v2Average = size.v2[0] / size.v2[1];
    const v1Average = size.v1[0] / size.v1[1];
    expect(v2Average).toBeGreaterThan(180);
    expect(v2Average).toBeLessThan(320);
    expect(v1Average).toBeGreaterThan(220);
    expect(v1Average).toBeLessThan(450); // two ids twice, a user object and four entity lists
    expect(maxLength).toBeLessThan(2000);
    // Authors are skewed: some post a lot, most once; some ids exceed 2^53.
    const counts = [...authors.values()].sort((x, y) => y - x);
    expect(counts[0]).toBeGreaterThan(50);
    expect(counts.filter((c) => c === 1).length).toBeGreaterThan(authors.size / 2);
    expect([...authors.keys()].some((id) => BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('gives entity offsets in code points that match the text, and every hashtag of the text', () => {
    const gen = generator({ eventsPerSecond: 5000 });
    const stats = {
      tags: 0,
      utf16Differs: 0,
      v2NoEntitiesWithTags: 0,
      mentionsOnly: 0,
      fragmentUrls: 0,
      cashtags: 0,
      newlines: 0,
      astral: 0,
    };
    const spellings = new Set<string>();
    const problems = new Problems();
    for (let i = 0; i < 30000; i++) {
      const line = gen.nextLine();
      const t = parse(line);
      const chars = Array.from(t.text); // code points
      const at = (s: Span): string => chars.slice(s.start, s.end).join('');
      for (const h of t.hashtags) {
        problems.check(at(h) === '#' + h.value, () => `hashtag ${h.value} at ${h.start}: ${line}`);
        if (t.text.indexOf('#' + h.value) !== h.start) stats.utf16Differs++;
        if (/[\u{10000}-\u{10ffff}]/u.test(h.value)) stats.astral++;
        spellings.add(h.value);
        stats.tags++;
      }
      for (const m of t.mentions) problems.check(at(m) === '@' + m.value, () => `mention: ${line}`);
      for (const u of t.urls) {
        problems.check(at(u) === u.value, () => `url: ${line}`);
        if (u.value.includes('#')) stats.fragmentUrls++;
        // A URL fragment is never a hashtag.
        for (const h of t.hashtags)
          problems.check(h.start >= u.end || h.end <= u.start, () => `in url: ${line}`);
      }
      for (const c of t.cashtags) {
        problems.check(at(c) === '$' + c.value, () => `cashtag: ${line}`);
        stats.cashtags++;
      }
      if (t.text.includes('\n')) stats.newlines++;
      if (t.hasEntities) {
        // The entities list exactly the hashtags of the text, in order.
        const inText = hashtagsInText(t.text).join(' ');
        problems.check(t.hashtags.map((h) => h.value).join(' ') === inText, () => `entities: ${line}`);
      } else if (hashtagsInText(t.text).length > 0) {
        stats.v2NoEntitiesWithTags++;
      }
      if (!t.v1 && t.hasEntities && t.hashtags.length === 0 && t.mentions.length > 0) stats.mentionsOnly++;
    }
    expect(problems).toEqual([]);
    expect(stats.tags).toBeGreaterThan(25000);
    expect(stats.utf16Differs).toBeGreaterThan(100); // emoji before a tag: UTF-16 offsets would be wrong
    expect(stats.astral).toBeGreaterThan(0); // e.g. #𠮷野家
    expect(stats.v2NoEntitiesWithTags).toBeGreaterThan(1000); // consumers must read the text
    expect(stats.mentionsOnly).toBeGreaterThan(100);
    expect(stats.fragmentUrls).toBeGreaterThan(100);
    expect(stats.cashtags).toBeGreaterThan(100);
    expect(stats.newlines).toBeGreaterThan(100);
    // Mixed case spellings of one topic, and non-ASCII tags.
    expect(spellings).toContain('WorldCup');
    expect(spellings).toContain('worldcup');
    expect(spellings).toContain('WORLDCUP');
    expect(spellings).toContain('東京');
    expect(spellings).toContain('café');
    expect(spellings).toContain('CAFÉ');
  });

  it('re-delivers about duplicateRate of the lines, verbatim and recent', () => {
    const gen = generator({ eventsPerSecond: 10000 });
    const firstSeen = new Map<string, number>();
    let duplicates = 0;
    let maxDistance = 0;
    for (let i = 0; i < 100000; i++) {
      const line = gen.nextLine();
      const first = firstSeen.get(line);
      if (first === undefined) {
        firstSeen.set(line, i);
      } else {
        duplicates++;
        maxDistance = Math.max(maxDistance, i - first);
      }
    }
    expect(maxDistance).toBeLessThanOrEqual(1100);
    expect(duplicates / 100000).toBeGreaterThanOrEqual(0.005);
    expect(duplicates / 100000).toBeLessThanOrEqual(0.015);
    expect(duplicates / 100000).toBeCloseTo(0.01, 2);

    const none = lines(generator({ duplicateRate: 0 }), 20000);
    expect(new Set(none).size).toBe(20000);
  });

  it.each([
    ['dense', 1000, 3000],
    ['sparse', 20, 3000],
    ['tight', 1000, 1000],
  ])('bounds out-of-orderness by disorderMs (%s)', (_name, eventsPerSecond, disorderMs) => {
    const gen = generator({ eventsPerSecond, disorderMs, duplicateRate: 0.05 });
    let maxSeen = -Infinity;
    let late = 0;
    let duplicates = 0;
    const seen = new Set<string>();
    const problems = new Problems();
    for (let i = 0; i < 30000; i++) {
      const nominal = gen.nominalTimeMs;
      const line = gen.nextLine();
      const t = parse(line);
      if (seen.has(line)) duplicates++;
      seen.add(line);
      const idTime = snowflakeTimeMs(t.id);
      problems.check(t.createdMs > nominal - disorderMs, () => `before ${nominal} - disorder: ${line}`);
      problems.check(t.createdMs > idTime - disorderMs && t.createdMs <= idTime, () => `vs id: ${line}`);
      problems.check(!t.v1 || t.createdMs % 1000 === 0, () => `v1.1 with ms: ${line}`);
      const lateness = maxSeen - t.createdMs;
      problems.check(lateness < disorderMs + 1000 / eventsPerSecond, () => `${lateness} ms late: ${line}`);
      if (t.createdMs < maxSeen) late++;
      maxSeen = Math.max(maxSeen, t.createdMs);
    }
    expect(problems).toEqual([]);
    expect(late).toBeGreaterThan(3000); // there is real disorder to handle
    expect(duplicates).toBeGreaterThan(500);
    // created_at advances by 1000 / eventsPerSecond per fresh tweet on average.
    const perTweet = (gen.nominalTimeMs - START) / (30000 - duplicates);
    expect(perTweet).toBeGreaterThan((1000 / eventsPerSecond) * 0.95);
    expect(perTweet).toBeLessThan((1000 / eventsPerSecond) * 1.05);
  });

  it('draws hashtags from a skewed (Zipf) distribution over one case-insensitive vocabulary', () => {
    const gen = generator({ eventsPerSecond: 10000, burstShare: 0 });
    const counts = new Map<string, number>();
    let tweets = 0;
    const perTweet = [0, 0, 0, 0];
    for (let i = 0; i < 100000; i++) {
      const t = parse(gen.nextLine());
      const tags = hashtagsInText(t.text);
      perTweet[Math.min(3, tags.length)]++;
      tweets++;
      for (const tag of tags) counts.set(tag.toLowerCase(), (counts.get(tag.toLowerCase()) ?? 0) + 1);
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    expect(ranked[0][0]).toBe('worldcup');
    expect(ranked[0][1]).toBeGreaterThan(20 * ranked[99][1]);
    expect(ranked.length).toBeGreaterThan(5000);
    expect(perTweet[0] / tweets).toBeCloseTo(0.35, 1);
    expect(perTweet[1] / tweets).toBeCloseTo(0.4, 1);
    expect(perTweet[2] / tweets).toBeCloseTo(0.2, 1);
  });

  it('starts a brand-new bursting tag every burstEveryMs, carried by burstShare of tweets', () => {
    const every = 60_000;
    const duration = 20_000;
    const gen = generator({
      eventsPerSecond: 200,
      burstEveryMs: every,
      burstDurationMs: duration,
      burstShare: 0.05,
      duplicateRate: 0,
    });
    const burstTags = [0, 1, 2].map((k) => gen.burstTagAt(START + k * every + 1)!);
    expect(new Set(burstTags.map((t) => t.toLowerCase())).size).toBe(3);
    expect(gen.burstTagAt(START + duration + 1)).toBeUndefined();
    expect(gen.burstTagAt(START + every - 1)).toBeUndefined();
    const during = [0, 0, 0];
    const tweetsDuring = [0, 0, 0];
    const problems = new Problems();
    while (gen.nominalTimeMs < START + 3 * every) {
      const nominal = gen.nominalTimeMs;
      const tags = parse(gen.nextLine()).hashtags.map((h) => h.value.toLowerCase());
      const k = Math.floor((nominal - START) / every);
      const bursting = nominal - START - k * every < duration;
      if (bursting) tweetsDuring[k]++;
      for (let j = 0; j < 3; j++) {
        if (!tags.includes(burstTags[j].toLowerCase())) continue;
        problems.check(bursting && j === k, () => `${burstTags[j]} at ${nominal}`); // only in its own burst
        during[j]++;
      }
    }
    expect(problems).toEqual([]);
    for (let j = 0; j < 3; j++) {
      expect(during[j] / tweetsDuring[j]).toBeGreaterThan(0.03);
      expect(during[j] / tweetsDuring[j]).toBeLessThan(0.07);
    }
    // All splits agree on the burst schedule and tags.
    const other = generator({ splitIndex: 3, splitCount: 4, burstEveryMs: every, burstDurationMs: duration });
    expect(other.burstTagAt(START + every + 5)).toBe(burstTags[1]);
  });

  it.each([0.1, 0.5, 0])('writes about v1Share = %p of the lines in v1.1 format', (v1Share) => {
    const gen = generator({ v1Share, eventsPerSecond: 10000, duplicateRate: 0 });
    let v1 = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) if (gen.nextLine().startsWith('{"created_at"')) v1++;
    expect(v1 / n).toBeGreaterThanOrEqual(v1Share - 0.01);
    expect(v1 / n).toBeLessThanOrEqual(v1Share + 0.01);
  });

  it('fills chunks with whole lines up to maxBytes, never splitting one', () => {
    const gen = generator({ seed: 5 });
    const twin = generator({ seed: 5 });
    for (const maxBytes of [4096, 1000, 300, 65536]) {
      for (let c = 0; c < 50; c++) {
        const expectedNominal = twin.nominalTimeMs;
        expect(gen.nominalTimeMs).toBe(expectedNominal); // also while a line is held back
        const { bytes, lines: count } = gen.nextChunk(maxBytes);
        expect(count).toBeGreaterThan(0);
        const text = bytes.toString('utf8');
        expect(text.endsWith('\n')).toBe(true);
        const chunkLines = text.slice(0, -1).split('\n');
        expect(chunkLines.length).toBe(count);
        if (count > 1) expect(bytes.length).toBeLessThanOrEqual(maxBytes);
        expect(chunkLines).toEqual(lines(twin, count));
        // Nearly full: the next line would not have fitted.
        if (maxBytes >= 1000) expect(bytes.length).toBeGreaterThan(maxBytes - 2000);
      }
    }
    // A line longer than maxBytes comes alone.
    for (let c = 0; c < 20; c++) {
      const { bytes, lines: count } = gen.nextChunk(10);
      expect(count).toBe(1);
      expect(bytes.length).toBeGreaterThan(10);
      expect(bytes.toString('utf8')).toBe(twin.nextLine() + '\n');
    }
    // maxLines caps the count.
    const capped = gen.nextChunk(1 << 20, 7);
    expect(capped.lines).toBe(7);
    expect(capped.bytes.toString('utf8').split('\n')).toEqual([...lines(twin, 7), '']);
    expect(gen.nextChunk(1 << 20, 0)).toEqual({ bytes: Buffer.alloc(0), lines: 0 });
    // No byte limit: maxLines alone; the buffer grows as needed.
    const many = gen.nextChunk(Infinity, 40000);
    expect(many.lines).toBe(40000);
    expect(many.bytes.toString('utf8').split('\n')).toEqual([...lines(twin, 40000), '']);
  });
});

describe('Zipf samplers', () => {
  it.each([
    ['table', (n: number, s: number): ZipfSampler => new TableZipf(n, s), 20000, 1.1],
    [
      'rejection-inversion',
      (n: number, s: number): ZipfSampler => new RejectionInversionZipf(n, s),
      1_000_000,
      0.8,
    ],
    [
      'rejection-inversion, small n',
      (n: number, s: number): ZipfSampler => new RejectionInversionZipf(n, s),
      50,
      1.1,
    ],
  ])('%s draws ranks with P(k) ~ 1/k^s', (_name, make, n, s) => {
    const sampler = make(n, s);
    const rng = new Xoshiro128(1);
    const draws = 200000;
    const counts = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const k = sampler.sample(rng);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const ranks = [...counts.keys()];
    expect(ranks.every((k) => Number.isInteger(k) && k >= 1 && k <= n)).toBe(true);
    const p1 = zipfProbability(n, s, 1);
    for (const k of [1, 2, 3, 10, 30]) {
      const expected = p1 * Math.pow(k, -s) * draws;
      const sd = Math.sqrt(expected);
      expect(Math.abs((counts.get(k) ?? 0) - expected)).toBeLessThan(5 * sd + 1);
    }
  });
});
