import { OptionError } from './errors';

/**
 * Option schemas: every component declares its options once, with defaults,
 * and validates what the user gave at startup. Unknown keys are rejected so a
 * typo never silently falls back to a default.
 */
export type FieldSpec =
  | { type: 'int'; default?: number; min?: number; max?: number; doc: string }
  | { type: 'number'; default?: number; min?: number; max?: number; doc: string }
  | { type: 'duration'; default?: number; min?: number; doc: string }
  | { type: 'bytes'; default?: number; min?: number; doc: string }
  | { type: 'string'; default?: string; doc: string }
  | { type: 'boolean'; default?: boolean; doc: string }
  | { type: 'enum'; values: readonly string[]; default?: string; doc: string };

export type Schema = Record<string, FieldSpec>;

type ValueOf<F extends FieldSpec> = F extends { type: 'string' | 'enum' }
  ? string
  : F extends { type: 'boolean' }
    ? boolean
    : number;

export type Parsed<S extends Schema> = {
  [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "5s", "1m", "1.5h", "2d"; a bare number is milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']);
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses "512", "64KB", "8MB", "1GB" (binary multiples). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]);
}

function coerce(name: string, spec: FieldSpec, raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw : undefined;
  switch (spec.type) {
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : text !== undefined && text.trim() !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
        throw new OptionError(
          name,
          `expected ${spec.type === 'int' ? 'a whole number' : 'a number'}, got ${JSON.stringify(raw)}`,
        );
      }
      if (spec.min !== undefined && n < spec.min)
        throw new OptionError(name, `must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max)
        throw new OptionError(name, `must be at most ${spec.max}, got ${n}`);
      return n;
    }
    case 'duration': {
      const n = typeof raw === 'number' ? raw : text !== undefined ? parseDuration(text) : undefined;
      if (n === undefined)
        throw new OptionError(
          name,
          `expected a duration like 500ms, 5s, 1m, 24h; got ${JSON.stringify(raw)}`,
        );
      if (spec.min !== undefined && n < spec.min)
        throw new OptionError(name, `must be at least ${spec.min} ms, got ${n} ms`);
      return n;
    }
    case 'bytes': {
      const n = typeof raw === 'number' ? raw : text !== undefined ? parseBytes(text) : undefined;
      if (n === undefined)
        throw new OptionError(name, `expected a size like 4096, 64KB, 8MB; got ${JSON.stringify(raw)}`);
      if (spec.min !== undefined && n < spec.min)
        throw new OptionError(name, `must be at least ${spec.min} bytes, got ${n}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (text === 'true' || text === '1' || text === '') return true;
      if (text === 'false' || text === '0') return false;
      throw new OptionError(name, `expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'enum': {
      if (text === undefined || !spec.values.includes(text)) {
        throw new OptionError(name, `expected one of ${spec.values.join(', ')}; got ${JSON.stringify(raw)}`);
      }
      return text;
    }
    case 'string':
      if (text === undefined) throw new OptionError(name, `expected text, got ${JSON.stringify(raw)}`);
      return text;
  }
}

/**
 * Validates `input` against `schema`: unknown keys are rejected, values are
 * coerced from text (CLI flags, URI query strings), defaults fill the rest.
 * `prefix` names where the options came from in error messages (e.g. "generator").
 */
export function parseOptions<S extends Schema>(
  schema: S,
  input: Record<string, unknown>,
  prefix = '',
): Parsed<S> {
  const label = (key: string): string => (prefix ? `${prefix}.${key}` : key);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in schema)) {
      const known = Object.keys(schema).join(', ');
      throw new OptionError(label(key), `unknown option (known: ${known})`, 'UNKNOWN_OPTION');
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const raw = input[key];
    out[key] = raw === undefined ? spec.default : coerce(label(key), spec, raw);
  }
  return out as Parsed<S>;
}
