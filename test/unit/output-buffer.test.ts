import { OutputBuffer } from '../../src/runtime/output-buffer';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('OutputBuffer', () => {
  it('gives back the lines as UTF-8 with their length as a string and their number', () => {
    const out = new OutputBuffer(1024);
    const lines = ['{"topic":"#a"}', '{"topic":"#ünïcödé"}', '{"topic":"#😀"}'];
    for (const l of lines) out.add(l);
    const joined = lines.map((l) => l + '\n').join('');
    expect(out.length).toBe(joined.length);
    const chunk = out.take();
    expect(chunk).toBeDefined();
    expect(text(chunk!.bytes)).toBe(joined);
    expect(chunk!.length).toBe(joined.length);
    expect(chunk!.records).toBe(3);
    expect(out.length).toBe(0);
    expect(out.take()).toBeUndefined();
  });

  it('grows past its capacity for long or multi-byte lines (pieces and the line that overflows)', () => {
    const out = new OutputBuffer(64);
    const lines = Array.from({ length: 3000 }, (_, i) => `${'é'.repeat(i % 50)}#${i}${'x'.repeat(i % 97)}`);
    for (const l of lines) out.add(l);
    out.add('€'.repeat(40_000));
    const chunk = out.take()!;
    expect(text(chunk.bytes)).toBe([...lines, '€'.repeat(40_000)].map((l) => l + '\n').join(''));
  });

  it('hands over a full chunk as a buffer of its own, and copies a small one keeping its buffer', () => {
    const given: ArrayBuffer[] = [];
    const out = new OutputBuffer(4096, (bytes) => {
      const b = new ArrayBuffer(bytes);
      given.push(b);
      return b;
    });
    out.add('x'.repeat(3000));
    const full = out.take()!;
    expect(full.bytes.buffer).toBe(given[0]);
    expect(full.bytes.byteOffset).toBe(0);
    out.add('small');
    const small = out.take()!;
    expect(given).toHaveLength(2);
    expect(small.bytes.buffer).not.toBe(given[1]);
    expect(small.bytes.buffer.byteLength).toBe(small.bytes.byteLength);
    expect(text(small.bytes)).toBe('small\n');
    // The kept buffer serves the next chunk: no new allocation.
    out.add('again');
    expect(text(out.take()!.bytes)).toBe('again\n');
    expect(given).toHaveLength(2);
  });

  it('can be transferred without copying', () => {
    const out = new OutputBuffer(100);
    out.add('y'.repeat(90));
    const { bytes } = out.take()!;
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    expect(bytes.byteLength).toBe(0);
    port1.close();
    port2.close();
  });
});
