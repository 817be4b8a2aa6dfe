/**
 * The one module of typed errors. Every error Floe raises on purpose carries a
 * stable code (for logs, metrics and tests) and says whether retrying the same
 * operation may succeed.
 */
export type FloeErrorCode =
  | 'INVALID_OPTION'
  | 'UNKNOWN_OPTION'
  | 'INVALID_URI'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_IO'
  | 'SINK_IO'
  | 'WORKER_FAILED'
  | 'JOB_ABORTED'
  | 'CHECKPOINT_MISSING'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_IO'
  | 'CHECKPOINT_FAILED'
  | 'STATE_CORRUPT'
  | 'STATE_IO';

export class FloeError extends Error {
  readonly code: FloeErrorCode;
  readonly retriable: boolean;

  constructor(code: FloeErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FloeError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A user-supplied option is missing, malformed or out of range. Never retriable. */
export class OptionError extends FloeError {
  readonly option: string;
  constructor(option: string, message: string, code: FloeErrorCode = 'INVALID_OPTION') {
    super(code, `option ${option}: ${message}`);
    this.name = 'OptionError';
    this.option = option;
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof FloeError && err.retriable;
}
