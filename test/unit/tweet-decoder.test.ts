import * as fs from 'fs';
import * as path from 'path';

import { decodeLine, decodeValue, tweetTimeFromId } from '../../src/jobs/trending/tweet-decoder';
import type { DecodeResult, Tweet } from '../../src/jobs/trending/tweet';

const DATA_DIR = path.resolve(__dirname, '../fixtures/twitter-v2');

const WITH_CASHTAGS = { cashtags: true };
const NO_CASHTAGS = { cashtags: false };

/** The single tweet of a result that must hold exactly one tweet and no failure. */
function only(result: DecodeResult): Tweet {
  expect(result.failures).toEqual([]);
  expect(result.tweets).toHaveLength(1);
  return result.tweets[0];
}

/** The single failure of a result that must hold exactly one failure and no tweet. */
function failure(result: DecodeResult): { reason: string; detail: string } {
  expect(result.tweets).toEqual([]);
  expect(result.failures).toHaveLength(1);
  return result.failures[0];
}

// A v1.1 tweet as the REST and streaming APIs send it: the numeric id does not
// fit a double, so only id_str is exact.
const V1_LINE =
  '{"created_at":"Sun Dec 14 23:12:32 +0000 2014","id":544276351235264512,"id_str":"544276351235264512",' +
  '"text":"Markets: #Stocks &amp; $AAPL up, #stocks again https:\\/\\/t.co\\/x#frag",' +
  '"user":{"id":2244994945,"id_str":"2244994945","screen_name":"TwitterDev"},' +
  '"entities":{"hashtags":[{"text":"Stocks","indices":[9,16]},{"text":"stocks","indices":[37,44]}],' +
  '"symbols":[{"text":"AAPL","indices":[23,28]}],"urls":[],"user_mentions":[]}}';

const V1_TIME = Date.UTC(2014, 11, 14, 23, 12, 32);

const V2_TWEET = {
  id: '1574186989737459712',
  created_at: '2022-09-25T23:59:59.000Z',
  author_id: '2971653495',
  text: 'I risultati della #Lega non sono buoni $ENI\n\n#maratonamentana #LEGA',
  entities: {
    hashtags: [
      { start: 18, end: 23, tag: 'Lega' },
      { start: 45, end: 61, tag: 'maratonamentana' },
      { start: 62, end: 67, tag: 'LEGA' },
    ],
    cashtags: [{ start: 39, end: 43, tag: 'ENI' }],
  },
};
const V2_TIME = Date.UTC(2022, 8, 25, 23, 59, 59);

describe('tweetTimeFromId', () => {
  it('computes the snowflake time', () => {
    expect(tweetTimeFromId('1574186989737459712')).toBe(
      Number(BigInt('1574186989737459712') >> 22n) + 1288834974657,
    );
    // The snowflake time is within the second that created_at names.
    const t = tweetTimeFromId('1574186989737459712')!;
    expect(Math.floor(t / 1000) * 1000).toBe(V2_TIME);
  });

  it('starts at id 29700859247', () => {
    expect(tweetTimeFromId('29700859247')).toBe(1288834974657 + 7081);
    expect(tweetTimeFromId('29700859246')).toBeUndefined();
    expect(tweetTimeFromId('20')).toBeUndefined();
    expect(tweetTimeFromId('0')).toBeUndefined();
  });

  it('refuses non-digit strings and ids beyond 64 bits', () => {
    expect(tweetTimeFromId('')).toBeUndefined();
    expect(tweetTimeFromId('abc')).toBeUndefined();
    expect(tweetTimeFromId('1574186989737459712x')).toBeUndefined();
    expect(tweetTimeFromId('-1574186989737459712')).toBeUndefined();
    expect(tweetTimeFromId('1.5e18')).toBeUndefined();
    expect(tweetTimeFromId('9223372036854775807')).toBeDefined();
    expect(tweetTimeFromId('9223372036854775808')).toBeUndefined();
  });
});

describe('decodeLine: API v1.1', () => {
  it('decodes a tweet: id_str, user.id_str, created_at, entities', () => {
    expect(only(decodeLine(V1_LINE, WITH_CASHTAGS))).toEqual({
      id: '544276351235264512',
      timestampMs: V1_TIME,
      authorId: '2244994945',
      topics: ['#stocks', '$aapl'],
    });
  });

  it('leaves out cashtags unless asked', () => {
    expect(only(decodeLine(V1_LINE, NO_CASHTAGS)).topics).toEqual(['#stocks']);
  });

  it('honours the created_at offset', () => {
    const east = only(
      decodeValue({ id_str: '1', created_at: 'Mon Dec 15 04:42:32 +0530 2014' }, NO_CASHTAGS),
    );
    const west = only(
      decodeValue({ id_str: '1', created_at: 'Sun Dec 14 15:12:32 -0800 2014' }, NO_CASHTAGS),
    );
    expect(east.timestampMs).toBe(V1_TIME);
    expect(west.timestampMs).toBe(V1_TIME);
  });

  it('parses created_at across a leap day and the new year', () => {
    const leap = only(
      decodeValue({ id_str: '1', created_at: 'Thu Feb 29 23:30:00 -0100 2024' }, NO_CASHTAGS),
    );
    expect(leap.timestampMs).toBe(Date.UTC(2024, 2, 1, 0, 30, 0));
    const newYear = only(
      decodeValue({ id_str: '1', created_at: 'Wed Dec 31 23:59:59 +0000 2025' }, NO_CASHTAGS),
    );
    expect(newYear.timestampMs).toBe(Date.UTC(2025, 11, 31, 23, 59, 59));
  });

  it('prefers extended_tweet entities and full_text', () => {
    const tweet = {
      id_str: '1574186989737459712',
      created_at: 'Sun Dec 14 23:12:32 +0000 2014',
      truncated: true,
      text: '#short tweet text… https://t.co/x',
      entities: { hashtags: [{ text: 'short' }], symbols: [] },
      user: { id_str: '7' },
      extended_tweet: {
        full_text: '#short tweet text that goes on and on #Long $TSLA',
        entities: { hashtags: [{ text: 'short' }, { text: 'Long' }], symbols: [{ text: 'TSLA' }] },
      },
    };
    expect(only(decodeValue(tweet, WITH_CASHTAGS)).topics).toEqual(['#short', '#long', '$tsla']);
  });

  it('extracts from extended_tweet.full_text when extended_tweet has no entities', () => {
    const tweet = {
      id_str: '1574186989737459712',
      created_at: 'Sun Dec 14 23:12:32 +0000 2014',
      text: 'truncated…',
      entities: { hashtags: [] },
      extended_tweet: { full_text: 'the full text with #Tail and $ibm' },
    };
    expect(only(decodeValue(tweet, WITH_CASHTAGS)).topics).toEqual(['#tail', '$ibm']);
  });

  it('without entities, extracts from full_text (tweet_mode=extended) or text', () => {
    const base = { id_str: '1574186989737459712', created_at: 'Sun Dec 14 23:12:32 +0000 2014' };
    expect(
      only(decodeValue({ ...base, full_text: 'x #Full &amp; $GE', text: 'x #text' }, WITH_CASHTAGS)).topics,
    ).toEqual(['#full', '$ge']);
    expect(only(decodeValue({ ...base, text: 'it&#39;s #Text time' }, NO_CASHTAGS)).topics).toEqual([
      '#text',
    ]);
  });

  it('takes a safe-integer numeric id and user.id when there is no id_str', () => {
    const tweet = only(
      decodeValue(
        { id: 123456789, created_at: 'Sun Dec 14 23:12:32 +0000 2014', user: { id: 42 }, text: '#a' },
        NO_CASHTAGS,
      ),
    );
    expect(tweet).toEqual({ id: '123456789', timestampMs: V1_TIME, authorId: '42', topics: ['#a'] });
  });

  it('a numeric id beyond 2^53 without id_str is a wrong-type failure', () => {
    const f = failure(
      decodeLine(
        '{"id":544276351235264512,"created_at":"Sun Dec 14 23:12:32 +0000 2014","text":"x"}',
        NO_CASHTAGS,
      ),
    );
    expect(f.reason).toBe('wrong-type');
    expect(f.detail).toMatch(/^id: number .* beyond 2\^53/);
  });

  it('a user without a usable id gives no author', () => {
    expect(
      only(
        decodeValue(
          { id_str: '5', created_at: 'Sun Dec 14 23:12:32 +0000 2014', user: { id: 1.5 } },
          NO_CASHTAGS,
        ),
      ).authorId,
    ).toBeUndefined();
  });
});

describe('decodeLine: API v2', () => {
  it('decodes a bare tweet; topics normalised and de-duplicated', () => {
    expect(only(decodeLine(JSON.stringify(V2_TWEET), WITH_CASHTAGS))).toEqual({
      id: '1574186989737459712',
      timestampMs: V2_TIME,
      authorId: '2971653495',
      topics: ['#lega', '#maratonamentana', '$eni'],
    });
  });

  it('decodes a tweet in a {"data": {...}} envelope', () => {
    const line = JSON.stringify({ data: V2_TWEET, includes: { users: [{ id: '2971653495' }] } });
    expect(only(decodeLine(line, NO_CASHTAGS))).toEqual({
      id: '1574186989737459712',
      timestampMs: V2_TIME,
      authorId: '2971653495',
      topics: ['#lega', '#maratonamentana'],
    });
  });

  it('decodes every element of a page, not its includes.tweets', () => {
    const second = { ...V2_TWEET, id: '1574186977771098116', author_id: '9', entities: { mentions: [] } };
    const page = {
      data: [V2_TWEET, second],
      includes: { tweets: [{ ...V2_TWEET, id: '1574181351913316354' }], users: [] },
      meta: { result_count: 2 },
    };
    const result = decodeLine(JSON.stringify(page), NO_CASHTAGS);
    expect(result.failures).toEqual([]);
    expect(result.tweets.map((t) => t.id)).toEqual(['1574186989737459712', '1574186977771098116']);
    // The second tweet has entities but no hashtags in them: no topics, even though its text has some.
    expect(result.tweets[1].topics).toEqual([]);
  });

  it('an empty page decodes to nothing', () => {
    expect(decodeLine('{"data":[],"meta":{"result_count":0}}', NO_CASHTAGS)).toEqual({
      tweets: [],
      failures: [],
    });
  });

  it('a page with bad elements fails those alone', () => {
    const page = {
      data: [
        V2_TWEET,
        { ...V2_TWEET, id: { $numberLong: '1' } },
        7,
        { ...V2_TWEET, id: '25712847277', created_at: undefined },
        { ...V2_TWEET, id: '1574186977771098116' },
      ],
    };
    const result = decodeLine(JSON.stringify(page), NO_CASHTAGS);
    expect(result.tweets.map((t) => t.id)).toEqual(['1574186989737459712', '1574186977771098116']);
    expect(result.failures).toEqual([
      { reason: 'wrong-type', detail: 'data[1].id: expected a string of digits, got object' },
      { reason: 'not-a-tweet', detail: 'data[2]: expected a JSON object, got number 7' },
      { reason: 'no-time', detail: 'data[3].created_at: missing, and id 25712847277 is not a snowflake id' },
    ]);
  });

  it('decodes the flattened shape (author object) and falls back to author.id', () => {
    const flat = {
      id: '1380242611781386245',
      created_at: '2021-04-08T19:34:16.000Z',
      text: 'RT @x: #One #two',
      author: { id: '1352661060663336960', username: 'someone' },
      __twarc: { url: 'https://api.twitter.com/2/tweets/search/all', version: '2.0.0' },
    };
    expect(only(decodeValue(flat, NO_CASHTAGS))).toEqual({
      id: '1380242611781386245',
      timestampMs: Date.UTC(2021, 3, 8, 19, 34, 16),
      authorId: '1352661060663336960',
      topics: ['#one', '#two'],
    });
  });

  it('prefers note_tweet (long tweets) entities', () => {
    const tweet = {
      ...V2_TWEET,
      note_tweet: { text: 'long… #Lega #Extra', entities: { hashtags: [{ tag: 'Lega' }, { tag: 'Extra' }] } },
    };
    expect(only(decodeValue(tweet, NO_CASHTAGS)).topics).toEqual(['#lega', '#extra']);
  });

  it('without entities, extracts hashtags and cashtags from the text', () => {
    const tweet = {
      id: '1574186989737459712',
      created_at: '2022-09-25T23:59:59.000Z',
      text: '#A $MSFT https://x.com/#b #A ＃Ａ $msft',
    };
    expect(only(decodeValue(tweet, WITH_CASHTAGS)).topics).toEqual(['#a', '$msft']);
    expect(only(decodeValue(tweet, NO_CASHTAGS)).topics).toEqual(['#a']);
  });

  it('normalises entity tags with NFKC (full-width, combining marks)', () => {
    const tweet = {
      ...V2_TWEET,
      entities: {
        hashtags: [{ tag: 'ＴＲＥＮＤ' }, { tag: 'trend' }, { tag: 'Cafe\u0301' }, { tag: 'café' }],
      },
    };
    expect(only(decodeValue(tweet, NO_CASHTAGS)).topics).toEqual(['#trend', '#caf\u00e9']);
  });

  it('tolerates malformed entity lists and items', () => {
    const notAList = { ...V2_TWEET, entities: { hashtags: 'Lega', cashtags: { tag: 'ENI' } } };
    expect(only(decodeValue(notAList, WITH_CASHTAGS)).topics).toEqual([]);
    const badItems = {
      ...V2_TWEET,
      entities: {
        hashtags: [{ tag: 5 }, null, 'x', { tag: '' }, {}, { tag: 'Ok' }],
        cashtags: [{ tag: null }],
      },
    };
    expect(only(decodeValue(badItems, WITH_CASHTAGS)).topics).toEqual(['#ok']);
  });

  it('a text that is not a string is ignored', () => {
    const tweet = { id: '1574186989737459712', created_at: '2022-09-25T23:59:59.000Z', text: 42 };
    expect(only(decodeValue(tweet, WITH_CASHTAGS)).topics).toEqual([]);
  });

  it('an author_id that is not a string gives no author', () => {
    expect(only(decodeValue({ ...V2_TWEET, author_id: 2971653495 }, NO_CASHTAGS)).authorId).toBeUndefined();
    expect(only(decodeValue({ ...V2_TWEET, author_id: { id: '1' } }, NO_CASHTAGS)).authorId).toBeUndefined();
  });
});

describe('decodeLine: event time', () => {
  const id = '1574186989737459712';
  const fromId = tweetTimeFromId(id)!;

  it('ISO-8601 with Z, fractions, offsets', () => {
    const at = (created_at: string): number => only(decodeValue({ id, created_at }, NO_CASHTAGS)).timestampMs;
    expect(at('2022-09-25T23:59:59.000Z')).toBe(V2_TIME);
    expect(at('2022-09-25T23:59:59Z')).toBe(V2_TIME);
    expect(at('2022-09-25T23:59:59.123456Z')).toBe(V2_TIME + 123);
    expect(at('2022-09-25T23:59:59.5Z')).toBe(V2_TIME + 500);
    expect(at('2022-09-26T01:59:59+02:00')).toBe(V2_TIME);
    expect(at('2022-09-25T20:29:59-0330')).toBe(V2_TIME);
    expect(at('2022-09-25T23:59Z')).toBe(V2_TIME - 59_000);
    expect(at('2022-09-25')).toBe(Date.UTC(2022, 8, 25));
  });

  it('from the snowflake id when created_at is absent', () => {
    expect(only(decodeValue({ id, text: 'x' }, NO_CASHTAGS)).timestampMs).toBe(fromId);
    expect(only(decodeValue({ id, created_at: null }, NO_CASHTAGS)).timestampMs).toBe(fromId);
  });

  it('from the snowflake id when created_at is unparseable or of the wrong type', () => {
    for (const created_at of [
      'yesterday',
      '2022-13-01T00:00:00Z',
      '2022-02-30T00:00:00Z',
      '2022-09-25T23:59:59', // no zone: would depend on the machine's time zone
      'Sun Foo 14 23:12:32 +0000 2014',
      'Sun Dec 14 23:12:32 +0000 14',
      '',
      1664150399,
      { $date: '2022-09-25T23:59:59Z' },
    ]) {
      expect(only(decodeValue({ id, created_at }, NO_CASHTAGS)).timestampMs).toBe(fromId);
    }
  });

  it('no-time when neither created_at nor the id gives a time', () => {
    expect(failure(decodeValue({ id: '12345', text: 'x' }, NO_CASHTAGS))).toEqual({
      reason: 'no-time',
      detail: 'created_at: missing, and id 12345 is not a snowflake id',
    });
    expect(failure(decodeValue({ id: '12345', created_at: 'yesterday' }, NO_CASHTAGS))).toEqual({
      reason: 'no-time',
      detail: 'created_at: unparseable "yesterday", and id 12345 is not a snowflake id',
    });
  });

  it('wrong-type when created_at has the wrong type and the id gives no time', () => {
    expect(failure(decodeValue({ id: '12345', created_at: 1664150399 }, NO_CASHTAGS))).toEqual({
      reason: 'wrong-type',
      detail: 'created_at: expected a string, got number 1664150399, and id 12345 is not a snowflake id',
    });
  });
});

describe('decodeLine: bad records', () => {
  it('invalid-json carries the parser message', () => {
    const line = '{"id": "1", ';
    let message = '';
    try {
      JSON.parse(line);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    expect(failure(decodeLine(line, NO_CASHTAGS))).toEqual({ reason: 'invalid-json', detail: message });
    expect(failure(decodeLine('', NO_CASHTAGS)).reason).toBe('invalid-json');
  });

  it('not-a-tweet for non-objects and objects that are not tweets', () => {
    expect(failure(decodeLine('[1, 2]', NO_CASHTAGS))).toEqual({
      reason: 'not-a-tweet',
      detail: 'expected a JSON object, got array',
    });
    expect(failure(decodeLine('42', NO_CASHTAGS))).toEqual({
      reason: 'not-a-tweet',
      detail: 'expected a JSON object, got number 42',
    });
    expect(failure(decodeLine('null', NO_CASHTAGS)).reason).toBe('not-a-tweet');
    expect(failure(decodeLine('"#hello"', NO_CASHTAGS)).reason).toBe('not-a-tweet');
    // A v1.1 stream control message.
    expect(failure(decodeLine('{"delete":{"status":{"id_str":"1"}}}', NO_CASHTAGS))).toEqual({
      reason: 'not-a-tweet',
      detail: 'object has no id, id_str or data',
    });
  });

  it('no-id for tweet-like objects without an id', () => {
    expect(
      failure(decodeValue({ text: '#x', created_at: '2022-09-25T23:59:59.000Z' }, NO_CASHTAGS)).reason,
    ).toBe('no-id');
    expect(failure(decodeValue({ id: null, text: '#x' }, NO_CASHTAGS))).toEqual({
      reason: 'no-id',
      detail: 'id: missing (got null)',
    });
    expect(failure(decodeValue({ data: { text: 'x' } }, NO_CASHTAGS))).toEqual({
      reason: 'no-id',
      detail: 'data.id: missing (got nothing)',
    });
  });

  it('wrong-type for ids that are not strings of digits', () => {
    const cases: [unknown, string][] = [
      [{ n: 1 }, 'id: expected a string of digits, got object'],
      [true, 'id: expected a string of digits, got boolean'],
      ['abc', 'id: expected a string of digits, got "abc"'],
      ['', 'id: expected a string of digits, got ""'],
      ['-12', 'id: expected a string of digits, got "-12"'],
      [[1], 'id: expected a string of digits, got array'],
      [1.5, 'id: expected a string of digits, got number 1.5'],
      [-3, 'id: expected a string of digits, got number -3'],
    ];
    for (const [id, detail] of cases) {
      expect(failure(decodeValue({ id, created_at: '2022-09-25T23:59:59.000Z' }, NO_CASHTAGS))).toEqual({
        reason: 'wrong-type',
        detail,
      });
    }
    expect(failure(decodeValue({ id_str: 123, id: 123 }, NO_CASHTAGS))).toEqual({
      reason: 'wrong-type',
      detail: 'id_str: expected a string of digits, got number 123',
    });
  });

  it('long strings are shortened in details', () => {
    const f = failure(decodeValue({ id: 'x'.repeat(500) }, NO_CASHTAGS));
    expect(f.reason).toBe('wrong-type');
    expect(f.detail.length).toBeLessThan(100);
  });

  it('wrong-type for a data field that is neither an array nor an object', () => {
    expect(failure(decodeValue({ data: 'x' }, NO_CASHTAGS))).toEqual({
      reason: 'wrong-type',
      detail: 'data: expected an array or an object, got "x"',
    });
  });
});

// ---------------------------------------------------------------------------
// The real samples in test/fixtures/twitter-v2

interface RawTweet {
  id: string;
  created_at: string;
  author_id: string;
  text: string;
  entities?: { hashtags?: { tag: string }[]; cashtags?: { tag: string }[] };
}

function readLines(file: string): string[] {
  return fs
    .readFileSync(path.join(DATA_DIR, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** What the decoder must give for a raw v2 tweet, computed here independently. */
function expected(raw: RawTweet): Tweet {
  const topics: string[] = [];
  if (raw.entities) {
    for (const h of raw.entities.hashtags ?? []) topics.push('#' + h.tag.normalize('NFKC').toLowerCase());
    for (const c of raw.entities.cashtags ?? []) topics.push('$' + c.tag.normalize('NFKC').toLowerCase());
  } else {
    // Tweets without entities in these files have no hash or dollar sign at all.
    expect(raw.text).not.toMatch(/[#＃$]/);
  }
  return {
    id: raw.id,
    timestampMs: Date.parse(raw.created_at),
    authorId: raw.author_id,
    topics: [...new Set(topics)],
  };
}

describe.each(['entities_test.jsonl', 'kpop.jsonl', 'withheld.jsonl'])('real v2 pages: %s', (file) => {
  const lines = readLines(file);

  it('decodes every data element, exactly as the entities say, with no failures', () => {
    let count = 0;
    let withHashtags = 0;
    for (const line of lines) {
      const page = JSON.parse(line) as { data: RawTweet[]; includes?: { tweets?: RawTweet[] } };
      const result = decodeLine(line, WITH_CASHTAGS);
      expect(result.failures).toEqual([]);
      expect(result.tweets).toEqual(page.data.map(expected));
      count += page.data.length;
      withHashtags += result.tweets.filter((t) => t.topics.length > 0).length;
    }
    expect(count).toBeGreaterThan(0);
    expect(withHashtags).toBeGreaterThan(0);
  });

  it('does not decode includes.tweets', () => {
    for (const line of lines) {
      const page = JSON.parse(line) as { data: RawTweet[]; includes?: { tweets?: RawTweet[] } };
      const dataIds = new Set(page.data.map((t) => t.id));
      const decodedIds = new Set(decodeLine(line, NO_CASHTAGS).tweets.map((t) => t.id));
      expect(decodedIds).toEqual(dataIds);
    }
  });
});

describe('real v2 samples: specifics', () => {
  it('entities_test.jsonl holds 474 tweets, kpop.jsonl 100, withheld.jsonl 215', () => {
    const count = (file: string): number =>
      readLines(file).reduce((n, line) => n + decodeLine(line, NO_CASHTAGS).tweets.length, 0);
    expect(count('entities_test.jsonl')).toBe(474);
    expect(count('kpop.jsonl')).toBe(100);
    expect(count('withheld.jsonl')).toBe(215);
  });

  it('a 2010 tweet with a pre-snowflake id takes its time from created_at', () => {
    const tweets = readLines('withheld.jsonl').flatMap((line) => decodeLine(line, NO_CASHTAGS).tweets);
    const old = tweets.find((t) => t.id === '25712847277');
    expect(tweetTimeFromId('25712847277')).toBeUndefined();
    expect(old).toEqual({
      id: '25712847277',
      timestampMs: Date.UTC(2010, 8, 27, 19, 6, 5),
      authorId: '17995040',
      topics: ['#settlementsrock'],
    });
  });

  it('snowflake times agree with created_at to the second', () => {
    const line = readLines('kpop.jsonl')[0];
    const page = JSON.parse(line) as { data: RawTweet[] };
    for (const raw of page.data) {
      const t = tweetTimeFromId(raw.id)!;
      expect(Math.floor(t / 1000) * 1000).toBe(Date.parse(raw.created_at));
    }
  });

  it('a real page with one corrupted element still yields the others', () => {
    const page = JSON.parse(readLines('kpop.jsonl')[0]) as { data: Record<string, unknown>[] };
    page.data[5].id = { oops: true };
    const result = decodeValue(page, NO_CASHTAGS);
    expect(result.tweets).toHaveLength(page.data.length - 1);
    expect(result.failures).toEqual([
      { reason: 'wrong-type', detail: 'data[5].id: expected a string of digits, got object' },
    ]);
  });
});

describe('real flattened tweets: flat.jsonl', () => {
  const lines = readLines('flat.jsonl');

  it('decodes one tweet per line, exactly as the entities say, with no failures', () => {
    expect(lines.length).toBe(100);
    for (const line of lines) {
      const raw = JSON.parse(line) as RawTweet & { author: { id: string } };
      expect(raw.author.id).toBe(raw.author_id);
      const result = decodeLine(line, WITH_CASHTAGS);
      expect(result.failures).toEqual([]);
      expect(result.tweets).toEqual([expected(raw)]);
    }
  });

  it('the first line', () => {
    expect(only(decodeLine(lines[0], NO_CASHTAGS))).toEqual({
      id: '1380242611781386245',
      timestampMs: Date.UTC(2021, 3, 8, 19, 34, 16),
      authorId: '1352661060663336960',
      topics: [],
    });
  });
});
