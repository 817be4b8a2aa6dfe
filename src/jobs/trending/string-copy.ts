/**
 * s.slice(start, end) as a string of its own. V8 makes a substring of 13 or
 * more characters a view into its parent: an id or a tag kept that way
 * would keep its whole input line alive (measured: peak RSS 420 MB -> 790 MB
 * on 1M tweets, whose ids the de-duplication stage keeps).
 */
export function copyOf(s: string, start: number, end: number): string {
  const length = end - start;
  if (length < 13) return s.slice(start, end);
  if (length >= CODE_ARRAYS.length) return JSON.parse(JSON.stringify(s.slice(start, end))) as string;
  // An array of exactly this length, reused: setting an array's length costs more than the copy.
  let codes = CODE_ARRAYS[length];
  if (codes === undefined) codes = CODE_ARRAYS[length] = new Array<number>(length).fill(0);
  for (let i = 0; i < length; i++) codes[i] = s.charCodeAt(start + i);
  return String.fromCharCode.apply(null, codes);
}
/** The one-byte characters bytes[start, end) (ASCII or Latin-1) as a string of its own, as copyOf makes one. */
export function copyOfBytes(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length >= CODE_ARRAYS.length)
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1');
  let codes = CODE_ARRAYS[length];
  if (codes === undefined) codes = CODE_ARRAYS[length] = new Array<number>(length).fill(0);
  for (let i = 0; i < length; i++) codes[i] = bytes[start + i];
  return String.fromCharCode.apply(null, codes);
}

/** Character-code arrays by length, for copyOf and copyOfBytes. */
const CODE_ARRAYS: (number[] | undefined)[] = new Array<number[] | undefined>(64).fill(undefined);
