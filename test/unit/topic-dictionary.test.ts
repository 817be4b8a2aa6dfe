import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TopicCodeSink,
  TopicDictionary,
  TopicMirror,
  TopicSendState,
} from '../../src/jobs/trending/topic-dictionary';
import { scanTweetBytes } from '../../src/jobs/trending/tweet-byte-scanner';
import { TweetGenerator, defaultGeneratorOptions } from '../../src/connectors/generator/tweet-generator';
import { mulberry32 } from '../support/prng';

const HASH = 0x23;
const CASH = 0x24;

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

describe('TopicDictionary', () => {
  it('gives a tag seen as bytes and as its normalised string one code, and its string back', () => {
    const d = new TopicDictionary();
    const b = ascii('xx NodeJS yy');
    const code = d.codeOfAscii(b, 3, 9, HASH);
    expect(d.topic(code)).toBe('#nodejs');
    expect(d.codeOf('#nodejs')).toBe(code);
    expect(d.codeOfAscii(ascii('NODEJS'), 0, 6, HASH)).toBe(code);
    // The sign is part of the topic.
    const cash = d.codeOfAscii(b, 3, 9, CASH);
    expect(cash).not.toBe(code);
    expect(d.topic(cash)).toBe('$nodejs');
    // Not ASCII: by string only, and still one code per topic.
    const kpop = d.codeOf('#방탄소년단');
    expect(d.codeOf('#방탄소년단')).toBe(kpop);
    expect(d.topic(kpop)).toBe('#방탄소년단');
    expect(new Set([code, cash, kpop]).size).toBe(3);
    expect(d.size).toBe(3);
  });

  it('codes are one-to-one with topics through growth (random topics against a Map)', () => {
    const d = new TopicDictionary();
    const reference = new Map<string, number>();
    const random = mulberry32(11);
    const alphabet = 'abcXYZ_019é';
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + Math.floor(random() * 9);
      let tag = '';
      for (let j = 0; j < length; j++) tag += alphabet[Math.floor(random() * alphabet.length)];
      const topic = '#' + tag.toLowerCase();
      const code = ![...tag].some((c) => c.charCodeAt(0) >= 0x80)
        ? random() < 0.5
          ? d.codeOfAscii(ascii(`..${tag}..`), 2, 2 + tag.length, HASH)
          : d.codeOf(topic)
        : d.codeOf(topic.normalize('NFKC'));
      const known = reference.get(topic);
      if (known === undefined) {
        expect(code).toBe(reference.size);
        reference.set(topic, code);
      } else expect(code).toBe(known);
      expect(d.topic(code)).toBe(topic);
    }
    expect(d.size).toBe(reference.size);
  });

  it('starts over with a new epoch between batches once over its limits', () => {
    const d = new TopicDictionary(3, 3);
    for (const t of ['#a', '#b', '#c']) d.codeOf(t);
    d.startBatch();
    expect([d.epoch, d.size]).toEqual([0, 3]);
    // Over the limit within a batch: nothing happens until the next batch starts.
    expect(d.codeOf('#d')).toBe(3);
    expect(d.epoch).toBe(0);
    d.startBatch();
    expect([d.epoch, d.size]).toEqual([1, 0]);
    expect(d.codeOf('#d')).toBe(0);
    expect(d.codeOfAscii(ascii('A'), 0, 1, HASH)).toBe(1);
    expect(d.codeOf('#a')).toBe(1);
    // The arena limit too: 32 bytes an entry.
    const small = new TopicDictionary(1, 1);
    small.codeOf('#' + 'a'.repeat(40));
    small.startBatch();
    expect(small.epoch).toBe(1);
  });
});

describe('TopicDictionary limit', () => {
  it('halves while epochs are mostly new topics, down to its minimum, and doubles back once lookups hit', () => {
    const d = new TopicDictionary(64, 8);
    let next = 0;
    const limits: number[] = [];
    // One-off topics only: every lookup misses.
    for (let batch = 0; batch < 12; batch++) {
      d.startBatch();
      limits.push(d.entryLimit);
      for (let i = 0; i < 40; i++) d.codeOf(`#once${next++}`);
    }
    expect(limits.slice(0, 5)).toEqual([64, 64, 32, 16, 8]);
    expect(Math.min(...limits)).toBe(8);
    // A small vocabulary over and over: nearly every lookup hits.
    for (let batch = 0; batch < 40; batch++) {
      d.startBatch();
      limits.push(d.entryLimit);
      for (let i = 0; i < 200; i++) d.codeOf(`#t${i % 9}`);
      d.codeOf(`#new${batch}`);
    }
    expect(limits[limits.length - 1]).toBe(64);
  });
});

describe('TopicCodeSink', () => {
  it('keeps a tweet’s topics once each, in order', () => {
    const d = new TopicDictionary();
    const sink = new TopicCodeSink(d);
    sink.clear();
    sink.addAscii(ascii('Foo'), 0, 3, HASH);
    sink.addString('#bar');
    sink.addString('#foo');
    sink.addAscii(ascii('BAR'), 0, 3, HASH);
    sink.addAscii(ascii('foo'), 0, 3, CASH);
    expect(sink.codes.slice(0, sink.count).map((c) => d.topic(c))).toEqual(['#foo', '#bar', '$foo']);
    sink.clear();
    expect(sink.count).toBe(0);
  });
});

describe('TopicSendState and TopicMirror', () => {
  it('a code’s string goes to each receiver once per epoch, and the mirror rebuilds it out of order', () => {
    const d = new TopicDictionary(2, 2);
    const toA = new TopicSendState();
    const toB = new TopicSendState();
    const x = d.codeOf('#x');
    const y = d.codeOf('#y');
    expect([toA.mustSend(d, x), toA.mustSend(d, x), toB.mustSend(d, y), toA.mustSend(d, y)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    const mirror = new TopicMirror();
    // Receiver B first hears of code 1 (code 0 went elsewhere).
    mirror.apply({
      topicEpoch: 0,
      topicCodes: Uint32Array.of(y, y),
      newTopicCodes: Uint32Array.of(y),
      newTopics: ['#y'],
    });
    expect(mirror.topics(Uint32Array.of(y, y))).toEqual(['#y', '#y']);
    expect(() => mirror.topic(x)).toThrow(/topic code 0 of epoch 0 was never sent/);
    // A new epoch: earlier codes mean nothing now, and everything is sent again.
    d.codeOf('#z');
    d.startBatch();
    const z = d.codeOf('#z');
    expect(toB.mustSend(d, z)).toBe(true);
    mirror.apply({
      topicEpoch: d.epoch,
      topicCodes: Uint32Array.of(z),
      newTopicCodes: Uint32Array.of(z),
      newTopics: ['#z'],
    });
    expect([mirror.epoch, mirror.topic(z)]).toEqual([1, '#z']);
    expect(() => mirror.topic(y)).toThrow(/never sent/);
  });
});

describe('scanning into codes', () => {
  /** Lines of the fixtures and of the generator (v2 and v1.1, ASCII and not, with and without entities). */
  function lines(): string[] {
    const dir = path.resolve(__dirname, '../fixtures/twitter-v2');
    const out: string[] = [];
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')))
      out.push(
        ...fs
          .readFileSync(path.join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
    const gen = new TweetGenerator({
      ...defaultGeneratorOptions,
      seed: 5,
      splitIndex: 0,
      splitCount: 1,
      startMs: Date.UTC(2022, 0, 1),
      eventsPerSecond: 10_000,
    });
    for (let i = 0; i < 3000; i++) out.push(gen.nextLine());
    return out;
  }

  it('gives the codes of exactly the topics the string sink gives', () => {
    const d = new TopicDictionary();
    const sink = new TopicCodeSink(d);
    let tweets = 0;
    for (const cashtags of [false, true]) {
      for (const line of lines()) {
        const bytes = Buffer.from(line);
        const strings = scanTweetBytes(bytes, 0, bytes.length, { cashtags });
        const expected = strings === undefined ? undefined : [...strings.topics];
        const coded = scanTweetBytes(bytes, 0, bytes.length, { cashtags }, sink);
        const actual =
          coded === undefined ? undefined : sink.codes.slice(0, sink.count).map((c) => d.topic(c));
        expect(actual).toEqual(expected);
        if (actual !== undefined) tweets++;
      }
    }
    expect(tweets).toBeGreaterThan(5000);
  });
});
