import { OptionError } from '../runtime/errors';
import type { SinkConnector, SourceConnector } from './contract';
import { fileSink } from './file/file-sink';
import { fileSource } from './file/file-source';
import { generatorSource } from './generator/generator-source';
import { kafkaSink } from './kafka/kafka-sink';
import { kafkaSource } from './kafka/kafka-source';
import { stdoutSink } from './stdout/stdout-sink';

/** Every connector by URI scheme. Workers load this too, to create split readers. */
export const sourceConnectors: Record<string, SourceConnector> = {
  [fileSource.scheme]: fileSource,
  [generatorSource.scheme]: generatorSource,
  [kafkaSource.scheme]: kafkaSource,
};

export const sinkConnectors: Record<string, SinkConnector> = {
  [fileSink.scheme]: fileSink,
  [stdoutSink.scheme]: stdoutSink,
  [kafkaSink.scheme]: kafkaSink,
};

export function sourceConnector(scheme: string): SourceConnector {
  const c = sourceConnectors[scheme];
  if (c === undefined) {
    throw new OptionError(
      'source',
      `unknown source "${scheme}" (known: ${Object.keys(sourceConnectors).join(', ')})`,
    );
  }
  return c;
}

export function sinkConnector(scheme: string): SinkConnector {
  const c = sinkConnectors[scheme];
  if (c === undefined) {
    throw new OptionError(
      'sink',
      `unknown sink "${scheme}" (known: ${Object.keys(sinkConnectors).join(', ')})`,
    );
  }
  return c;
}
