import type { Options, SingleBar } from 'cli-progress';

/** A terminal progress bar; cli-progress loads only when one is shown (every command paid ~5 ms for it). */
export function progressBar(options: Options): SingleBar {
  const { Presets, SingleBar: Bar } = require('cli-progress') as typeof import('cli-progress');
  return new Bar(options, Presets.shades_classic);
}
