import {
  extractCashtags,
  extractHashtags,
  normalizeCashtag,
  normalizeHashtag,
} from '../../src/jobs/trending/hashtags';

describe('normalizeHashtag / normalizeCashtag', () => {
  it('prefixes the sign, applies NFKC and lower-cases', () => {
    expect(normalizeHashtag('Trend')).toBe('#trend');
    expect(normalizeHashtag('ＴＲＥＮＤ１')).toBe('#trend1');
    expect(normalizeHashtag('Cafe\u0301')).toBe('#caf\u00e9');
    expect(normalizeHashtag('東京')).toBe('#東京');
    expect(normalizeCashtag('AAPL')).toBe('$aapl');
    expect(normalizeCashtag('BRK.A')).toBe('$brk.a');
    expect(normalizeCashtag('ＧＯＯＧ')).toBe('$goog');
  });
});

describe('extractHashtags', () => {
  it('finds ASCII hashtags in order, lower-cased, duplicates kept', () => {
    expect(extractHashtags('Hello #World and #foo_bar, again #WORLD.')).toEqual([
      '#world',
      '#foo_bar',
      '#world',
    ]);
  });

  it('returns nothing for text without hashtags', () => {
    expect(extractHashtags('')).toEqual([]);
    expect(extractHashtags('no tags here')).toEqual([]);
    expect(extractHashtags('#')).toEqual([]);
    expect(extractHashtags('# spaced')).toEqual([]);
  });

  it('accepts hashtags at the start and end of text and after punctuation', () => {
    expect(extractHashtags('#start middle (#paren) ,#comma "#quoted" #end')).toEqual([
      '#start',
      '#paren',
      '#comma',
      '#quoted',
      '#end',
    ]);
  });

  describe('unicode', () => {
    it('Japanese, with a space before the hash sign', () => {
      expect(extractHashtags('今日は #東京 と #ラーメン です')).toEqual(['#東京', '#ラーメン']);
    });

    it('Japanese: a letter right before the hash sign forbids the hashtag', () => {
      expect(extractHashtags('今日は#東京')).toEqual([]);
    });

    it("keeps twitter-text's special characters inside a tag (katakana middle dot, middle dot)", () => {
      expect(extractHashtags('#ハッシュ・タグ')).toEqual(['#ハッシュ・タグ']);
      expect(extractHashtags('#l·l')).toEqual(['#l·l']);
      expect(extractHashtags('#a\u200Db #c\u200Cd')).toEqual(['#a\u200Db', '#c\u200Cd']);
      expect(extractHashtags('#x\u200B')).toEqual(['#x']); // zero-width space is not one of them
    });

    it('Arabic and Hebrew', () => {
      expect(extractHashtags('مرحبا #السعودية')).toEqual(['#السعودية']);
      expect(extractHashtags('#שלום עולם')).toEqual(['#שלום']);
    });

    it('accented letters, lower-cased', () => {
      expect(extractHashtags('#Café #ÉTÉ #Ñandú')).toEqual(['#café', '#été', '#ñandú']);
    });

    it('combining marks stay in the tag and are composed by NFKC', () => {
      expect(extractHashtags('#Cafe\u0301 au lait')).toEqual(['#caf\u00e9']);
      // Devanagari vowel signs are marks.
      expect(extractHashtags('#हिन्दी')).toEqual(['#हिन्दी']);
    });

    it('a tag of marks only counts (it has a mark), but not the keycap emoji', () => {
      expect(extractHashtags('#\u0301')).toEqual(['#\u0301']);
      expect(extractHashtags('#\uFE0F\u20E3 #\u20E3 #ok')).toEqual(['#ok']);
    });

    it('a combining mark before the hash sign forbids the hashtag', () => {
      expect(extractHashtags('e\u0301#tag')).toEqual([]);
    });

    it('an emoji (or its variation selector) before the hash sign is fine', () => {
      expect(extractHashtags('😀#smile')).toEqual(['#smile']);
      expect(extractHashtags('❤\uFE0F#love')).toEqual(['#love']);
    });

    it('astral letters: a letter before the hash forbids it; inside a tag they count', () => {
      expect(extractHashtags('𝐀#x')).toEqual([]);
      expect(extractHashtags('#𝐀𝐁')).toEqual(['#ab']);
    });

    it('full-width hash sign and full-width letters normalise to ASCII', () => {
      expect(extractHashtags('＃ＴＲＥＮＤ and #ｈａｓｈ１２３ and ＃ｍｉｘ')).toEqual([
        '#trend',
        '#hash123',
        '#mix',
      ]);
    });
  });

  describe('URLs', () => {
    it('skips fragments of https URLs', () => {
      expect(extractHashtags('see https://example.com/#section and #real')).toEqual(['#real']);
    });

    it('skips fragments of http URLs, wherever the hash sign is in them', () => {
      expect(extractHashtags('#before http://x.org/page?q=1#frag/#more #after')).toEqual([
        '#before',
        '#after',
      ]);
    });

    it('skips fragments of bare www. hosts', () => {
      expect(extractHashtags('www.example.com/#top #yes')).toEqual(['#yes']);
      expect(extractHashtags('go to (www.example.com/#top) now #yes')).toEqual(['#yes']);
    });

    it('matches schemes and www case-insensitively', () => {
      expect(extractHashtags('HTTPS://EXAMPLE.COM/#A WWW.X.COM/#B #c')).toEqual(['#c']);
    });

    it('a URL ends at whitespace', () => {
      expect(extractHashtags('https://example.com/x\n#next')).toEqual(['#next']);
    });

    it('"www." inside a word is not a URL', () => {
      expect(extractHashtags('awww.cute/#kitten')).toEqual(['#kitten']);
    });

    it('several URLs and hashtags interleaved', () => {
      const text = '#a https://t.co/1#x #b www.y.com#z #c http://q.io/#w #d';
      expect(extractHashtags(text)).toEqual(['#a', '#b', '#c', '#d']);
    });
  });

  describe('HTML entities (v1.1 text)', () => {
    it('&amp; &#39; &lt; &#x27; produce no hashtags', () => {
      expect(extractHashtags('Tom &amp; Jerry #cartoon')).toEqual(['#cartoon']);
      expect(extractHashtags('it&#39;s #fun')).toEqual(['#fun']);
      expect(extractHashtags('&lt;3 #love &gt;')).toEqual(['#love']);
      expect(extractHashtags('it&#x27;s')).toEqual([]);
      expect(extractHashtags('&#39;')).toEqual([]);
    });
  });

  describe('the tag must contain a letter or a mark', () => {
    it('all-digit and digit-underscore tags are not hashtags', () => {
      expect(extractHashtags('#123 #1_2 #_ #2024')).toEqual([]);
    });

    it('a letter anywhere makes it a hashtag', () => {
      expect(extractHashtags('#1a #_a #2024年')).toEqual(['#1a', '#_a', '#2024年']);
    });
  });

  describe('what may precede the hash sign', () => {
    it('not a letter, digit, underscore or &', () => {
      expect(extractHashtags('abc#def')).toEqual([]);
      expect(extractHashtags('1#def')).toEqual([]);
      expect(extractHashtags('_#def')).toEqual([]);
      expect(extractHashtags('&#def')).toEqual([]);
      expect(extractHashtags('é#def')).toEqual([]);
    });

    it("not one of twitter-text's special hashtag characters", () => {
      expect(extractHashtags('·#def')).toEqual([]);
    });

    it('another hash sign is fine', () => {
      expect(extractHashtags('##double')).toEqual(['#double']);
    });
  });

  describe('what may follow the tag', () => {
    it('a hash sign right after the tag cancels it (and the next one is preceded by a letter)', () => {
      expect(extractHashtags('#foo#bar')).toEqual([]);
      expect(extractHashtags('#foo＃bar')).toEqual([]);
      expect(extractHashtags('#foo# #ok')).toEqual(['#ok']);
    });

    it('"://" right after the tag cancels it; a lone colon does not', () => {
      expect(extractHashtags('#foo://bar')).toEqual([]);
      expect(extractHashtags('#foo: bar')).toEqual(['#foo']);
      expect(extractHashtags('#foo:/ bar')).toEqual(['#foo']);
    });

    it('punctuation ends the tag', () => {
      expect(extractHashtags('#end. #bang! #q? #dash-x #ellipsis…')).toEqual([
        '#end',
        '#bang',
        '#q',
        '#dash',
        '#ellipsis',
      ]);
    });
  });

  it('can be called repeatedly (no state leaks between calls)', () => {
    const text = 'x #one https://a.b/#c #two';
    for (let i = 0; i < 3; i++) expect(extractHashtags(text)).toEqual(['#one', '#two']);
    expect(extractHashtags('#three')).toEqual(['#three']);
  });
});

describe('extractCashtags', () => {
  it('finds cashtags with optional class suffix, lower-cased', () => {
    expect(extractCashtags('$AAPL up, $BRK.A flat, $GOOG_L and $brk.b')).toEqual([
      '$aapl',
      '$brk.a',
      '$goog_l',
      '$brk.b',
    ]);
  });

  it('at the start or after any whitespace only', () => {
    expect(extractCashtags('$TSLA\n$MSFT\t$IBM\u3000$SAP')).toEqual(['$tsla', '$msft', '$ibm', '$sap']);
    expect(extractCashtags('a$AAPL ($AAPL) #$AAPL')).toEqual([]);
  });

  it('1 to 6 letters, not followed by a letter, digit, underscore or $', () => {
    expect(extractCashtags('$A $ABCDEF $ABCDEFG $100 $AAPL1 $AAPL$ $AAPL_ $')).toEqual(['$a', '$abcdef']);
  });

  it('ends at punctuation', () => {
    expect(extractCashtags('buy $AAPL. sell $MSFT, hold $IBM!')).toEqual(['$aapl', '$msft', '$ibm']);
  });

  it('a suffix of more than two letters is dropped and the symbol kept (twitter-text backtracks)', () => {
    expect(extractCashtags('$BRK.ABC')).toEqual(['$brk']);
  });

  it('keeps duplicates in order', () => {
    expect(extractCashtags('$AAPL $aapl')).toEqual(['$aapl', '$aapl']);
  });
});
