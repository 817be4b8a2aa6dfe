/**
 * MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of a string.
 *
 * Used for key groups and sketches, so the value must never change between
 * versions: state written by one release is read by the next.
 *
 * It runs several times per tweet (routing, author sketches), so ASCII keys
 * (ids, most tags) are hashed four characters per block without encoding
 * them; the first non-ASCII character switches to encoding byte by byte,
 * which gives the same bytes and so the same hash.
 */
const imul = Math.imul;

/** Mixes one 4-byte block `k` (little-endian) into `h`. */
function mixBlock(h: number, k: number): number {
  k = imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (imul(h, 5) + 0xe6546b64) | 0;
}

/** The hash of `length` bytes whose full blocks are in `h` and whose last (length % 4) bytes are `tail`. */
function finish(h: number, tail: number, length: number): number {
  if ((length & 3) !== 0) {
    tail = imul(tail, 0xcc9e2d51);
    tail = (tail << 15) | (tail >>> 17);
    tail = imul(tail, 0x1b873593);
    h ^= tail;
  }
  return fmix32(h ^ length);
}

/** The 32-bit finaliser of MurmurHash3: a bijection on uint32 with good avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** murmur3 of `key`'s UTF-8 bytes with `seed`; an unsigned 32-bit integer. */
export function murmur3(key: string, seed = 0): number {
  return murmur3In(key, 0, key.length, seed);
}

/**
 * murmur3(s.slice(start, end), seed) without making the substring: the
 * local stage hashes ids and authors where they sit in the input line.
 */
export function murmur3In(s: string, start: number, end: number, seed = 0): number {
  let h = seed >>> 0;
  let i = start;
  const blocks = start + ((end - start) & ~3);
  for (; i < blocks; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return murmur3Utf8(s, i, end, i - start, h);
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  let tail = 0;
  for (let shift = 0; i < end; i++, shift += 8) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return murmur3Utf8(s, blocks, end, blocks - start, h);
    tail |= c << shift;
  }
  return finish(h, tail, end - start);
}

/**
 * murmur3 of the bytes [start, end) of `bytes` (the same as murmur3 of the
 * string they encode, when they are valid UTF-8): the local stage hashes ids
 * and authors where they sit in the input buffer.
 */
export function murmur3Bytes(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  let h = seed >>> 0;
  let i = start;
  const blocks = start + ((end - start) & ~3);
  for (; i < blocks; i += 4)
    h = mixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  let tail = 0;
  for (let shift = 0; i < end; i++, shift += 8) tail |= bytes[i] << shift;
  return finish(h, tail, end - start);
}

/**
 * Continues murmur3 from character `from` of `key` (a block boundary reached
 * with ASCII only, `length` bytes in), encoding UTF-8 byte by byte up to `end`.
 */
function murmur3Utf8(key: string, from: number, end: number, length: number, h: number): number {
  let k = 0;
  let shift = 0;
  const put = (byte: number): void => {
    k |= byte << shift;
    shift += 8;
    length++;
    if (shift === 32) {
      h = mixBlock(h, k);
      k = 0;
      shift = 0;
    }
  };
  for (let i = from; i < end; i++) {
    let c = key.charCodeAt(i);
    if (c < 0x80) {
      put(c);
    } else if (c < 0x800) {
      put(0xc0 | (c >> 6));
      put(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < end) {
      const lo = key.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        put(0xf0 | (c >> 18));
        put(0x80 | ((c >> 12) & 0x3f));
        put(0x80 | ((c >> 6) & 0x3f));
        put(0x80 | (c & 0x3f));
      } else {
        put(0xe0 | (c >> 12));
        put(0x80 | ((c >> 6) & 0x3f));
        put(0x80 | (c & 0x3f));
      }
    } else {
      put(0xe0 | (c >> 12));
      put(0x80 | ((c >> 6) & 0x3f));
      put(0x80 | (c & 0x3f));
    }
  }
  return finish(h, k, length);
}
