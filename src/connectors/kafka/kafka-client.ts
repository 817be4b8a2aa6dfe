/**
 * The one place that knows the Kafka client library (kafkajs): creating
 * clients, routing their logs, mapping their errors to FloeError. The
 * source, sink and `floe produce` go through here, so another client could
 * replace kafkajs behind the same few functions.
 */
import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import { FloeError, type FloeErrorCode } from '../../runtime/errors';
import { withRetry } from '../../runtime/retry';
import type { ConnectorLog } from '../contract';

/**
 * kafkajs logs every failed connection attempt as an error, even those its
 * retries then get past (a broker restart), so its levels shift down one
 * step: what stops the job surfaces as an exception, not as a log line.
 */
function logCreator(log: ConnectorLog | undefined) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry): void => {
      if (log === undefined) return;
      const fields: Record<string, unknown> = { ...entry };
      // pino stamps its own time; kafkajs' logger name is the namespace.
      delete fields.message;
      delete fields.timestamp;
      delete fields.logger;
      const message = entry.message;
      const mapped = level <= logLevel.ERROR ? 'warn' : level === logLevel.WARN ? 'info' : 'debug';
      log(mapped, `kafka: ${String(message)}`, { kafka: namespace, ...fields });
    };
}

export interface ClientOptions {
  brokers: string[];
  clientId: string;
  log?: ConnectorLog;
  /** kafkajs' own retries per request (a restarted broker needs some). */
  retries?: number;
}

export function createKafka(options: ClientOptions): Kafka {
  return new Kafka({
    brokers: options.brokers,
    clientId: options.clientId,
    logLevel: process.env.FLOE_KAFKA_DEBUG === '1' ? logLevel.DEBUG : logLevel.WARN,
    logCreator: logCreator(options.log),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { retries: options.retries ?? 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}

/**
 * kafkajs errors that a broker coming back cures, although kafkajs calls
 * some of them non-retriable (it gives up on finding a coordinator while the
 * only broker restarts).
 */
const TRANSIENT = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

/** kafkajs marks errors it would retry; so do we, plus those a restarted broker cures. */
export function kafkaRetriable(err: unknown): boolean {
  if (err instanceof FloeError) return err.retriable;
  const e = err as { retriable?: boolean; name?: string; cause?: unknown } | undefined;
  if (e?.retriable === true) return true;
  if (e?.name !== undefined && TRANSIENT.has(e.name)) return true;
  if (e?.name === 'KafkaJSNonRetriableError' && e.cause !== undefined) return kafkaRetriable(e.cause);
  return false;
}

export function kafkaError(code: FloeErrorCode, what: string, err: unknown): FloeError {
  if (err instanceof FloeError) return err;
  const message = (err as Error)?.message ?? String(err);
  return new FloeError(code, `${what}: ${message}`, { retriable: kafkaRetriable(err), cause: err });
}

/**
 * An admin client connected to the cluster, after at most `attempts` tries
 * (exponential backoff with jitter): a broker unreachable at start is a
 * clear error after bounded retries, never a hang.
 */
export async function connectAdmin(
  kafka: Kafka,
  brokers: string[],
  attempts: number,
  code: FloeErrorCode,
  log?: ConnectorLog,
): Promise<Admin> {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 } });
  try {
    await withRetry(
      async () => {
        await admin.connect();
        // connect() succeeds lazily in some failure modes; metadata proves the broker answers.
        await admin.describeCluster();
      },
      {
        attempts,
        initialDelayMs: 500,
        maxDelayMs: 5000,
        retryOn: () => true,
        onRetry: (err, attempt, delayMs) =>
          log?.('warn', 'kafka: broker not reachable yet, retrying', {
            brokers,
            attempt,
            delayMs,
            error: (err as Error)?.message,
          }),
      },
    );
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw new FloeError(
      code,
      `cannot reach Kafka at ${brokers.join(',')} after ${attempts} attempts: ${(err as Error)?.message ?? String(err)}`,
      { retriable: true, cause: err },
    );
  }
  return admin;
}
