import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseUri, type RawRecords, SplitReader } from '../../src/connectors/contract';
import { fileSource, piecesOf } from '../../src/connectors/file/file-source';
import { LineSplitter, recordCount, SplitterOutput } from '../../src/connectors/file/line-splitter';
import { mulberry32 } from '../support/prng';

const context = { maxRecordBytes: 1 << 20, now: () => 0 };

async function readAll(reader: SplitReader, batch = 7): Promise<{ lines: string[]; oversize: number[] }> {
  const lines: string[] = [];
  const oversize: number[] = [];
  for (;;) {
    const r = await reader.poll(batch);
    if (r === 'end') break;
    if (r === 'idle') throw new Error('a file split is never idle');
    lines.push(...r.lines);
    oversize.push(...r.oversize.map((o) => o.bytes));
  }
  await reader.close();
  return { lines, oversize };
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'floe-file-'));
}

describe('file source splits', () => {
  const dir = tempDir();
  // Lines of varied length, some multi-byte, so split points land everywhere.
  const lines = Array.from(
    { length: 2000 },
    (_, i) => `{"n":${i},"t":"${'é'.repeat(i % 37)}${'x'.repeat((i * 7) % 91)}"}`,
  );
  const file = path.join(dir, 'lines.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');

  it.each(['1KB', '1537', '4KB', '64KB', '8MB'])(
    'every line is read exactly once with split-size %s',
    async (size) => {
      const splits = await fileSource.planSplits(parseUri(`file:${file}?split-size=${size}`), {
        parallelism: 2,
        now: () => 0,
      });
      const got: string[] = [];
      for (const s of splits) got.push(...(await readAll(fileSource.createReader(s, context))).lines);
      expect(got).toEqual(lines);
    },
  );

  it('a line longer than several splits is read once, by the split it starts in', async () => {
    const f = path.join(tempDir(), 'long.jsonl');
    const long = ['short-a', 'L'.repeat(10_000), 'short-b', 'short-c'];
    writeFileSync(f, long.join('\n') + '\n');
    const splits = await fileSource.planSplits(parseUri(`file:${f}?split-size=1KB`), {
      parallelism: 1,
      now: () => 0,
    });
    expect(splits.length).toBeGreaterThan(5);
    const got: string[] = [];
    for (const s of splits) got.push(...(await readAll(fileSource.createReader(s, context))).lines);
    expect(got).toEqual(long);
  });

  it('cuts a plain file into one split, or a multiple of 12 of about split-size, whatever the parallelism', async () => {
    expect([piecesOf(100, 1000), piecesOf(1000, 1000), piecesOf(1001, 1000), piecesOf(33_000, 1000)]).toEqual(
      [1, 1, 12, 36],
    );
    for (const parallelism of [1, 2, 3]) {
      const splits = await fileSource.planSplits(parseUri(`file:${file}?split-size=4KB`), {
        parallelism,
        now: () => 0,
      });
      expect(splits.length % 12).toBe(0);
      // Equal shares: no worker gets a split more than another.
      const sizes = splits.map((s) => {
        const c = s.config as { start: number; end: number };
        return c.end - c.start;
      });
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('split ids are stable and distinct', async () => {
    const a = await fileSource.planSplits(parseUri(`file:${file}?split-size=4KB`), {
      parallelism: 2,
      now: () => 0,
    });
    const b = await fileSource.planSplits(parseUri(`file:${file}?split-size=4KB`), {
      parallelism: 4,
      now: () => 0,
    });
    expect(a.map((s) => s.id)).toEqual(b.map((s) => s.id));
    expect(new Set(a.map((s) => s.id)).size).toBe(a.length);
  });

  it('reads a file without a final newline, CRLF lines and blank lines', async () => {
    const f = path.join(tempDir(), 'crlf.jsonl');
    writeFileSync(f, 'a\r\n\r\nb\n\nc');
    const [split] = await fileSource.planSplits(parseUri(`file:${f}`), { parallelism: 1, now: () => 0 });
    expect((await readAll(fileSource.createReader(split, context))).lines).toEqual(['a', 'b', 'c']);
  });

  it('bounds every batch by maxRecords and reports the offset of the next unread line', async () => {
    const f = path.join(tempDir(), 'twelve.jsonl');
    const twelve = Array.from({ length: 12 }, (_, i) => `line-${i}`);
    writeFileSync(f, twelve.join('\n') + '\n');
    const [split] = await fileSource.planSplits(parseUri(`file:${f}`), { parallelism: 1, now: () => 0 });
    const reader = fileSource.createReader(split, context);
    const first = await reader.poll(5);
    expect(first !== 'end' && first !== 'idle' && first.lines).toEqual(twelve.slice(0, 5));
    expect(reader.position()).toEqual({ offset: twelve.slice(0, 5).join('\n').length + 1 });
    const second = await reader.poll(1);
    expect(second !== 'end' && second !== 'idle' && second.lines).toEqual(['line-5']);
    expect((await readAll(reader)).lines).toEqual(twelve.slice(6));
  });

  it('drops a byte order mark and skips whitespace-only lines', async () => {
    const f = path.join(tempDir(), 'bom.jsonl');
    writeFileSync(f, '\uFEFF{"a":1}\n   \n\t\n{"b":2}\n');
    const [split] = await fileSource.planSplits(parseUri(`file:${f}`), { parallelism: 1, now: () => 0 });
    expect((await readAll(fileSource.createReader(split, context))).lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('reads gzip files as one split', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'a.jsonl.gz'), gzipSync(lines.join('\n') + '\n'));
    writeFileSync(path.join(d, 'b.jsonl'), 'tail\n');
    writeFileSync(path.join(d, 'ignored.csv'), 'x\n');
    const splits = await fileSource.planSplits(parseUri(`file:${d}`), { parallelism: 2, now: () => 0 });
    expect(splits.map((s) => s.id)).toEqual(['file:a.jsonl.gz', 'file:b.jsonl@0']);
    const got: string[] = [];
    for (const s of splits) got.push(...(await readAll(fileSource.createReader(s, context), 333)).lines);
    expect(got).toEqual([...lines, 'tail']);
  });

  it('reports oversize lines without buffering them and keeps reading', async () => {
    const f = path.join(tempDir(), 'big.jsonl');
    writeFileSync(f, `small1\n${'y'.repeat(5000)}\nsmall2\n`);
    const [split] = await fileSource.planSplits(parseUri(`file:${f}`), { parallelism: 1, now: () => 0 });
    const r = await readAll(fileSource.createReader(split, { ...context, maxRecordBytes: 100 }));
    expect(r.lines).toEqual(['small1', 'small2']);
    expect(r.oversize).toEqual([5000]);
  });

  it('fails clearly on a missing path and on unknown options', async () => {
    await expect(
      fileSource.planSplits(parseUri('file:/no/such/file'), { parallelism: 1, now: () => 0 }),
    ).rejects.toThrow(/cannot read \/no\/such\/file/);
    await expect(
      fileSource.planSplits(parseUri(`file:${file}?splitsize=1`), { parallelism: 1, now: () => 0 }),
    ).rejects.toThrow(/option file\.splitsize: unknown option/);
  });
});

describe('LineSplitter', () => {
  it('joins lines across chunks, byte by byte', () => {
    const text = Buffer.from('héllo\nwörld\n東京\n');
    const s = new LineSplitter(1000);
    const out: SplitterOutput = { lines: [], oversize: [] };
    for (let i = 0; i < text.length; i++) s.push(text.subarray(i, i + 1), out);
    s.finish(out);
    expect(out.lines).toEqual(['héllo', 'wörld', '東京']);
  });

  it('keeps a prefix of an oversize line that spans chunks', () => {
    const s = new LineSplitter(10);
    const out: SplitterOutput = { lines: [], oversize: [] };
    s.push(Buffer.from('0123456789abc'), out);
    s.push(Buffer.from('def\nok\n'), out);
    expect(out.lines).toEqual(['ok']);
    expect(out.oversize).toEqual([{ prefix: '0123456789abc', bytes: 16 }]);
  });
});

describe('LineSplitter, raw (byte ranges)', () => {
  /** The records of `input` pushed in pieces of the given sizes, as strings or decoded from ranges, plus oversize. */
  function split(input: Buffer, pieces: number[], raw: boolean): { lines: string[]; oversize: unknown[] } {
    const s = new LineSplitter(24, true, raw);
    const out: SplitterOutput = raw
      ? { lines: [], oversize: [], raw: { buffers: [], starts: [], ends: [] } }
      : { lines: [], oversize: [] };
    let at = 0;
    for (let k = 0; at < input.length; k++) {
      // Each piece a copy, as each file read is a buffer of its own.
      const piece = Buffer.from(input.subarray(at, at + pieces[k % pieces.length]));
      let used = 0;
      while (used < piece.length) used += s.push(piece.subarray(used), out, 3 + recordCount(out));
      at += piece.length;
    }
    s.finish(out);
    const lines = raw
      ? (out.raw as RawRecords).starts.map((from, k) =>
          (out.raw as RawRecords).buffers[k].toString('utf8', from, (out.raw as RawRecords).ends[k]),
        )
      : out.lines;
    return { lines, oversize: out.oversize };
  }

  it('gives the records the string splitter gives, on random inputs and chunkings', () => {
    const rnd = mulberry32(4);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
    const parts = ['{"a":1}', 'héllo', '東京', ' ', '\t', '\r', '\u00a0', '\u3000', '\uFEFF', 'x', '"', '\\'];
    const bytes = [0x80, 0xc3, 0xef, 0xbb, 0xbf, 0xff, 0x0d, 0x20];
    for (let round = 0; round < 500; round++) {
      const chunks: Buffer[] = [];
      if (rnd() < 0.3) chunks.push(Buffer.from([0xef, 0xbb, 0xbf]));
      const lineCount = Math.floor(rnd() * 12);
      for (let l = 0; l < lineCount; l++) {
        const n = Math.floor(rnd() * 8);
        for (let i = 0; i < n; i++)
          chunks.push(rnd() < 0.15 ? Buffer.from([pick(bytes)]) : Buffer.from(pick(parts)));
        if (l < lineCount - 1 || rnd() < 0.5) chunks.push(Buffer.from(rnd() < 0.2 ? '\r\n' : '\n'));
      }
      const input = Buffer.concat(chunks);
      const pieces = [1 + Math.floor(rnd() * 40), 1 + Math.floor(rnd() * 5)];
      expect([input.toString('hex'), split(input, pieces, true)]).toEqual([
        input.toString('hex'),
        split(input, pieces, false),
      ]);
    }
  });

  it('the file source hands out raw records, and lines made from them on demand', async () => {
    const f = path.join(tempDir(), 'raw.jsonl');
    writeFileSync(f, '{"a":1}\nhé\n\n{"b":2}\n');
    const [split1] = await fileSource.planSplits(parseUri(`file:${f}`), { parallelism: 1, now: () => 0 });
    const batch = await fileSource.createReader(split1, context).poll(10);
    if (batch === 'end' || batch === 'idle') throw new Error('expected a batch');
    const raw = batch.raw as RawRecords;
    expect(raw.starts.map((from, k) => raw.buffers[k].toString('utf8', from, raw.ends[k]))).toEqual([
      '{"a":1}',
      'hé',
      '{"b":2}',
    ]);
    expect(batch.lines).toEqual(['{"a":1}', 'hé', '{"b":2}']);
  });

  it('recycles read buffers between polls without corrupting lines, with splits polled in turn', async () => {
    // Over 1 MB (a read) per split, lines of varying length and multi-byte characters straddling reads.
    const f = path.join(tempDir(), 'big.jsonl');
    const lines = Array.from({ length: 40_000 }, (_, i) => `{"n":${i},"s":"${'é東x'.repeat(i % 37)}"}`);
    writeFileSync(f, lines.join('\n') + '\n');
    const splits = await fileSource.planSplits(parseUri(`file:${f}?split-size=1500000`), {
      parallelism: 1,
      now: () => 0,
    });
    expect(splits.length).toBeGreaterThan(2);
    const readers = splits.map((split) => fileSource.createReader(split, context));
    const read: string[][] = readers.map(() => []);
    let open = readers.length;
    while (open > 0) {
      open = 0;
      for (let r = 0; r < readers.length; r++) {
        const batch = await readers[r].poll(977);
        if (batch === 'end') continue;
        open++;
        if (batch === 'idle') throw new Error('a file split is never idle');
        // As the job reads them: the raw ranges, before the next poll.
        const raw = batch.raw as RawRecords;
        for (let k = 0; k < raw.starts.length; k++)
          read[r].push(raw.buffers[k].toString('utf8', raw.starts[k], raw.ends[k]));
      }
    }
    for (const reader of readers) await reader.close();
    expect(read.flat()).toEqual(lines);
  });
});
