/** Output records of the trending job, and their one encoding. */
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

/*
 * The three encoders are written out by hand rather than compiled from JSON
 * schemas by fast-json-stringify: loading it (ajv and the schema compiler)
 * cost ~120 ms of CPU in every thread that writes records, a worker included,
 * which was ~7% of the CPU a 1M-tweet run takes at parallelism 2. Their output
 * is the same, byte for byte: test/unit/records.test.ts holds them to
 * fast-json-stringify with the schemas these records had.
 */

/** A JSON string as fast-json-stringify writes one (its asString escapes exactly as JSON.stringify does). */
function str(s: string): string {
  // A missing field would otherwise print as `undefined`; fast-json-stringify throws for a required one.
  if (typeof s !== 'string') throw new Error(`expected a string, got ${typeof s}`);
  return JSON.stringify(s);
}

/** As fast-json-stringify's asInteger (rounding 'trunc'). */
function integer(n: number): string {
  if (Number.isInteger(n)) return '' + n;
  const t = Math.trunc(n);
  if (!Number.isFinite(t)) throw new Error(`The value "${n}" cannot be converted to an integer.`);
  return '' + t;
}

/** As fast-json-stringify's asNumber: infinities become null. */
function num(n: number): string {
  if (Number.isNaN(n)) throw new Error(`The value "${n}" cannot be converted to a number.`);
  return n === Infinity || n === -Infinity ? 'null' : '' + n;
}

function countsFields(r: CountsRecord): string {
  return countsPrefix(r.window_start, r.window_end) + topicFields(r.topic, r.count, r.distinct_authors);
}

function topicFields(topic: string, count: number, distinctAuthors: number): string {
  return str(topic) + ',"count":' + integer(count) + ',"distinct_authors":' + integer(distinctAuthors);
}

export function stringifyCounts(r: CountsRecord): string {
  return countsFields(r) + '}';
}

/**
 * A counts line in two parts: the window's part, the same for all its
 * topics (countsPrefix, computed once per window), then the topic's
 * (countsLine). The result is stringifyCounts's, byte for byte.
 */
export function countsPrefix(windowStart: string, windowEnd: string): string {
  return '{"window_start":' + str(windowStart) + ',"window_end":' + str(windowEnd) + ',"topic":';
}

export function countsLine(prefix: string, topic: string, count: number, distinctAuthors: number): string {
  return prefix + topicFields(topic, count, distinctAuthors) + '}';
}

export function stringifyTrends(r: TrendsRecord): string {
  return countsFields(r) + ',"rank":' + integer(r.rank) + ',"score":' + num(r.score) + '}';
}

export function stringifyDeadLetter(r: DeadLetterRecord): string {
  return (
    '{"reason":' +
    str(r.reason) +
    ',"detail":' +
    str(r.detail) +
    ',"source":' +
    str(r.source) +
    ',"raw":' +
    str(r.raw) +
    ',"raw_length":' +
    integer(r.raw_length) +
    '}'
  );
}

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
