import { promises as fsp } from 'node:fs';
import { Command } from 'commander';
import { parseUri } from '../connectors/contract';
import { kafkaProduceSchema, parseKafkaAddress } from '../connectors/kafka/kafka-options';
import { FloeError, OptionError } from '../runtime/errors';
import { parseOptions } from '../runtime/options';
import { progressBar } from './progress-bar';
import { addSchemaOptions, pickSchemaOptions } from './schema-options';

/** `floe produce FILE --to kafka://HOST:PORT/TOPIC`: loads JSON-lines tweets into a topic, for benchmarks and demos. */
export function produceCommand(): Command {
  const cmd = new Command('produce')
    .description('load JSON-lines tweets (a file; .gz decompressed) into a Kafka topic, keyed by tweet id')
    .argument('<file>', 'JSON lines, one tweet per line')
    .requiredOption('--to <uri>', 'kafka://HOST:PORT/TOPIC (the topic is created when missing)');
  addSchemaOptions(cmd, kafkaProduceSchema);
  cmd.action(async (file: string, opts: Record<string, unknown>) => {
    const uri = parseUri(String(opts.to));
    if (uri.scheme !== 'kafka')
      throw new OptionError('to', `expected kafka://HOST:PORT/TOPIC, got ${uri.raw}`);
    if (Object.keys(uri.params).length > 0)
      throw new OptionError('to', `takes no ?options (got ${Object.keys(uri.params).join(', ')})`);
    const to = parseKafkaAddress(uri, 'to');
    const o = parseOptions(kafkaProduceSchema, pickSchemaOptions(kafkaProduceSchema, opts));
    let size: number;
    try {
      size = (await fsp.stat(file)).size;
    } catch (err) {
      throw new FloeError('SOURCE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`);
    }
    // kafkajs' transient complaints (a coordinator still loading) are not the user's business; failures are.
    const { createLogger } = await import('../runtime/logger');
    const log = createLogger('error');
    const bar = process.stderr.isTTY
      ? progressBar({
          stream: process.stderr,
          format: '{bar} {percentage}% | {records} records | {rate}/s | eta {eta}s',
        })
      : null;
    const started = Date.now();
    bar?.start(size, 0, { records: 0, rate: 0 });
    // Loaded here, not at start-up: kafkajs costs every other command ~40 ms of CPU.
    const { produceFile } =
      require('../connectors/kafka/kafka-producer') as typeof import('../connectors/kafka/kafka-producer');
    const result = await produceFile(file, to, {
      partitions: o.partitions,
      batchSize: o['batch-size'],
      connectAttempts: o['connect-attempts'],
      log: (level, msg, fields) => log[level](fields ?? {}, msg),
      onProgress: (records, bytes) =>
        bar?.update(bytes, {
          records,
          rate: Math.round(records / Math.max(0.001, (Date.now() - started) / 1000)),
        }),
    }).finally(() => bar?.stop());
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `produced ${result.records} records (${(result.bytes / 1024 / 1024).toFixed(1)} MB) to ${to.topic} ` +
        `(${result.partitions} partitions${result.createdTopic ? ', created' : ''}) in ${seconds.toFixed(1)} s, ` +
        `${Math.round(result.records / Math.max(seconds, 0.001))} records/s\n`,
    );
  });
  return cmd;
}
