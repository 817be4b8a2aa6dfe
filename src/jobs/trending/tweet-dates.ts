/**
 * Parsing of a tweet's `created_at`, by hand: Date.parse guesses at anything
 * it is given, and the decoder's fast path parses the date where it sits in
 * the input line, without cutting it out first.
 *
 * Every parser reads only the characters [from, to) of `s`, so a date
 * parsed in place gives exactly what the same characters cut out would.
 */

const MS_PER_DAY = 86_400_000;

/**
 * Parses v1.1's "Sun Dec 14 23:12:32 +0000 2014" or ISO-8601
 * ("2022-09-25T23:59:59.000Z") into ms since the epoch. Undefined when it is
 * neither.
 */
export function parseCreatedAt(s: string): number | undefined {
  return parseCreatedAtIn(s, 0, s.length);
}

/** parseCreatedAt of the characters [from, to) of `s`, which it never reads past. */
export function parseCreatedAtIn(s: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  const c = s.charCodeAt(from);
  return c >= 0x30 && c <= 0x39 ? parseIsoDate(s, from, to) : parseTwitterDate(s, from, to);
}

/**
 * parseCreatedAtIn of the date whose UTF-8 bytes are bytes[from, to) (the
 * byte scanner's, between ASCII quotes, so that they decode to what the
 * decoded line holds there): the common ISO and v1.1 forms straight from the
 * bytes, anything else decoded and through the string parsers.
 */
export function parseCreatedAtBytes(bytes: Buffer, from: number, to: number): number | undefined {
  if (to - from === 24) {
    const ms = parseCommonIsoBytes(bytes, from);
    if (ms !== undefined) return ms;
  } else if (to - from === 30 && bytes[from + 23] < 0x80 && bytes[from + 24] < 0x80) {
    // Every other byte is checked to be the ASCII the form has there, and 30 bytes with a
    // non-ASCII one decode to fewer than 30 characters: this is parseTwitterDate's answer.
    return parseTwitterDateBytes(bytes, from);
  }
  return parseCreatedAt(bytes.toString('utf8', from, to));
}

/** parseCommonIso on bytes: "YYYY-MM-DDTHH:mm:ss.sssZ" at b, else undefined. */
function parseCommonIsoBytes(s: Buffer, b: number): number | undefined {
  if (
    s[b + 4] !== 0x2d ||
    s[b + 7] !== 0x2d ||
    s[b + 10] !== 0x54 ||
    s[b + 13] !== 0x3a ||
    s[b + 16] !== 0x3a ||
    s[b + 19] !== 0x2e ||
    s[b + 23] !== 0x5a
  ) {
    return undefined;
  }
  const century = twoDigitBytes(s, b);
  const year = twoDigitBytes(s, b + 2);
  const month = twoDigitBytes(s, b + 5);
  const day = twoDigitBytes(s, b + 8);
  const hour = twoDigitBytes(s, b + 11);
  const minute = twoDigitBytes(s, b + 14);
  const second = twoDigitBytes(s, b + 17);
  const ms10 = twoDigitBytes(s, b + 20);
  const ms1 = s[b + 22] - 0x30;
  if ((century | year | month | day | hour | minute | second | ms10) < 0 || !(ms1 >= 0 && ms1 <= 9)) {
    return undefined;
  }
  return toEpochMs(century * 100 + year, month, day, hour, minute, second, ms10 * 10 + ms1, 0);
}

/** parseTwitterDate on the 30 ASCII bytes at b (offset minutes aside). */
function parseTwitterDateBytes(s: Buffer, b: number): number | undefined {
  if (
    s[b + 3] !== 0x20 ||
    s[b + 7] !== 0x20 ||
    s[b + 10] !== 0x20 ||
    s[b + 13] !== 0x3a ||
    s[b + 16] !== 0x3a ||
    s[b + 19] !== 0x20 ||
    s[b + 25] !== 0x20
  ) {
    return undefined;
  }
  if (WEEKDAYS.indexOf((s[b] << 16) | (s[b + 1] << 8) | s[b + 2]) === -1) return undefined;
  const month = MONTHS.indexOf((s[b + 4] << 16) | (s[b + 5] << 8) | s[b + 6]) + 1;
  if (month === 0) return undefined;
  const day = twoDigitBytes(s, b + 8);
  const hour = twoDigitBytes(s, b + 11);
  const minute = twoDigitBytes(s, b + 14);
  const second = twoDigitBytes(s, b + 17);
  const sign = s[b + 20];
  const offsetHours = twoDigitBytes(s, b + 21);
  const offsetMinutes = twoDigitBytes(s, b + 23);
  const century = twoDigitBytes(s, b + 26);
  const year = twoDigitBytes(s, b + 28);
  // As parseTwitterDate: offset minutes that are not digits pass, as -1.
  if ((sign !== 0x2b && sign !== 0x2d) || offsetHours < 0 || offsetHours > 23 || offsetMinutes > 59) {
    return undefined;
  }
  if (century < 0 || year < 0) return undefined;
  const offset = (sign === 0x2d ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return toEpochMs(century * 100 + year, month, day, hour, minute, second, 0, offset);
}

/** The value of the two digit bytes at i, or -1 if either is not a digit. */
function twoDigitBytes(s: Buffer, i: number): number {
  const high = s[i] - 0x30;
  const low = s[i + 1] - 0x30;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : -1;
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
function parseTwitterDate(s: string, from: number, to: number): number | undefined {
  const b = from;
  if (
    to - b !== 30 ||
    s.charCodeAt(b + 3) !== 0x20 ||
    s.charCodeAt(b + 7) !== 0x20 ||
    s.charCodeAt(b + 10) !== 0x20 ||
    s.charCodeAt(b + 13) !== 0x3a ||
    s.charCodeAt(b + 16) !== 0x3a ||
    s.charCodeAt(b + 19) !== 0x20 ||
    s.charCodeAt(b + 25) !== 0x20
  ) {
    return undefined;
  }
  if (WEEKDAYS.indexOf(key3(s, b)) === -1) return undefined;
  const month = MONTHS.indexOf(key3(s, b + 4)) + 1;
  if (month === 0) return undefined;
  const day = digits(s, b + 8, 2);
  const hour = digits(s, b + 11, 2);
  const minute = digits(s, b + 14, 2);
  const second = digits(s, b + 17, 2);
  const sign = s.charCodeAt(b + 20);
  const offsetHours = digits(s, b + 21, 2);
  const offsetMinutes = digits(s, b + 23, 2);
  const year = digits(s, b + 26, 4);
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
function parseIsoDate(s: string, from: number, to: number): number | undefined {
  const b = from;
  const n = to - b;
  if (n === 24) {
    const ms = parseCommonIso(s, b);
    if (ms !== undefined) return ms;
  }
  if (n < 10 || s.charCodeAt(b + 4) !== 0x2d || s.charCodeAt(b + 7) !== 0x2d) return undefined;
  const year = digits(s, b, 4);
  const month = digits(s, b + 5, 2);
  const day = digits(s, b + 8, 2);
  if (n === 10) return toEpochMs(year, month, day, 0, 0, 0, 0, 0);

  const t = s.charCodeAt(b + 10);
  if ((t !== 0x54 && t !== 0x74 && t !== 0x20) || n < 16 || s.charCodeAt(b + 13) !== 0x3a) return undefined;
  const hour = digits(s, b + 11, 2);
  const minute = digits(s, b + 14, 2);
  let second = 0;
  let ms = 0;
  // From here on, i is relative to b.
  let i = 16;
  if (i < n && s.charCodeAt(b + i) === 0x3a) {
    second = i + 3 <= n ? digits(s, b + i + 1, 2) : -1;
    i += 3;
    if (i < n && (s.charCodeAt(b + i) === 0x2e || s.charCodeAt(b + i) === 0x2c)) {
      const start = ++i;
      while (i < n && isDigitCode(s.charCodeAt(b + i))) i++;
      if (i === start) return undefined;
      // Milliseconds: the first three fraction digits, truncated.
      for (let k = 0; k < 3; k++) ms = ms * 10 + (start + k < i ? s.charCodeAt(b + start + k) - 0x30 : 0);
    }
  }

  let offset: number;
  const z = i < n ? s.charCodeAt(b + i) : -1;
  if ((z === 0x5a || z === 0x7a) && i + 1 === n) {
    offset = 0;
  } else if (z === 0x2b || z === 0x2d) {
    const rest = n - (i + 3);
    if (rest < 0) return undefined;
    const hh = digits(s, b + i + 1, 2);
    let mm = 0;
    if (rest === 3 && s.charCodeAt(b + i + 3) === 0x3a) mm = digits(s, b + i + 4, 2);
    else if (rest === 2) mm = digits(s, b + i + 3, 2);
    else if (rest !== 0) return undefined;
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return undefined;
    offset = (z === 0x2d ? -1 : 1) * (hh * 60 + mm);
  } else {
    return undefined;
  }
  return toEpochMs(year, month, day, hour, minute, second, ms, offset);
}

/** Where "YYYY-MM-DDTHH:mm:ss.sssZ" has its digits. */
const COMMON_ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

/**
 * "YYYY-MM-DDTHH:mm:ss.sssZ" at b, the shape API v2 writes; undefined for
 * anything else (the general parser then decides). Its value is what the
 * general parser gives for the same characters.
 */
function parseCommonIso(s: string, b: number): number | undefined {
  if (
    s.charCodeAt(b + 4) !== 0x2d ||
    s.charCodeAt(b + 7) !== 0x2d ||
    s.charCodeAt(b + 10) !== 0x54 ||
    s.charCodeAt(b + 13) !== 0x3a ||
    s.charCodeAt(b + 16) !== 0x3a ||
    s.charCodeAt(b + 19) !== 0x2e ||
    s.charCodeAt(b + 23) !== 0x5a
  ) {
    return undefined;
  }
  for (let k = 0; k < COMMON_ISO_DIGITS.length; k++) {
    if (!isDigitCode(s.charCodeAt(b + COMMON_ISO_DIGITS[k]))) return undefined;
  }
  return toEpochMs(
    digitsAt(s, b, 4),
    digitsAt(s, b + 5, 2),
    digitsAt(s, b + 8, 2),
    digitsAt(s, b + 11, 2),
    digitsAt(s, b + 14, 2),
    digitsAt(s, b + 17, 2),
    digitsAt(s, b + 20, 3),
    0,
  );
}

/** The value of `count` characters at i that are known to be digits. */
function digitsAt(s: string, i: number, count: number): number {
  let v = 0;
  for (let k = i; k < i + count; k++) v = v * 10 + s.charCodeAt(k) - 0x30;
  return v;
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
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  // Tweets arrive in time order, more or less: most share the previous one's date.
  // With month and day in range, the key is unique.
  const dateKey = (year * 16 + month) * 32 + day;
  if (dateKey !== lastDateKey) {
    if (day > daysInMonth(year, month)) return undefined;
    lastDateKey = dateKey;
    lastDays = daysFromCivil(year, month, day);
  }
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  return lastDays * MS_PER_DAY + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + ms;
}

/** The last valid date toEpochMs saw, as (year * 16 + month) * 32 + day, and its days since the epoch. */
let lastDateKey = -1;
let lastDays = 0;

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
