import { parseCreatedAt, parseCreatedAtBytes, parseCreatedAtIn } from '../../src/jobs/trending/tweet-dates';
import { Xoshiro128 } from '../../src/connectors/generator/random';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

describe('parseCreatedAt', () => {
  it('agrees with Date for random instants in both formats', () => {
    const rnd = new Xoshiro128(5);
    const problems: string[] = [];
    for (let k = 0; k < 20_000; k++) {
      // 1990..2060, so leap days and century rules come up.
      const ms = Date.UTC(1990, 0, 1) + Math.floor(rnd.next() * 70 * 365.25 * 86_400_000);
      const d = new Date(ms);
      const iso = d.toISOString();
      const v1 = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
      if (parseCreatedAt(iso) !== ms && problems.length < 5) problems.push(iso);
      if (parseCreatedAt(v1) !== ms - d.getUTCMilliseconds() && problems.length < 5) problems.push(v1);
    }
    expect(problems).toEqual([]);
  });

  it('refuses impossible dates, also right after a valid one with a similar key', () => {
    const cases: [string, number | undefined][] = [
      ['2022-01-05T00:00:00.000Z', Date.UTC(2022, 0, 5)],
      ['2021-17-05T00:00:00.000Z', undefined], // month 17 must not pass for January of the next year
      ['2022-01-05T00:00:00.000Z', Date.UTC(2022, 0, 5)],
      ['2022-01-37T00:00:00.000Z', undefined], // day 37 must not pass for February 5th
      ['2022-02-29T00:00:00.000Z', undefined],
      ['2024-02-29T00:00:00.000Z', Date.UTC(2024, 1, 29)],
      ['2100-02-29T00:00:00.000Z', undefined],
      ['2000-02-29T00:00:00.000Z', Date.UTC(2000, 1, 29)],
      ['2022-00-10T00:00:00.000Z', undefined],
      ['2022-01-00T00:00:00.000Z', undefined],
      ['2022-01-05T24:00:00.000Z', undefined],
      ['2022-01-05T23:60:00.000Z', undefined],
      ['2022-01-05T23:59:60.000Z', undefined],
      ['2022-01-05T23:59:59.9x9Z', undefined],
      ['2022-01-0xT23:59:59.999Z', undefined],
      ['20x2-01-05T23:59:59.999Z', undefined],
      ['2022-01-05T23:59:59.999z', Date.UTC(2022, 0, 5, 23, 59, 59, 999)],
      ['2022-01-05 23:59:59.999Z', Date.UTC(2022, 0, 5, 23, 59, 59, 999)],
      ['2022-01-05T23:59:59.999+01:00', Date.UTC(2022, 0, 5, 22, 59, 59, 999)],
      ['2022-01-05T23:59:59.999', undefined],
      ['Wed Jan 05 23:59:59 +0000 2022', Date.UTC(2022, 0, 5, 23, 59, 59)],
      ['Wed Jan 32 23:59:59 +0000 2022', undefined],
      ['Xyz Jan 05 23:59:59 +0000 2022', undefined],
      ['', undefined],
    ];
    expect(cases.map(([s]) => [s, parseCreatedAt(s)])).toEqual(cases);
  });

  it('parses in place: only the given range counts', () => {
    const line = '{"created_at":"2022-01-05T23:59:59.999Z","x":1}';
    const from = line.indexOf('2022');
    expect(parseCreatedAtIn(line, from, from + 24)).toBe(Date.UTC(2022, 0, 5, 23, 59, 59, 999));
    expect(parseCreatedAtIn(line, from, from + 23)).toBeUndefined();
    expect(parseCreatedAtIn(line, from, from + 10)).toBe(Date.UTC(2022, 0, 5));
    expect(parseCreatedAtIn(line, from, from)).toBeUndefined();
  });
});

describe('parseCreatedAtBytes', () => {
  it('gives what parseCreatedAt gives for the string the bytes encode, in place', () => {
    const rnd = new Xoshiro128(8);
    const dates = ['2022-01-05T23:59:59.999Z', '2022-02-29T00:00:00.000Z', '2022-01-05T23:59:59.9x9Z'];
    dates.push(
      '2022-01-05T23:59:59.999z',
      '2022-01-05 23:59:59.999Z',
      'Wed Jan 05 23:59:59 +0000 2022',
      '2022-01-05',
    );
    dates.push(
      '2022-01-05T23:59:59.99éZ',
      '２022-01-05T23:59:59.999Z',
      'Wed Jan 05 23:59:59 +0000 ２022',
      '',
      'x',
    );
    // Offset minutes that are not digits pass the string parser, unless the date is not 30 characters long.
    dates.push(
      'Wed Jan 05 23:59:59 +00x0 2022',
      'Wed Jan 05 23:59:59 +00é0 2022',
      'Wed Jan 05 23:59:59 +00é 2022',
    );
    dates.push('Wed Jan 05 23:59:59 +00éé 2022', 'Wed Jan 05 23:59:59 +0é 2022', '2022-01-05T23:59:59.999é');
    for (let k = 0; k < 5_000; k++) {
      const d = new Date(Date.UTC(1990, 0, 1) + Math.floor(rnd.next() * 70 * 365.25 * 86_400_000));
      const iso = d.toISOString();
      // Now and then a character changed, to any ASCII or a non-ASCII one.
      const at = Math.floor(rnd.next() * iso.length);
      const c = rnd.next() < 0.1 ? 'é' : String.fromCharCode(0x20 + Math.floor(rnd.next() * 0x5f));
      dates.push(rnd.next() < 0.5 ? iso : iso.slice(0, at) + c + iso.slice(at + 1));
      const v1 = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${rnd.next() < 0.5 ? '+' : '-'}${pad(Math.floor(rnd.next() * 30))}${pad(Math.floor(rnd.next() * 70))} ${d.getUTCFullYear()}`;
      const v1At = Math.floor(rnd.next() * v1.length);
      dates.push(rnd.next() < 0.5 ? v1 : v1.slice(0, v1At) + c + v1.slice(v1At + 1));
    }
    const problems: string[] = [];
    for (const date of dates) {
      const bytes = Buffer.from(`"${date}"`);
      if (parseCreatedAtBytes(bytes, 1, bytes.length - 1) !== parseCreatedAt(date) && problems.length < 5)
        problems.push(date);
    }
    expect(problems).toEqual([]);
  });
});
