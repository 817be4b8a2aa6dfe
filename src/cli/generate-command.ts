import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import { Command } from 'commander';
import { generatorSourceSchema } from '../connectors/generator/generator-options';
import { OptionError } from '../runtime/errors';
import { parseOptions } from '../runtime/options';
import { progressBar } from './progress-bar';
import { addSchemaOptions, pickSchemaOptions } from './schema-options';

const CHUNK_BYTES = 1 << 20;
/** The generator options that make sense for a file (rate and duration do not). */
const FILE_KEYS = [
  'seed',
  'events-per-second',
  'start',
  'disorder',
  'duplicates',
  'topics',
  'topic-distribution',
  'authors',
  'v1-share',
] as const;

/** `floe generate`: synthetic tweets into a JSON-lines file (gzip when it ends in .gz), for benchmarks and demos. */
export function generateCommand(): Command {
  const cmd = new Command('generate')
    .description('write synthetic tweets as JSON lines (the generator source, to a file)')
    .requiredOption('--count <n>', 'number of tweets')
    .requiredOption('--out <file>', 'output file; .gz compresses');
  addSchemaOptions(cmd, generatorSourceSchema, FILE_KEYS);
  cmd.action(async (opts: Record<string, string>) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1)
      throw new OptionError('count', `expected a whole number >= 1, got ${opts.count}`);
    const raw = pickSchemaOptions(generatorSourceSchema, opts, FILE_KEYS);
    const o = parseOptions(generatorSourceSchema, raw, 'generate');
    const startMs = o.start === undefined ? Date.parse('2022-01-01T00:00:00Z') : Date.parse(o.start);
    if (Number.isNaN(startMs))
      throw new OptionError('start', `expected an ISO-8601 time, got ${JSON.stringify(o.start)}`);
    // Loaded here, not at start-up: its tables cost every other command ~35 ms of CPU.
    const { defaultGeneratorOptions, TweetGenerator } =
      require('../connectors/generator/tweet-generator') as typeof import('../connectors/generator/tweet-generator');
    const gen = new TweetGenerator({
      ...defaultGeneratorOptions,
      seed: o.seed,
      splitIndex: 0,
      splitCount: 1,
      startMs,
      eventsPerSecond: o['events-per-second'] ?? 10_000,
      disorderMs: o.disorder,
      duplicateRate: o.duplicates,
      topics: o.topics,
      topicDistribution: o['topic-distribution'] as 'zipf' | 'cycle',
      authors: o.authors,
      v1Share: o['v1-share'],
    });
    const file = createWriteStream(opts.out);
    const gzip = opts.out.endsWith('.gz') ? createGzip() : null;
    if (gzip) gzip.pipe(file);
    const out = gzip ?? file;
    const bar = process.stderr.isTTY ? progressBar({ stream: process.stderr }) : null;
    bar?.start(count, 0);
    let written = 0;
    while (written < count) {
      const { bytes, lines } = gen.nextChunk(CHUNK_BYTES, count - written);
      written += lines;
      if (!out.write(bytes)) await once(out, 'drain');
      bar?.update(written);
    }
    bar?.stop();
    out.end();
    await once(file, 'finish');
    process.stderr.write(`wrote ${written} tweets to ${opts.out}\n`);
  });
  return cmd;
}
