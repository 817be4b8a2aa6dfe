/**
 * The byte-at-a-time MurmurHash3 (x86, 32-bit) over UTF-8 that src/runtime/hash.ts
 * had before its ASCII fast path: the reference its output must keep matching,
 * since key groups and sketches in checkpoints depend on it.
 */
const imul = Math.imul;

export function referenceMurmur3(key: string, seed = 0): number {
  let h = seed >>> 0;
  let k = 0;
  let shift = 0;
  let length = 0;

  const mixByte = (byte: number): void => {
    k |= byte << shift;
    shift += 8;
    length++;
    if (shift === 32) {
      k = imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      shift = 0;
    }
  };

  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c < 0x80) {
      mixByte(c);
    } else if (c < 0x800) {
      mixByte(0xc0 | (c >> 6));
      mixByte(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < key.length) {
      const lo = key.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        mixByte(0xf0 | (c >> 18));
        mixByte(0x80 | ((c >> 12) & 0x3f));
        mixByte(0x80 | ((c >> 6) & 0x3f));
        mixByte(0x80 | (c & 0x3f));
      } else {
        mixByte(0xe0 | (c >> 12));
        mixByte(0x80 | ((c >> 6) & 0x3f));
        mixByte(0x80 | (c & 0x3f));
      }
    } else {
      mixByte(0xe0 | (c >> 12));
      mixByte(0x80 | ((c >> 6) & 0x3f));
      mixByte(0x80 | (c & 0x3f));
    }
  }

  if (shift > 0) {
    k = imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
