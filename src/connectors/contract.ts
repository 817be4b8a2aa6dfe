/**
 * The connector contract. Connectors depend on this module only, never on
 * runtime internals, so a connector can be replaced or added without touching
 * the runtime (after Flink's Source/SplitReader split and Arroyo's layout).
 *
 * Sources are planned on the main thread as splits (file byte ranges,
 * generator streams; later Kafka partitions and Kinesis shards) and read
 * inside worker threads, so raw bytes never cross threads.
 */

/** A unit of source work. Plain data: it is posted to worker threads and stored in checkpoints. */
export interface SplitDescriptor {
  /** Unique within the job and stable across runs (it keys checkpointed positions). */
  id: string;
  /** Connector scheme that reads it, e.g. "file". */
  connector: string;
  /** Connector-specific settings; must survive structured clone. */
  config: unknown;
  /** True when the split ends by itself (a file); false for unbounded streams. */
  bounded: boolean;
  /**
   * True when the runtime may leave the reader unpolled for a while, holding
   * no more than what it has read, so that this split's event time stays
   * within the runtime's watermark alignment of its worker's slowest split
   * (Flink's watermark alignment). File splits set it: the byte ranges of one
   * file start far apart in event time, and read together at full speed they
   * would keep a window open for every stretch of the file until its end.
   * Kafka partitions do not: their fetcher buffers for all of a worker's
   * partitions at once, so one unpolled partition would stall the others.
   */
  alignable?: boolean;
}

export interface RecordBatch {
  /**
   * Whole records (one JSON line each), without the line terminator. With
   * `raw`, a getter that makes them from it on first access.
   */
  lines: string[];
  /**
   * Records that could not be read as lines at all (longer than maxRecordBytes):
   * reported, truncated, for the dead-letter output.
   */
  oversize: { prefix: string; bytes: number }[];
  /**
   * Optional (sources that read bytes may set it, others need not): the
   * same records as `lines`, as UTF-8 byte ranges. A consumer that decodes
   * bytes itself reads this and never touches `lines`, so no string is made
   * per record (the file source sets it; the trending job reads it). The
   * buffers are the reader's and are reused: the ranges, and a `lines` made
   * from them, are valid until the next poll of any reader of the same
   * source in this thread (the source runner handles each batch before it
   * polls again, whichever split it polls).
   */
  raw?: RawRecords;
}

/** Records as byte ranges: record k is buffers[k][starts[k], ends[k]), UTF-8 (records share buffers). */
export interface RawRecords {
  buffers: Buffer[];
  starts: number[];
  ends: number[];
}

/** A batch of raw records whose `lines` are made from the bytes only if someone reads them. */
export function rawRecordBatch(
  raw: RawRecords,
  oversize: RecordBatch['oversize'],
): RecordBatch & { raw: RawRecords } {
  let lines: string[] | undefined;
  return {
    get lines(): string[] {
      if (lines === undefined) {
        lines = new Array<string>(raw.starts.length);
        for (let k = 0; k < lines.length; k++)
          lines[k] = raw.buffers[k].toString('utf8', raw.starts[k], raw.ends[k]);
      }
      return lines;
    },
    oversize,
    raw,
  };
}

export type PollResult = RecordBatch | 'idle' | 'end';

/** Structured log line from a connector; the runtime routes it to the job's logger (pino). */
export type ConnectorLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface SplitReaderContext {
  /** Longest record accepted, in bytes; longer ones are reported in RecordBatch.oversize. */
  maxRecordBytes: number;
  /** Processing-time clock in ms, injected for tests. */
  now(): number;
  /** Where the reader's own diagnostics go (a client library's logs); absent in unit tests. */
  log?: ConnectorLog;
}

/** Reads one split, inside a worker thread. */
export interface SplitReader {
  readonly split: SplitDescriptor;
  /**
   * The next batch, 'idle' when nothing is available right now (the caller
   * retries later), or 'end' once a bounded split is exhausted (then never again a batch).
   * `maxRecords` bounds the batch size. The worker's other stages wait while poll runs without
   * awaiting: it may block for a bounded local read (the file source does), never for data that
   * may not come (return 'idle' or await instead).
   */
  poll(maxRecords: number): Promise<PollResult>;
  /** Where reading would resume; plain data, stored in checkpoints. */
  position(): unknown;
  /** Stops reading early (unbounded splits on shutdown); after it, poll returns 'end'. */
  stop(): void;
  close(): Promise<void>;
}

export interface PlanContext {
  parallelism: number;
  /** Processing-time clock in ms. */
  now(): number;
  log?: ConnectorLog;
}

export interface SourceConnector {
  readonly scheme: string;
  /** Help text: URI form and options. */
  readonly usage: string;
  /** Main thread: validates the URI's options and cuts the input into splits. Throws OptionError on bad options. */
  planSplits(uri: ParsedUri, context: PlanContext): Promise<SplitDescriptor[]>;
  /**
   * Worker thread: a reader for one of the splits this connector planned,
   * resuming at `position` (a value its reader's position() returned, from a
   * checkpoint) when given.
   */
  createReader(split: SplitDescriptor, context: SplitReaderContext, position?: unknown): SplitReader;
  /**
   * Main thread, optional: checkpoint `checkpointId` is complete (its
   * metadata is written and the sink committed), with `positions` by split id
   * as its readers' position() returned them (null: the split had ended).
   * For side effects outside exactly-once, such as reporting consumed offsets
   * to the source system for lag monitoring. Not awaited by the job; a
   * failure is only logged. Must not keep the process alive afterwards.
   */
  /**
   * Main thread, optional, for sources whose splits grow while a job runs
   * (partitions added to a Kafka topic): every split the source has now,
   * polled every few seconds; the runtime hands splits it does not know yet
   * to a worker. A split found this way starts at its beginning. Errors are
   * logged and the next round tries again.
   */
  discoverSplits?(uri: ParsedUri, context: PlanContext): Promise<SplitDescriptor[]>;
  notifyCheckpointComplete?(
    uri: ParsedUri,
    checkpointId: number,
    positions: Record<string, unknown>,
    log: ConnectorLog,
  ): Promise<void>;
}

/** Output streams of a job; each sink keeps them apart. */
export type OutputKind = 'counts' | 'trends' | 'dead-letter';

/**
 * Writes job output on the main thread. Lines are complete JSON lines, each ending in '\n'.
 *
 * With checkpoints, output is written per epoch: epoch n is what the job
 * produced up to checkpoint n. A transactional sink stages each epoch where
 * readers do not see it, preCommit(n) makes the staged epoch durable, and
 * commit(n) (called only after checkpoint n's metadata is written) makes it
 * visible; commit must be idempotent, since a restore replays it.
 */
export interface SinkWriter {
  /** `epoch`: the checkpoint the output will belong to; undefined when the job runs without checkpoints. */
  write(kind: OutputKind, lines: string, epoch?: number): void;
  /**
   * Optional: write() for lines already encoded as UTF-8 (a worker's output,
   * which arrives as bytes), without making a string of them. `length`: the
   * lines' length as a string, in UTF-16 code units. The sink may keep
   * `bytes` until it calls `written` (once, also when the write fails): the
   * runtime holds back the worker's further output until then. Without it
   * the runtime decodes the bytes and calls write().
   */
  writeBytes?(
    kind: OutputKind,
    bytes: Uint8Array,
    length: number,
    epoch: number | undefined,
    written: () => void,
  ): void;
  /** True when the sink can stage and commit epochs (exactly once). */
  readonly transactional: boolean;
  preCommit?(epoch: number): Promise<void>;
  commit?(epoch: number): Promise<void>;
  /**
   * After a restore from checkpoint `epoch`: commits every staged epoch up to
   * it (a crash may have come between metadata and commit) and discards all
   * output of later epochs (a crashed run's, to be produced again).
   */
  recover?(epoch: number): Promise<void>;
  /** Flushes and closes every file or stream; the job exits only after it resolves. */
  close(): Promise<void>;
  /** Where the output goes, for logs. */
  describe(): string;
}

export interface SinkContext {
  log: ConnectorLog;
}

export interface SinkConnector {
  readonly scheme: string;
  readonly usage: string;
  open(uri: ParsedUri, context?: SinkContext): Promise<SinkWriter>;
}

/** "scheme:path?key=value&..." as the CLI takes it; "file:out", "generator?rate=100", "stdout". */
export interface ParsedUri {
  raw: string;
  scheme: string;
  /** Everything between "scheme:" and "?", percent-decoded; "" when absent. */
  path: string;
  params: Record<string, string>;
}

export function parseUri(raw: string): ParsedUri {
  const q = raw.indexOf('?');
  const head = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  const colon = head.indexOf(':');
  const scheme = (colon === -1 ? head : head.slice(0, colon)).toLowerCase();
  let path = colon === -1 ? '' : head.slice(colon + 1);
  if (path.startsWith('//') && scheme !== 'file') path = path.slice(2);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  return { raw, scheme, path: decodeURIComponent(path), params };
}
