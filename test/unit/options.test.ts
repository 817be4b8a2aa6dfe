import { OptionError } from '../../src/runtime/errors';
import { parseBytes, parseDuration, parseOptions } from '../../src/runtime/options';
import { backoffDelay, withRetry } from '../../src/runtime/retry';
import { FloeError } from '../../src/runtime/errors';

const schema = {
  window: { type: 'duration', default: 60_000, min: 1, doc: 'w' },
  top: { type: 'int', default: 10, min: 1, max: 100, doc: 't' },
  cashtags: { type: 'boolean', default: false, doc: 'c' },
  mode: { type: 'enum', values: ['a', 'b'], default: 'a', doc: 'm' },
  size: { type: 'bytes', default: 1024, doc: 's' },
  start: { type: 'string', doc: 'optional text' },
} as const;

describe('parseDuration / parseBytes', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1m', 60_000],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    ['42', 42],
  ])('%s -> %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('rejects nonsense', () => {
    expect(parseDuration('banana')).toBeUndefined();
    expect(parseDuration('5 parsecs')).toBeUndefined();
  });

  it('reads binary sizes', () => {
    expect(parseBytes('64KB')).toBe(65536);
    expect(parseBytes('8mb')).toBe(8 * 1024 * 1024);
    expect(parseBytes('12')).toBe(12);
    expect(parseBytes('-1')).toBeUndefined();
  });
});

describe('parseOptions', () => {
  it('fills defaults and coerces text', () => {
    const o = parseOptions(schema, { window: '10s', top: '3', cashtags: 'true', size: '2KB' });
    expect(o).toEqual({ window: 10_000, top: 3, cashtags: true, mode: 'a', size: 2048, start: undefined });
  });

  it('rejects unknown keys, naming them and the known ones', () => {
    expect(() => parseOptions(schema, { windw: '1s' }, 'trending')).toThrow(
      /option trending\.windw: unknown option \(known: window, top/,
    );
    try {
      parseOptions(schema, { nope: 1 });
    } catch (err) {
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).code).toBe('UNKNOWN_OPTION');
      expect((err as OptionError).option).toBe('nope');
    }
  });

  it('names the option in every validation message', () => {
    expect(() => parseOptions(schema, { window: 'banana' })).toThrow(/option window: expected a duration/);
    expect(() => parseOptions(schema, { top: '2.5' })).toThrow(/option top: expected a whole number/);
    expect(() => parseOptions(schema, { top: '0' })).toThrow(/option top: must be at least 1/);
    expect(() => parseOptions(schema, { top: '101' })).toThrow(/option top: must be at most 100/);
    expect(() => parseOptions(schema, { mode: 'c' })).toThrow(/option mode: expected one of a, b/);
    expect(() => parseOptions(schema, { cashtags: 'yes' })).toThrow(
      /option cashtags: expected true or false/,
    );
  });
});

describe('withRetry', () => {
  it('retries retriable errors with capped exponential backoff and gives up after the attempts', async () => {
    const delays: number[] = [];
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new FloeError('SOURCE_IO', 'down', { retriable: true });
        },
        {
          attempts: 4,
          initialDelayMs: 100,
          maxDelayMs: 250,
          random: () => 1,
          sleep: async (ms) => void delays.push(ms),
        },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 250]);
  });

  it('does not retry errors that are not retriable', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new FloeError('INVALID_OPTION', 'bad');
        },
        { attempts: 5, initialDelayMs: 1, maxDelayMs: 1, sleep: async () => {} },
      ),
    ).rejects.toThrow('bad');
    expect(calls).toBe(1);
  });

  it('jitter stays within [0, cap]', () => {
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(200);
  });
});
