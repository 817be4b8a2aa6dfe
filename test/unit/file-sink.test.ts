import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseUri, SinkWriter } from '../../src/connectors/contract';
import { fileSink } from '../../src/connectors/file/file-sink';

const lines = (dir: string, kind: string): string[] =>
  readdirSync(path.join(dir, kind))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(dir, kind, f), 'utf8')
        .split('\n')
        .filter(Boolean),
    );

async function open(dir: string): Promise<SinkWriter> {
  return fileSink.open(parseUri(`file:${dir}`));
}

describe('file sink epochs (exactly once)', () => {
  it('keeps an epoch invisible until it is committed, and a second commit changes nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const sink = await open(dir);
    sink.write('counts', '{"a":1}\n', 1);
    sink.write('trends', '{"t":1}\n', 1);
    sink.write('counts', '{"a":2}\n', 2);
    await sink.preCommit?.(1);
    expect(lines(dir, 'counts')).toEqual([]);
    await sink.commit?.(1);
    expect(lines(dir, 'counts')).toEqual(['{"a":1}']);
    expect(lines(dir, 'trends')).toEqual(['{"t":1}']);
    await sink.commit?.(1);
    expect(lines(dir, 'counts')).toEqual(['{"a":1}']);
    await sink.close();
  });

  it('an epoch without output can be pre-committed and committed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const sink = await open(dir);
    await sink.preCommit?.(7);
    await sink.commit?.(7);
    expect(lines(dir, 'counts')).toEqual([]);
    await sink.close();
  });

  it('recover(n) commits staged epochs up to n and discards everything after n, staged or committed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const crashed = await open(dir);
    crashed.write('counts', '{"e":1}\n', 1);
    crashed.write('counts', '{"e":2}\n', 2);
    crashed.write('counts', '{"e":3}\n', 3);
    await crashed.preCommit?.(1);
    await crashed.preCommit?.(2);
    await crashed.preCommit?.(3);
    await crashed.commit?.(1);
    await crashed.commit?.(3); // as if a later run had committed 3 before crashing: restoring 2 must drop it
    await crashed.close();
    // A crash between checkpoint 2's metadata and its commit: 2 is staged, not visible.
    expect(lines(dir, 'counts')).toEqual(['{"e":1}', '{"e":3}']);

    const restarted = await open(dir);
    await restarted.recover?.(2);
    expect(lines(dir, 'counts')).toEqual(['{"e":1}', '{"e":2}']);
    expect(existsSync(path.join(dir, '.staging', 'epoch-0000000003'))).toBe(false);
    await restarted.close();
  });

  it('a staged file left by a crashed run of the same epoch is replaced, not appended to', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const first = await open(dir);
    first.write('counts', '{"old":1}\n', 4);
    await first.close();
    const second = await open(dir);
    await second.recover?.(3);
    second.write('counts', '{"new":1}\n', 4);
    await second.preCommit?.(4);
    await second.commit?.(4);
    expect(lines(dir, 'counts')).toEqual(['{"new":1}']);
    await second.close();
  });

  it('without epochs, each run writes its own part files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    writeFileSync(path.join(dir, 'keep.txt'), 'x');
    const sink = await open(dir);
    sink.write('dead-letter', '{"reason":"late"}\n');
    await sink.close();
    expect(readdirSync(path.join(dir, 'dead-letter'))[0]).toMatch(/^part-\d{8}T\d{9}Z-00000\.jsonl$/);
    expect(lines(dir, 'dead-letter')).toEqual(['{"reason":"late"}']);
  });

  it('close and preCommit wait for the part files they rolled past, not only the open ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const sink = await fileSink.open(parseUri(`file:${dir}?roll-size=1024`));
    // A big first part is still being written when the small second one ends.
    const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
    big[big.length - 1] = 0x0a;
    let written = 0;
    sink.writeBytes?.('counts', big, big.length, 7, () => written++);
    sink.writeBytes?.('counts', Buffer.from('{"small":1}\n'), 12, 7, () => written++);
    await sink.preCommit?.(7);
    expect(written).toBe(2);
    const staged = path.join(dir, '.staging', 'epoch-0000000007');
    expect(statSync(path.join(staged, 'counts-00000.jsonl')).size).toBe(big.length);
    await sink.commit?.(7);
    await sink.close();

    const plain = await fileSink.open(parseUri(`file:${dir}?roll-size=1024`));
    plain.writeBytes?.('dead-letter', big, big.length, undefined, () => written++);
    plain.write('dead-letter', '{"small":2}\n');
    await plain.close();
    expect(written).toBe(3);
    const parts = readdirSync(path.join(dir, 'dead-letter')).sort();
    expect(statSync(path.join(dir, 'dead-letter', parts[0])).size).toBe(big.length);
  });

  it('writes bytes like lines, rolls on their length as a string, and says when each is written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-sink-'));
    const sink = await fileSink.open(parseUri(`file:${dir}?roll-size=1024`));
    const line = `{"topic":"#${'é'.repeat(600)}"}\n`;
    let written = 0;
    // 1,214 bytes but 614 characters: the roll comes after the second write, as for the same string.
    sink.writeBytes?.('counts', Buffer.from(line), line.length, undefined, () => written++);
    sink.writeBytes?.('counts', Buffer.from(line), line.length, undefined, () => written++);
    sink.write('counts', line);
    await sink.close();
    expect(written).toBe(2);
    const files = readdirSync(path.join(dir, 'counts')).sort();
    expect(files).toHaveLength(2);
    expect(readFileSync(path.join(dir, 'counts', files[0]), 'utf8')).toBe(line + line);
    expect(lines(dir, 'counts')).toEqual([line, line, line].map((l) => l.trimEnd()));
  });
});
