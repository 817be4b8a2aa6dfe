/**
 * Hashtag and cashtag extraction from free text, after twitter-text's rules.
 *
 * This runs once per record, so every regular expression is compiled once at
 * module load and used sticky (`y`) or global (`g`) with `test()` and
 * `lastIndex`, which allocates nothing; the only allocations per call are the
 * result array and its strings.
 */

/**
 * Non-letter characters that twitter-text allows inside a hashtag besides
 * decimal digits: underscore, ZWNJ and ZWJ (written as a range, which keeps
 * ESLint's no-misleading-character-class quiet), and a few CJK, Hebrew and
 * Tibetan punctuation marks.
 */
const SPECIAL =
  '_\\u200C-\\u200D\\uA67E\\u05BE\\u05F3\\u05F4\\uFF5E\\u301C\\u309B\\u309C\\u30A0\\u30FB\\u3003\\u0F0B\\u0F0C\\u00B7';

/** Finds the next hash sign, '#' or the full-width '＃'. */
const HASH_SIGN = /[#\uFF03]/g;

/**
 * A hashtag's body at a given position: a run of hashtag characters holding
 * at least one letter or mark. The classes are disjoint, so the first
 * (greedy) match is the whole run.
 */
const TAG_BODY = new RegExp(`[\\p{Nd}${SPECIAL}]*[\\p{L}\\p{M}][\\p{L}\\p{M}\\p{Nd}${SPECIAL}]*`, 'uy');

/** A character that may not precede a hash sign: any hashtag character, or '&' (HTML entities). */
const NOT_BEFORE_HASH = new RegExp(`[&\\p{L}\\p{M}\\p{Nd}${SPECIAL}]`, 'uy');

/** Where a URL starts: a scheme, or a bare "www." that does not continue a word. */
const URL_START = /https?:\/\/|(?<![\p{L}\p{M}\p{Nd}_.\-@])www\./giu;

/** The rest of a URL: everything up to the next whitespace. */
const NON_SPACE = /\S*/y;

/** A cashtag at a given position (the '$' included). */
const CASHTAG = /\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?![A-Za-z0-9_$])/y;

/** One whitespace character (JavaScript's \s: Unicode spaces and line terminators). */
const WHITESPACE = /\s/y;

/** "#" + NFKC(tag), lower-cased. `tag` comes without its leading hash sign. */
export function normalizeHashtag(tag: string): string {
  return '#' + tag.normalize('NFKC').toLowerCase();
}

/** "$" + NFKC(tag), lower-cased. `tag` comes without its leading dollar sign. */
export function normalizeCashtag(tag: string): string {
  return '$' + tag.normalize('NFKC').toLowerCase();
}

/**
 * Normalised hashtags ("#tag") in `text`, in order of first occurrence,
 * duplicates kept.
 *
 * twitter-text's rule: a hash sign ('#' or '＃') not preceded by a hashtag
 * character or '&' (U+FE0E and U+FE0F, emoji variation selectors, are allowed
 * just before it), not followed by U+FE0F or U+20E3 (the keycap emoji),
 * then a run of letters, marks, decimal digits and twitter-text's special
 * characters containing at least one letter or mark, and not followed by a
 * hash sign or "://". Hash signs inside a URL (http://, https:// or a bare
 * www. host, up to the next whitespace) never start a hashtag.
 */
export function extractHashtags(text: string): string[] {
  const out: string[] = [];
  // The URL span known so far: [urlFrom, urlTo). The scheme or "www." prefix
  // itself holds no hash sign, so the span may start after it.
  let urlFrom = 0;
  let urlTo = 0;
  let urlsDone = false;

  HASH_SIGN.lastIndex = 0;
  while (HASH_SIGN.test(text)) {
    const hash = HASH_SIGN.lastIndex - 1;

    if (hash > 0 && !mayPrecedeHash(text, hash)) continue;

    const next = text.charCodeAt(hash + 1);
    if (next === 0xfe0f || next === 0x20e3) continue;

    TAG_BODY.lastIndex = hash + 1;
    if (!TAG_BODY.test(text)) continue;
    const end = TAG_BODY.lastIndex;

    // Guarded: charCodeAt past the end (a tag ending the text) is NaN, but V8's optimised code
    // throws itself away the first time it reads out of bounds.
    const after = end < text.length ? text.charCodeAt(end) : -1;
    if (after === 0x23 || after === 0xff03 || (after === 0x3a && text.startsWith('://', end))) {
      HASH_SIGN.lastIndex = end;
      continue;
    }

    // Move the URL span forward until it ends after this hash sign.
    while (!urlsDone && urlTo <= hash) {
      URL_START.lastIndex = urlTo;
      if (!URL_START.test(text)) {
        urlsDone = true;
        break;
      }
      urlFrom = URL_START.lastIndex;
      NON_SPACE.lastIndex = urlFrom;
      NON_SPACE.test(text);
      urlTo = NON_SPACE.lastIndex;
    }
    if (hash >= urlFrom && hash < urlTo) continue;

    out.push(normalizeHashtag(text.slice(hash + 1, end)));
    HASH_SIGN.lastIndex = end;
  }
  return out;
}

/** Whether the character before the hash sign at `hash` (> 0) allows a hashtag there. */
function mayPrecedeHash(text: string, hash: number): boolean {
  const c = text.charCodeAt(hash - 1);
  if (c < 0x80) {
    // ASCII fast path: letters, digits, '_' and '&' forbid a hashtag.
    return !(
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x5f ||
      c === 0x26
    );
  }
  if (c === 0xfe0e || c === 0xfe0f) return true;
  let start = hash - 1;
  // Low surrogate of a pair: test the whole code point.
  if (c >= 0xdc00 && c <= 0xdfff && start > 0) {
    const high = text.charCodeAt(start - 1);
    if (high >= 0xd800 && high <= 0xdbff) start--;
  }
  NOT_BEFORE_HASH.lastIndex = start;
  return !NOT_BEFORE_HASH.test(text);
}

/**
 * Normalised cashtags ("$aapl", "$brk.a") in `text`, in order of first
 * occurrence, duplicates kept.
 *
 * twitter-text's rule: '$' at the start or after whitespace, 1 to 6 ASCII
 * letters, optionally '.' or '_' and 1 or 2 more letters, not followed by a
 * letter, digit, '_' or '$'.
 */
export function extractCashtags(text: string): string[] {
  const out: string[] = [];
  let dollar = text.indexOf('$');
  while (dollar !== -1) {
    let next = dollar + 1;
    if (dollar === 0 || isWhitespaceAt(text, dollar - 1)) {
      CASHTAG.lastIndex = dollar;
      if (CASHTAG.test(text)) {
        next = CASHTAG.lastIndex;
        // ASCII only, so NFKC is the identity: lower-casing is the whole normalisation.
        out.push('$' + text.slice(dollar + 1, next).toLowerCase());
      }
    }
    dollar = text.indexOf('$', next);
  }
  return out;
}

function isWhitespaceAt(text: string, index: number): boolean {
  const c = text.charCodeAt(index);
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  if (c < 0x80) return false;
  WHITESPACE.lastIndex = index;
  return WHITESPACE.test(text);
}
