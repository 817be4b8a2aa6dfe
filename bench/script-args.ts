/** `--name value` from this process's arguments, or `fallback` (for the stand-alone micro-benchmark scripts). */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
