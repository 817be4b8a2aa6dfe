import pino, { Logger } from 'pino';

/**
 * Structured JSON logs (pino) on stderr for machines; readable lines when
 * stderr is a terminal, unless FLOE_LOG_FORMAT=json asks for JSON anyway.
 */
export function createLogger(level: string, format: 'auto' | 'json' | 'pretty' = 'auto'): Logger {
  const chosen =
    format === 'auto' ? (process.env.FLOE_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json')) : format;
  if (chosen === 'pretty') {
    // Loaded only for a terminal: ~30 ms of CPU at start-up that JSON logging never needs.
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(
      { level },
      pretty({ destination: 2, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}
