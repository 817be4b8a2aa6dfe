import {
  AUTHOR_SEED1,
  AUTHOR_SEED2,
  authorAt,
  tweetCount,
  tweetIdAt,
  TweetBatchBuilder,
} from '../../src/jobs/trending/tweet-batch';
import { TopicDictionary, TopicMirror } from '../../src/jobs/trending/topic-dictionary';
import { NO_AUTHOR, OTHER_AUTHOR, type TweetBatch } from '../../src/jobs/trending/trending-messages';
import { packed, packId, packIdBytes, packIdIn } from '../../src/jobs/trending/tweet-id-table';
import { hashKeyH1, hashKeyH2 } from '../../src/state/hyperloglog';
import { murmur3 } from '../../src/runtime/hash';
import { mulberry32 as prng } from '../support/prng';

/** What packId makes of `id`: [high, low], or false. */
function packOf(id: string): [number, number] | false {
  return packId(id) ? [packed.high, packed.low] : false;
}

function packInOf(s: string, start: number, end: number): [number, number] | false {
  return packIdIn(s, start, end) ? [packed.high, packed.low] : false;
}

describe('packIdIn', () => {
  it('agrees with packId on odd and random ids, inside a line', () => {
    const rnd = prng(5);
    const ids = ['', '0', '00', '01', '7', '999999999', '1000000000', '18446744073709551615'];
    ids.push('99999999999999999999', '123456789012345678901', '12a4', '-1', ' 1', '１２', '1.5');
    for (let i = 0; i < 5_000; i++) {
      const n = Math.floor(rnd() * 23);
      let id = '';
      for (let j = 0; j < n; j++) id += rnd() < 0.97 ? String(Math.floor(rnd() * 10)) : 'x';
      ids.push(id);
    }
    for (const id of ids) {
      const line = `{"id":"${id}"}`;
      expect([id, packInOf(line, 7, 7 + id.length)]).toEqual([id, packOf(id)]);
      const bytes = Buffer.from(line);
      const end = bytes.length - 2;
      const fromBytes = packIdBytes(bytes, 7, end) ? [packed.high, packed.low] : false;
      expect([id, fromBytes]).toEqual([id, packOf(id)]);
    }
  });
});

describe('TweetBatchBuilder', () => {
  it('uses the seeds of hashKeyH1 and hashKeyH2', () => {
    for (const author of ['1', '2971653495', '550441653777592880', 'é'])
      expect([murmur3(author, AUTHOR_SEED1), murmur3(author, AUTHOR_SEED2)]).toEqual([
        hashKeyH1(author),
        hashKeyH2(author),
      ]);
  });

  /** Every column of tweet i, read back through the batch's accessors (topics through `mirror`). */
  function row(b: TweetBatch, mirror: TopicMirror, i: number): unknown[] {
    return [
      tweetIdAt(b, i),
      b.timestamps[i],
      authorAt(b, i),
      b.authorHighs[i] === NO_AUTHOR ? -1 : b.authorH1[i],
      b.authorH2[i],
      mirror.topics(b.topicCodes, b.topicOffsets[i], b.topicOffsets[i + 1]),
      b.lateThresholds[i],
    ];
  }

  it('keeps every tweet through growth, packed or not, from strings or ranges of a line', () => {
    const rnd = prng(9);
    const fromStrings = new TweetBatchBuilder(1);
    const fromLines = new TweetBatchBuilder(3);
    // The bytes path gets codes of a dictionary, as the scanner's TopicCodeSink gives them.
    const dictionary = new TopicDictionary();
    const fromBytes = new TweetBatchBuilder(2, dictionary);
    const expected: unknown[][] = [];
    for (let i = 0; i < 500; i++) {
      const id = i % 50 === 7 ? `0${i}` : i % 61 === 3 ? `x${i}` : String(1477067041797046272n + BigInt(i));
      const pick = rnd();
      const author =
        pick < 0.1 ? undefined : pick < 0.15 ? `00${i}` : pick < 0.2 ? `@u${i}` : String(i * 7919);
      const topics = Array.from({ length: i % 4 }, (_, t) => `#t${(i + t) % 13}`);
      const ts = 1_640_995_200_000 + i * 17;
      const threshold = i % 3 === 0 ? Number.NEGATIVE_INFINITY : ts - 5000;
      fromStrings.add(id, ts, author, topics, threshold);
      const line = `{"id":"${id}","author_id":"${author ?? ''}"}`;
      const authorAtLine = line.indexOf('author_id') + 12;
      fromLines.addIn(
        line,
        7,
        7 + id.length,
        ts,
        author === undefined ? -1 : authorAtLine,
        authorAtLine + (author?.length ?? 0),
        [...topics, '#not-this-one'],
        topics.length,
        threshold,
      );
      const bytes = Buffer.from(line);
      fromBytes.addBytes(
        bytes,
        7,
        7 + id.length,
        ts,
        author === undefined ? -1 : authorAtLine,
        authorAtLine + (author?.length ?? 0),
        topics.map((t) => dictionary.codeOf(t)),
        topics.length,
        threshold,
      );
      const a = author ?? '';
      expected.push([
        id,
        ts,
        a,
        a === '' ? -1 : hashKeyH1(a),
        a === '' ? 0 : hashKeyH2(a),
        topics,
        threshold,
      ]);
    }
    for (const builder of [fromStrings, fromLines, fromBytes]) {
      const { batch, transfer } = builder.build();
      expect(tweetCount(batch)).toBe(500);
      expect(transfer).toHaveLength(3);
      // What the receiving worker gets: the numeric columns' buffers move, the strings are cloned.
      const received = structuredClone(batch, { transfer });
      expect(batch.timestamps.length).toBe(0);
      const mirror = new TopicMirror();
      mirror.apply(received);
      expect(Array.from({ length: 500 }, (_, i) => row(received, mirror, i))).toEqual(expected);
      // 13 distinct topics: each string crossed once.
      expect([...received.newTopics].sort()).toEqual(Array.from({ length: 13 }, (_, t) => `#t${t}`).sort());
      expect(received.otherIds).toEqual(expected.map((r) => r[0]).filter((id) => !packId(id as string)));
      expect(received.authorHighs.filter((h) => h === OTHER_AUTHOR)).toHaveLength(
        received.otherAuthors.length,
      );
    }
  });

  it('an author given as "" counts as none', () => {
    const b = new TweetBatchBuilder();
    b.add('5', 1, '', [], 0);
    const { batch } = b.build();
    expect([batch.authorHighs[0], authorAt(batch, 0), tweetIdAt(batch, 0)]).toEqual([NO_AUTHOR, '', '5']);
  });
});
