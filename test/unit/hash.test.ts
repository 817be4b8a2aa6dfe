import { murmur3, murmur3Bytes, murmur3In } from '../../src/runtime/hash';
import { Xoshiro128 } from '../../src/connectors/generator/random';
import { referenceMurmur3 } from '../support/reference-murmur3';

/** Characters from every UTF-8 length, and both halves of a surrogate pair alone. */
const ALPHABET = [
  'a',
  'Z',
  '0',
  '#',
  '_',
  'é',
  'ß',
  'ж',
  '東',
  '＃',
  '😀',
  '\u{1F1EF}',
  '\uD83D',
  '\uDE00',
  '\u007F',
  '\u0080',
];

describe('murmur3 (ASCII blocks) equals the byte-at-a-time reference', () => {
  it('on ids, authors and tags of every length', () => {
    const keys = ['', '1', '12', '123', '1234', '1574186989737459712', '2971653495', '#nowplaying', '$aapl'];
    for (let n = 0; n < 40; n++) keys.push('x'.repeat(n), '9'.repeat(n));
    for (const key of keys) {
      for (const seed of [0, 1, 0x9747b28c, 0xffffffff])
        expect([key, seed, murmur3(key, seed)]).toEqual([key, seed, referenceMurmur3(key, seed)]);
    }
  });

  it('on random strings mixing ASCII and non-ASCII at every position', () => {
    const rnd = new Xoshiro128(3);
    const mismatches: string[] = [];
    for (let round = 0; round < 20_000; round++) {
      const length = Math.floor(rnd.next() * 24);
      const asciiShare = rnd.next();
      let key = '';
      for (let i = 0; i < length; i++) {
        key +=
          rnd.next() < asciiShare
            ? String.fromCharCode(0x20 + Math.floor(rnd.next() * 0x5f))
            : ALPHABET[Math.floor(rnd.next() * ALPHABET.length)];
      }
      const seed = round % 3 === 0 ? 0 : Math.floor(rnd.next() * 2 ** 32);
      if (murmur3(key, seed) !== referenceMurmur3(key, seed) && mismatches.length < 5)
        mismatches.push(JSON.stringify([key, seed]));
    }
    expect(mismatches).toEqual([]);
  });
});

describe('murmur3In hashes a range of a string as murmur3 hashes the substring', () => {
  it('on random ranges of mixed strings, with every seed kind', () => {
    const rnd = new Xoshiro128(11);
    const mismatches: string[] = [];
    for (let round = 0; round < 20_000; round++) {
      let s = '';
      const length = Math.floor(rnd.next() * 40);
      const asciiShare = rnd.next();
      for (let i = 0; i < length; i++) {
        s +=
          rnd.next() < asciiShare
            ? String.fromCharCode(0x20 + Math.floor(rnd.next() * 0x5f))
            : ALPHABET[Math.floor(rnd.next() * ALPHABET.length)];
      }
      const start = Math.floor(rnd.next() * (s.length + 1));
      const end = start + Math.floor(rnd.next() * (s.length - start + 1));
      const seed = round % 3 === 0 ? 0 : Math.floor(rnd.next() * 2 ** 32);
      const expected = referenceMurmur3(s.slice(start, end), seed);
      if (murmur3In(s, start, end, seed) !== expected && mismatches.length < 5)
        mismatches.push(JSON.stringify([s, start, end, seed]));
    }
    expect(mismatches).toEqual([]);
  });

  it('on an id inside a line', () => {
    const line = '{"id":"1574186989737459712","author_id":"2971653495"}';
    const at = line.indexOf('1574');
    expect(murmur3In(line, at, at + 19)).toBe(murmur3('1574186989737459712'));
    expect(murmur3In(line, at, at + 19, 0x9747b28c)).toBe(
      referenceMurmur3('1574186989737459712', 0x9747b28c),
    );
  });
});

describe('murmur3Bytes hashes UTF-8 bytes as murmur3 hashes the string they encode', () => {
  // Lone surrogates have no UTF-8 form (Buffer.from writes U+FFFD for them): whole characters only.
  const WHOLE = ALPHABET.filter((c) => !/^[\uD800-\uDFFF]$/.test(c));
  it('on random ranges of encoded mixed strings', () => {
    const rnd = new Xoshiro128(12);
    const mismatches: string[] = [];
    for (let round = 0; round < 20_000; round++) {
      const parts: string[] = [];
      const length = Math.floor(rnd.next() * 30);
      for (let i = 0; i < length; i++) parts.push(WHOLE[Math.floor(rnd.next() * WHOLE.length)]);
      // Whole characters: a key range never cuts one.
      const from = Math.floor(rnd.next() * (length + 1));
      const to = from + Math.floor(rnd.next() * (length - from + 1));
      const before = Buffer.from(parts.slice(0, from).join('')).length;
      const key = parts.slice(from, to).join('');
      const bytes = Buffer.from(parts.join(''));
      const seed = round % 3 === 0 ? 0 : Math.floor(rnd.next() * 2 ** 32);
      const end = before + Buffer.from(key).length;
      if (murmur3Bytes(bytes, before, end, seed) !== referenceMurmur3(key, seed) && mismatches.length < 5)
        mismatches.push(JSON.stringify([key, seed]));
    }
    expect(mismatches).toEqual([]);
  });
});
