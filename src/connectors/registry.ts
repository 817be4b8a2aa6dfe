import { OptionError } from '../runtime/errors';
import type { SinkConnector, SourceConnector } from './contract';

/*
 * Connectors by URI scheme, each loaded on first use: every worker thread loads
 * this registry, and a connector's module pulls in its client library (kafkajs
 * alone costs ~80 ms of CPU to load), which a job reading files never needs.
 * Each loader's connector names its own scheme; the registry test holds the keys
 * to it.
 */
const sourceLoaders: Record<string, () => SourceConnector> = {
  file: () => (require('./file/file-source') as typeof import('./file/file-source')).fileSource,
  generator: () =>
    (require('./generator/generator-source') as typeof import('./generator/generator-source'))
      .generatorSource,
  kafka: () => (require('./kafka/kafka-source') as typeof import('./kafka/kafka-source')).kafkaSource,
};

const sinkLoaders: Record<string, () => SinkConnector> = {
  file: () => (require('./file/file-sink') as typeof import('./file/file-sink')).fileSink,
  stdout: () => (require('./stdout/stdout-sink') as typeof import('./stdout/stdout-sink')).stdoutSink,
  kafka: () => (require('./kafka/kafka-sink') as typeof import('./kafka/kafka-sink')).kafkaSink,
};

export const sourceSchemes: readonly string[] = Object.keys(sourceLoaders);
export const sinkSchemes: readonly string[] = Object.keys(sinkLoaders);

export function sourceConnector(scheme: string): SourceConnector {
  const load = Object.hasOwn(sourceLoaders, scheme) ? sourceLoaders[scheme] : undefined;
  if (load === undefined) {
    throw new OptionError('source', `unknown source "${scheme}" (known: ${sourceSchemes.join(', ')})`);
  }
  return load();
}

export function sinkConnector(scheme: string): SinkConnector {
  const load = Object.hasOwn(sinkLoaders, scheme) ? sinkLoaders[scheme] : undefined;
  if (load === undefined) {
    throw new OptionError('sink', `unknown sink "${scheme}" (known: ${sinkSchemes.join(', ')})`);
  }
  return load();
}
