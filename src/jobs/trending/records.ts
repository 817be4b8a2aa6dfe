import fastJson from 'fast-json-stringify';

/** Output records of the trending job, and their one encoding (fast-json-stringify). */
export interface CountsRecord {
  window_start: string;
  window_end: string;
  topic: string;
  count: number;
  distinct_authors: number;
}

export interface TrendsRecord extends CountsRecord {
  rank: number;
  score: number;
}

export interface DeadLetterRecord {
  reason: string;
  detail: string;
  /** Split the record came from. */
  source: string;
  /** The record as read, truncated to RAW_LIMIT characters. */
  raw: string;
  raw_length: number;
}

export const RAW_LIMIT = 1024;

const countsProps = {
  window_start: { type: 'string' },
  window_end: { type: 'string' },
  topic: { type: 'string' },
  count: { type: 'integer' },
  distinct_authors: { type: 'integer' },
} as const;

export const stringifyCounts = fastJson({
  type: 'object',
  properties: countsProps,
  required: Object.keys(countsProps),
});

export const stringifyTrends = fastJson({
  type: 'object',
  properties: { ...countsProps, rank: { type: 'integer' }, score: { type: 'number' } },
  required: [...Object.keys(countsProps), 'rank', 'score'],
});

export const stringifyDeadLetter = fastJson({
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

/** ISO-8601 UTC with milliseconds, e.g. 2014-12-14T23:12:00.000Z. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `rawLength`: the record's full length when `raw` is already only a prefix of it. */
export function deadLetter(
  reason: string,
  detail: string,
  source: string,
  raw: string,
  rawLength = raw.length,
): DeadLetterRecord {
  return {
    reason,
    detail,
    source,
    raw: raw.length > RAW_LIMIT ? raw.slice(0, RAW_LIMIT) : raw,
    raw_length: rawLength,
  };
}
