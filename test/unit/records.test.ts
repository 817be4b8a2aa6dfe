import fastJson from 'fast-json-stringify';
import {
  countsLine,
  countsPrefix,
  stringifyCounts,
  stringifyDeadLetter,
  stringifyTrends,
  type CountsRecord,
  type DeadLetterRecord,
  type TrendsRecord,
} from '../../src/jobs/trending/records';
import { mulberry32 } from '../support/prng';

// The schemas the records were encoded with before the encoders were written by hand.
const countsProps = {
  window_start: { type: 'string' },
  window_end: { type: 'string' },
  topic: { type: 'string' },
  count: { type: 'integer' },
  distinct_authors: { type: 'integer' },
} as const;
const referenceCounts = fastJson({
  type: 'object',
  properties: countsProps,
  required: Object.keys(countsProps),
});
const referenceTrends = fastJson({
  type: 'object',
  properties: { ...countsProps, rank: { type: 'integer' }, score: { type: 'number' } },
  required: [...Object.keys(countsProps), 'rank', 'score'],
});
const referenceDeadLetter = fastJson({
  type: 'object',
  properties: {
    reason: { type: 'string' },
    detail: { type: 'string' },
    source: { type: 'string' },
    raw: { type: 'string' },
    raw_length: { type: 'integer' },
  },
  required: ['reason', 'detail', 'source', 'raw', 'raw_length'],
});

const random = mulberry32(7);

/** Strings that exercise every escaping rule: quotes, backslashes, controls, surrogates (paired and lone), long ones. */
function randomString(): string {
  const pool = [
    'a',
    'Z',
    '#',
    '"',
    '\\',
    '\n',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '€',
    '\ud83d\ude80',
    '\ud800',
    '\udfff',
    '/',
  ];
  const length = random() < 0.1 ? 40 + Math.floor(random() * 6000) : Math.floor(random() * 45);
  let s = '';
  for (let i = 0; i < length; i++) s += random() < 0.7 ? 'x' : pool[Math.floor(random() * pool.length)];
  return s;
}

function randomNumber(): number {
  const r = random();
  if (r < 0.5) return Math.floor(random() * 1e6);
  if (r < 0.6) return -Math.floor(random() * 1e6);
  if (r < 0.7) return random() * 1e3;
  if (r < 0.8) return 1e21 * (1 + random());
  if (r < 0.9) return -0;
  return Number.MAX_SAFE_INTEGER;
}

function randomCounts(): CountsRecord {
  return {
    window_start: randomString(),
    window_end: randomString(),
    topic: randomString(),
    count: randomNumber(),
    distinct_authors: randomNumber(),
  };
}

describe('record encoders: the same bytes as fast-json-stringify with the records schemas', () => {
  it('counts', () => {
    for (let i = 0; i < 3000; i++) {
      const r = randomCounts();
      expect(stringifyCounts(r)).toBe(referenceCounts(r));
    }
  });

  it('counts in two parts: a window prefix, then the topic', () => {
    for (let i = 0; i < 3000; i++) {
      const r = randomCounts();
      const prefix = countsPrefix(r.window_start, r.window_end);
      expect(countsLine(prefix, r.topic, r.count, r.distinct_authors)).toBe(referenceCounts(r));
    }
  });

  it('trends, infinite scores included', () => {
    const scores = [0, 1.5, -2.25, 1e-7, 1e300, Infinity, -Infinity];
    for (let i = 0; i < 3000; i++) {
      const r: TrendsRecord = {
        ...randomCounts(),
        rank: randomNumber(),
        score: i % 3 === 0 ? scores[i % scores.length] : random() * 100,
      };
      expect(stringifyTrends(r)).toBe(referenceTrends(r));
    }
  });

  it('dead letters', () => {
    for (let i = 0; i < 3000; i++) {
      const r: DeadLetterRecord = {
        reason: randomString(),
        detail: randomString(),
        source: randomString(),
        raw: randomString(),
        raw_length: randomNumber(),
      };
      expect(stringifyDeadLetter(r)).toBe(referenceDeadLetter(r));
    }
  });

  it('refuses what the reference refuses: NaN numbers and missing fields', () => {
    const r = randomCounts();
    expect(() => referenceCounts({ ...r, count: NaN })).toThrow();
    expect(() => stringifyCounts({ ...r, count: NaN })).toThrow();
    expect(() => referenceTrends({ ...r, rank: 1, score: NaN })).toThrow();
    expect(() => stringifyTrends({ ...r, rank: 1, score: NaN })).toThrow();
    const missing = { ...r, topic: undefined } as unknown as CountsRecord;
    expect(() => referenceCounts(missing)).toThrow();
    expect(() => stringifyCounts(missing)).toThrow();
  });
});
