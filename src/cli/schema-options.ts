import { Command, Option } from 'commander';
import type { Schema } from '../runtime/options';

/** commander's property name for a --kebab-case flag. */
export const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Adds one --flag per schema key (all of them, or `only`). Defaults stay in
 * the schema and are applied by parseOptions, so --help shows them but the
 * flags themselves carry none.
 */
export function addSchemaOptions(
  cmd: Command,
  schema: Schema,
  only: readonly string[] = Object.keys(schema),
): void {
  for (const key of only) {
    const spec = schema[key];
    const def = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    if (spec.type === 'boolean') cmd.addOption(new Option(`--${key}`, spec.doc + def));
    else cmd.addOption(new Option(`--${key} <value>`, spec.doc + def));
  }
}

/** The flags the user gave for the schema's keys (or `only`), keyed as the schema names them. */
export function pickSchemaOptions(
  schema: Schema,
  opts: Record<string, unknown>,
  only: readonly string[] = Object.keys(schema),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of only) if (key in schema && opts[camel(key)] !== undefined) out[key] = opts[camel(key)];
  return out;
}
