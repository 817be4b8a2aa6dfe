/**
 * The decoder's fast path (tweet-scanner.ts) against the full path
 * (JSON.parse + decodeValue), differentially: on real tweets, on generator
 * output, on hand-written odd lines and on mutated lines, decodeLine (fast
 * path first) must give exactly what decodeLineByParse gives, failures and
 * their messages included. Each group also checks that the fast path really
 * took the lines it should, so that agreement is not just the fallback
 * agreeing with itself.
 */
import * as fs from 'fs';
import * as path from 'path';

import { defaultGeneratorOptions, TweetGenerator } from '../../src/connectors/generator/tweet-generator';
import { Xoshiro128 } from '../../src/connectors/generator/random';
import { decodeLine, decodeLineByParse } from '../../src/jobs/trending/tweet-decoder';
import { scanTweet, scanTweetIn } from '../../src/jobs/trending/tweet-scanner';
import { scanTweetBytes } from '../../src/jobs/trending/tweet-byte-scanner';
import type { DecodeOptions } from '../../src/jobs/trending/tweet';
import { toV1Line, v2TweetsOfLine } from '../support/v2-to-v1';

const DATA_DIR = path.resolve(__dirname, '../fixtures/twitter-v2');
const OPTIONS: DecodeOptions[] = [{ cashtags: false }, { cashtags: true }];

/**
 * Compares both paths on every line under both option sets; returns the
 * first few disagreements (asserted empty by the caller) and how many lines
 * the fast path decoded by itself.
 */
function compare(lines: readonly string[]): { problems: string[]; fast: number } {
  const problems: string[] = [];
  let fast = 0;
  for (const options of OPTIONS) {
    for (const line of lines) {
      if (scanTweet(line, options) !== undefined) fast++;
      const bytes = byteDisagreement(Buffer.from(line, 'utf8'), options);
      if (bytes !== undefined && problems.length < 5) problems.push(bytes);
      const expected = decodeLineByParse(line, options);
      const actual = decodeLine(line, options);
      if (problems.length < 5 && JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(
          `${JSON.stringify(line).slice(0, 300)} (cashtags ${options.cashtags}):\n` +
            `  fast: ${JSON.stringify(actual)}\n  full: ${JSON.stringify(expected)}`,
        );
      }
    }
  }
  return { problems, fast: fast / OPTIONS.length };
}

/** Bytes around the line under test, so the byte scanner is seen to read only its range. */
const BEFORE = Buffer.from('{"id":"1","created_at":"2022-01-01T00:00:00.000Z"}\n');
const AFTER = Buffer.from('"}\n{"id":"2"}');

/**
 * The byte scanner (tweet-byte-scanner.ts) on a line's bytes must give what
 * the string scanner gives on the string a source makes of them: both
 * undefined, or the same id, author, time and topics. A description of the
 * difference, or undefined.
 */
function byteDisagreement(bytes: Buffer, options: DecodeOptions): string | undefined {
  const line = bytes.toString('utf8');
  const s = scanTweetIn(line, options);
  const expected =
    s === undefined
      ? undefined
      : [
          line.slice(s.idStart, s.idEnd),
          s.authorStart === -1 ? undefined : line.slice(s.authorStart, s.authorEnd),
          s.timestampMs,
          [...s.topics],
        ];
  const padded = Buffer.concat([BEFORE, bytes, AFTER]);
  const b = scanTweetBytes(padded, BEFORE.length, BEFORE.length + bytes.length, options);
  const actual =
    b === undefined
      ? undefined
      : [
          padded.toString('utf8', b.idStart, b.idEnd),
          b.authorStart === -1 ? undefined : padded.toString('utf8', b.authorStart, b.authorEnd),
          b.timestampMs,
          [...b.topics],
        ];
  if (JSON.stringify(actual) === JSON.stringify(expected)) return undefined;
  return (
    `bytes ${JSON.stringify(bytes.toString('latin1')).slice(0, 300)} (cashtags ${options.cashtags}):\n` +
    `  bytes: ${JSON.stringify(actual)}\n  string: ${JSON.stringify(expected)}`
  );
}

function fixtureLines(file: string): string[] {
  return fs
    .readFileSync(path.join(DATA_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** Every real tweet of the fixtures as a line of its own: v2 as it is, and re-shaped as v1.1. */
function realTweetLines(): { v2: string[]; v1: string[] } {
  const v2: string[] = [];
  const v1: string[] = [];
  for (const file of ['entities_test.jsonl', 'kpop.jsonl', 'withheld.jsonl', 'flat.jsonl']) {
    for (const line of fixtureLines(file)) {
      for (const t of v2TweetsOfLine(line)) {
        v2.push(JSON.stringify(t));
        v1.push(toV1Line(t));
      }
    }
  }
  return { v2, v1 };
}

function generated(seed: number, count: number, v1Share: number): string[] {
  const gen = new TweetGenerator({
    ...defaultGeneratorOptions,
    seed,
    splitIndex: 0,
    splitCount: 1,
    startMs: Date.parse('2022-09-25T00:00:00Z'),
    eventsPerSecond: 1000,
    v1Share,
  });
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(gen.nextLine());
  return out;
}

describe('fast path agrees with the full path', () => {
  it('on the real fixture lines (pages go to the full path, flattened tweets take the fast path)', () => {
    const lines = ['entities_test.jsonl', 'kpop.jsonl', 'withheld.jsonl', 'flat.jsonl'].flatMap(fixtureLines);
    const { problems, fast } = compare(lines);
    expect(problems).toEqual([]);
    expect(fast).toBe(100); // the 100 lines of flat.jsonl
  });

  it('on every real tweet as a bare v2 line and as a v1.1 line', () => {
    const { v2, v1 } = realTweetLines();
    expect(v2.length).toBeGreaterThan(800);
    for (const lines of [v2, v1]) {
      const { problems, fast } = compare(lines);
      expect(problems).toEqual([]);
      expect(fast).toBeGreaterThan(lines.length * 0.9);
    }
  });

  it.each([
    [1, 0.1],
    [2, 0],
    [3, 1],
    [4, 0.5],
  ])('on generator output, seed %d, v1.1 share %d', (seed, v1Share) => {
    const lines = generated(seed, 20_000, v1Share);
    const { problems, fast } = compare(lines);
    expect(problems).toEqual([]);
    expect(fast).toBe(lines.length);
  });
});

const V2 =
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","author_id":"2971653495",' +
  '"text":"x #Lega y","entities":{"hashtags":[{"start":2,"end":7,"tag":"Lega"}],"cashtags":[{"start":0,"end":1,"tag":"ENI"}]}}';
const V1 =
  '{"created_at":"Sun Dec 14 23:12:32 +0000 2014","id":544276351235264512,"id_str":"544276351235264512",' +
  '"text":"#Stocks $AAPL","user":{"id":2244994945,"id_str":"2244994945"},' +
  '"entities":{"hashtags":[{"text":"Stocks","indices":[0,7]}],"symbols":[{"text":"AAPL","indices":[8,13]}]}}';

/** Hand-written lines: each either takes the fast path or must fall back; both must agree with the full path. */
const FAST_LINES = [
  V2,
  V1,
  // Keys in other orders, whitespace everywhere JSON allows it.
  ' { "entities" : { "hashtags" : [ { "tag" : "A" } , { "tag" : "b" } ] } , "author_id" : "7" , "created_at" : "2022-09-25T23:59:59Z" , "id" : "1574186989737459712" } ',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59+02:00","text":"no author"}',
  // Escapes and unicode in text, tags and other strings.
  '{"id":"1574186989737459712","created_at":"2022-09-25","text":"a\\n#Tag\\u00e9 \\"#q\\" \\ud83d\\ude00#emoji \\\\#no","lang":"\\u0065n"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00Z","text":"#ＣＡＦＥ #Café #café #İstanbul"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00:00.5Z","entities":{"hashtags":[{"tag":"\\u0043af\\u00e9"},{"tag":"ＣＡＦＥ"},{"tag":""},{"tag":5,"text":"Fallback"},{"text":"Only"},"str",[1],null]}}',
  // Topics from the text: signs only escaped, fullwidth, a cashtag alone, or none at all (not decoded then).
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00Z","text":"only \\u0023escaped and \\u0024ESC"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00Z","text":"wide ＃Ｔａｇ here"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00Z","text":"just $AAPL, ＄ＭＳＦＴ and ﹟small"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T10:00Z","text":"no sign at all, über ⚽ ＃"}',
  // Nested "text", "id", "user" and "entities" keys inside other objects must not be taken for the tweet's.
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","author_id":"1","referenced_tweets":[{"id":"1","text":"#Nested","entities":{"hashtags":[{"tag":"Nested"}]}}],"includes":{"users":[{"id":"2","user":{"id_str":"3"}}]},"text":"#Outer"}',
  // Entities without hashtags: topics come from entities (none), not the text.
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"#NotCounted","entities":{"mentions":[]}}',
  // v1.1 with full_text and cashtags in the other list.
  '{"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 -0130 2014","full_text":"#Full $X","text":"#Short","user":{"id_str":"5"}}',
  '{"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 +0000 2014","user":{"id_str":"5"},"entities":{"cashtags":[{"tag":"Y"}]}}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","entities":{"symbols":[{"text":"Z"}],"hashtags":[]}}',
  // Numbers and literals of every shape.
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":[0,-0,1.5,-2e10,3E+2,4.25e-3,true,false,null,{},[]]}',
  // A v1.1 id_str with a numeric id beside it.
  '{"id":1,"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 +0000 2014","user":{"id_str":"5","id":5}}',
];

const FALLBACK_LINES = [
  // Not valid JSON.
  '',
  '{',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z"',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z"}x',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z",}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":01}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":1.}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":.5}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":-}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":1e}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":tru}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":[1,]}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":"\\x"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","n":"\\u12g4"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"tab\there"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"#a"\t}',
  "{'id':'1574186989737459712'}",
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"unterminated}',
  '{"id":"1574186989737459712" "created_at":"2022-09-25T23:59:59.000Z"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"#a"}{"id":"1"}',
  // Valid JSON the fast path leaves to the full path.
  '[]',
  '"tweet"',
  '{}',
  '{"data":{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z"}}',
  '{"data":[{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z"},{"id":"x"}],"includes":{}}',
  // Duplicate keys: JSON.parse keeps the last.
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":"#first","text":"#second"}',
  '{"id":"1574186989737459712","id":"1574186989737459713","created_at":"2022-09-25T23:59:59.000Z"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","entities":{"hashtags":[{"tag":"A","tag":"B"}]}}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","entities":{"hashtags":[{"tag":"A"}],"hashtags":[{"tag":"B"}]}}',
  '{"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 +0000 2014","user":{"id_str":"5","id_str":"6"}}',
  // Escaped keys could spell a key that matters.
  '{"\\u0069d":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","te\\u0078t":"#esc"}',
  // Failures and rarer branches.
  '{"id":"x1","created_at":"2022-09-25T23:59:59.000Z"}',
  '{"id":null,"created_at":"2022-09-25T23:59:59.000Z"}',
  '{"id":1574186989737459712,"created_at":"Sun Dec 14 23:12:32 +0000 2014"}',
  '{"id":12345,"created_at":"Sun Dec 14 23:12:32 +0000 2014","user":{"id":7}}',
  '{"id":"1574186989737459712"}',
  '{"id":"1574186989737459712","created_at":"yesterday"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59"}',
  '{"id":"1574186989737459712","created_at":"2022-02-30T23:59:59Z"}',
  '{"id":"1574186989737459712","created_at":1664150399000}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","author":{"id":"9"}}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","author_id":"x","author":{"id":"9"}}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","note_tweet":{"text":"#long"},"text":"#short"}',
  '{"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 +0000 2014","extended_tweet":{"full_text":"#long"}}',
  '{"id_str":"544276351235264512","created_at":"Sun Dec 14 23:12:32 +0000 2014","user":null}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","entities":null,"text":"#t"}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","text":null}',
  '{"id":"1574186989737459712","created_at":"2022-09-25T23:59:59.000Z","d":' +
    '['.repeat(100) +
    ']'.repeat(100) +
    '}',
];

describe('fast path on hand-written lines', () => {
  it('takes the ordinary ones, and agrees with the full path', () => {
    for (const line of FAST_LINES) expect([line, scanTweet(line, OPTIONS[1])]).not.toEqual([line, undefined]);
    for (const line of FAST_LINES) expect(byteDisagreement(Buffer.from(line), OPTIONS[1])).toBeUndefined();
    expect(compare(FAST_LINES).problems).toEqual([]);
  });

  it('leaves invalid JSON and unusual lines to the full path, which decides as before', () => {
    for (const line of FALLBACK_LINES) expect([line, scanTweet(line, OPTIONS[1])]).toEqual([line, undefined]);
    for (const line of FALLBACK_LINES)
      expect(byteDisagreement(Buffer.from(line), OPTIONS[1])).toBeUndefined();
    expect(compare(FALLBACK_LINES).problems).toEqual([]);
  });
});

/** JSON-significant characters and a few others, for mutations. */
const MUTATION_CHARS = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  ' ',
  '0',
  '-',
  'e',
  '.',
  'u',
  'n',
  '#',
  '\t',
  'é',
];

describe('fast path on mutated lines', () => {
  it('agrees with the full path after random deletions, insertions, truncations and duplications', () => {
    const rnd = new Xoshiro128(7);
    const below = (n: number): number => Math.floor(rnd.next() * n);
    const base = [...generated(11, 300, 0.3), V1, V2, ...FAST_LINES];
    const mutated: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (const line of base) {
        const at = below(line.length);
        switch (below(4)) {
          case 0:
            mutated.push(line.slice(0, at) + line.slice(at + 1));
            break;
          case 1:
            mutated.push(line.slice(0, at) + MUTATION_CHARS[below(MUTATION_CHARS.length)] + line.slice(at));
            break;
          case 2:
            mutated.push(line.slice(0, at));
            break;
          default: {
            // Repeat a stretch: duplicates keys and values now and then.
            const len = 1 + below(40);
            mutated.push(line.slice(0, at + len) + line.slice(at, line.length));
          }
        }
      }
    }
    const { problems, fast } = compare(mutated);
    expect(problems).toEqual([]);
    // Many mutations (inside text, say) leave an ordinary tweet: the fast path must still take those.
    expect(fast).toBeGreaterThan(mutated.length * 0.1);
  });
});

describe('byte scanner on mutated bytes', () => {
  it('agrees with the string scanner on the decoded line after random byte edits (control bytes, invalid UTF-8)', () => {
    const rnd = new Xoshiro128(13);
    const below = (n: number): number => Math.floor(rnd.next() * n);
    // Bytes that matter to a JSON scan, control bytes, and UTF-8 lead, continuation and invalid bytes.
    const special = [
      0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x30,
    ];
    special.push(0x75, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0xf0, 0x9f, 0xfe, 0xff, 0xef, 0xbb);
    const base = [...generated(17, 300, 0.3), ...FAST_LINES].map((l) => Buffer.from(l, 'utf8'));
    const problems: string[] = [];
    let fast = 0;
    let total = 0;
    for (let round = 0; round < 20; round++) {
      for (const line of base) {
        const at = below(line.length);
        const byte = special[below(special.length)];
        let edited: Buffer;
        switch (below(3)) {
          case 0:
            edited = Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]);
            break;
          case 1:
            edited = Buffer.concat([line.subarray(0, at), Buffer.from([byte]), line.subarray(at)]);
            break;
          default:
            edited = Buffer.from(line);
            edited[at] = byte;
        }
        for (const options of OPTIONS) {
          total++;
          const problem = byteDisagreement(edited, options);
          if (problem !== undefined && problems.length < 5) problems.push(problem);
          if (scanTweetBytes(edited, 0, edited.length, options) !== undefined) fast++;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(fast).toBeGreaterThan(total * 0.1);
  });
});

/** The usual shapes the byte scanner compares in place (its fast path), with every kind of entity item. */
const USUAL_V2 =
  '{"id":"1477067041797046273","created_at":"2021-12-31T23:59:57.723Z","author_id":"550441653777592880",' +
  '"text":"win #Science \\u00e9 über #NodeJS","lang":"en","entities":{"hashtags":[{"start":4,"end":12,"tag":"Science"},' +
  '{"start":23,"end":30,"tag":"NodeJS"}],"mentions":[{"start":0,"end":11,"username":"galjo_1tzq","id":"5504"}],' +
  '"cashtags":[{"start":1,"end":3,"tag":"AB"}]}}';
const USUAL_V1 =
  '{"created_at":"Fri Dec 31 23:59:58 +0000 2021","id":1477067041797046282,"id_str":"1477067041797046282",' +
  '"text":"yes #Football $X","user":{"id":1204154723,"id_str":"1204154723","screen_name":"vexri_4r6b"},' +
  '"entities":{"hashtags":[{"text":"Football","indices":[4,13]}],"symbols":[{"text":"X","indices":[14,16]}],' +
  '"urls":[],"user_mentions":[]},"lang":"en"}';

describe('byte scanner on the usual shapes, deviating anywhere', () => {
  /** Every line whose bytes the scanners disagree on, under both option sets (at most five). */
  function disagreements(lines: readonly Buffer[]): string[] {
    const problems: string[] = [];
    for (const line of lines) {
      for (const options of OPTIONS) {
        const problem = byteDisagreement(line, options);
        if (problem !== undefined && problems.length < 5) problems.push(problem);
      }
    }
    return problems;
  }

  it('takes the usual lines', () => {
    for (const line of [USUAL_V2, USUAL_V1]) {
      expect(scanTweetBytes(Buffer.from(line), 0, Buffer.byteLength(line), OPTIONS[1])).toBeDefined();
    }
    expect(disagreements([USUAL_V2, USUAL_V1].map((l) => Buffer.from(l)))).toEqual([]);
  });

  it('agrees with the string scanner after any one byte is deleted, doubled or replaced, and on every truncation', () => {
    // Bytes that end or break a key, value or string, digits and letters for ids and keys, and non-ASCII.
    const replacements = [
      0x22, 0x5c, 0x20, 0x09, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x30, 0x2d, 0x61, 0x78, 0xc3,
    ];
    for (const line of [USUAL_V2, USUAL_V1].map((l) => Buffer.from(l))) {
      const edited: Buffer[] = [];
      for (let at = 0; at < line.length; at++) {
        edited.push(Buffer.concat([line.subarray(0, at), line.subarray(at + 1)]));
        edited.push(Buffer.concat([line.subarray(0, at + 1), line.subarray(at)]));
        edited.push(line.subarray(0, at));
        for (const byte of replacements) {
          const copy = Buffer.from(line);
          copy[at] = byte;
          edited.push(copy);
        }
      }
      expect(disagreements(edited)).toEqual([]);
    }
  });

  it('agrees on reordered, missing, repeated and respelled members', () => {
    const v2Members = [
      '"id":"1477067041797046273"',
      '"created_at":"2021-12-31T23:59:57.723Z"',
      '"author_id":"550441653777592880"',
      '"text":"win #Science"',
      '"lang":"en"',
      '"entities":{"hashtags":[{"start":4,"end":12,"tag":"Science"}]}',
    ];
    const lines: string[] = [];
    for (let k = 0; k < v2Members.length; k++) {
      const others = v2Members.filter((_, j) => j !== k);
      lines.push(`{${others.join(',')}}`); // one missing
      lines.push(`{${[...others, v2Members[k]].join(',')}}`); // one moved to the end
      lines.push(`{${[...v2Members, v2Members[k]].join(',')}}`); // one repeated
      lines.push(`{${[...v2Members.slice(0, k + 1), v2Members[k]].join(',')}}`); // one repeated at once
      lines.push(`{${v2Members.map((m, j) => (j === k ? m.replace(':', ' : ') : m)).join(',')}}`);
      lines.push(`{${v2Members.map((m, j) => (j === k ? m.replace('"', '"\\u0061') : m)).join(',')}}`);
    }
    lines.push(
      // The id as a number, and the v1.1 shape with a string id or without id_str.
      USUAL_V2.replace('"id":"1477067041797046273"', '"id":1477067041797046273'),
      USUAL_V1.replace('"id":1477067041797046282', '"id":"1477067041797046282"'),
      USUAL_V1.replace(',"id_str":"1477067041797046282"', ''),
      // Values the usual keys must not take as they are.
      USUAL_V2.replace('"1477067041797046273"', '"14770670417970462\\u0037"'),
      USUAL_V2.replace('"550441653777592880"', '"55044165377759288x"'),
      USUAL_V2.replace('"2021-12-31T23:59:57.723Z"', '"2021-12-31T23:59:57Z"'),
      USUAL_V2.replace('"2021-12-31T23:59:57.723Z"', '"2021-12-31T23:59:5\\u0037.723Z"'),
      USUAL_V1.replace('+0000 2021', '+00\u00e9 2021'),
      USUAL_V1.replace('+0000 2021', '+00\u00e90 2021'),
      USUAL_V1.replace('+0000 2021', '+00x0 2021'),
      // Entity items in other shapes, and the usual ones repeated.
      USUAL_V2.replace(
        '{"start":4,"end":12,"tag":"Science"}',
        '{"start":4,"end":12,"tag":"Science","tag":"X"}',
      ),
      USUAL_V2.replace('{"start":4,"end":12,"tag":"Science"}', '{"end":12,"start":4,"tag":"Science"}'),
      USUAL_V2.replace(
        '{"start":4,"end":12,"tag":"Science"}',
        '{"start":4.5e1,"end":-12,"tag":"Sci\\"ence"}',
      ),
      USUAL_V2.replace('{"start":4,"end":12,"tag":"Science"}', '{"start":"4","end":12,"tag":"Science"}'),
      USUAL_V2.replace('{"start":4,"end":12,"tag":"Science"}', '{"start":4,"end":12,"tag":null}'),
      USUAL_V2.replace('{"start":4,"end":12,"tag":"Science"}', '{"start":4,"end":12,"tag":"Science" }'),
      USUAL_V1.replace('{"text":"Football","indices":[4,13]}', '{"text":"Football","indices":[4,13,5]}'),
      USUAL_V1.replace(
        '{"text":"Football","indices":[4,13]}',
        '{"text":"Football","indices":[4,13],"text":"Y"}',
      ),
      USUAL_V1.replace('{"text":"Football","indices":[4,13]}', '{"text":"Football","indices":[4]}'),
      USUAL_V1.replace('{"text":"Football","indices":[4,13]}', '{"text":"Football","indices":[4,13] }'),
      USUAL_V2.replace('"entities":{', '"entities":{"hashtags":[],'),
      USUAL_V1.replace('"user":{', '"user":{"id_str":"7",'),
    );
    const problems = disagreements(lines.map((l) => Buffer.from(l)));
    expect(problems).toEqual([]);
    expect(compare(lines).problems).toEqual([]);
  });
});
