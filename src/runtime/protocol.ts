import type { MessagePort } from 'node:worker_threads';
import type { OutputKind, SplitDescriptor } from '../connectors/contract';
import type { SplitCheckpoint } from './source-runner';

/**
 * The typed message protocol between the main thread (the job runner) and
 * the worker slots, after piscina's typed tasks. Each slot is a one-thread
 * piscina pool running one long task: start() below. Everything here must
 * survive structured clone.
 */

/** The task a slot runs for the whole job. */
export interface WorkerStart<JobOptions = unknown> {
  index: number;
  parallelism: number;
  maxParallelism: number;
  /** Job name, resolved by the worker through the job registry. */
  job: string;
  jobOptions: JobOptions;
  /** Runtime settings every job shares. */
  runtime: RuntimeSettings;
  splits: SplitDescriptor[];
  /** To and from the main thread. */
  control: MessagePort;
  /** peers[j] talks to worker j; null at our own index. */
  peers: (MessagePort | null)[];
  /** This worker's output in flight to the sink, shared with the main thread (OutputWindow). */
  outputWindow: SharedArrayBuffer;
  /** Output buffers (ArrayBuffers) the main thread has written, given back for reuse; read with receiveMessageOnPort. */
  outputReturns: MessagePort;
  /** State to resume from (a checkpoint), for the splits and key groups this worker now owns. */
  restore?: WorkerRestore;
}

/** One stateful operator's part of a checkpoint, from one worker. */
export interface OperatorSnapshot {
  /** Operator name, unique in the job; names its checkpoint files. */
  operator: string;
  watermark: number;
  /** Key group -> state blob; key groups without state are absent. */
  keyGroups: [number, Uint8Array][];
  /**
   * Incremental state: what changed since this worker's previous checkpoint,
   * as one opaque blob over the worker's key groups. The coordinator keeps a
   * delta in every later checkpoint until the operator's watermark (the
   * minimum over workers) reaches expiresAt, and a restore hands the operator
   * every live delta overlapping its key groups.
   */
  delta?: { data: Uint8Array; expiresAt: number };
}

/** Checkpoint state a worker produces after acknowledging the barrier. */
export interface DeferredState {
  operators: OperatorSnapshot[];
  /** How long producing it blocked the worker's processing in all, ms. */
  busyMs: number;
  /** The longest of those blocks (the work yields to processing between them), ms. */
  longestSliceMs: number;
}

export interface WorkerRestore {
  /** Split id -> what the checkpoint recorded; splits not listed start from the beginning. */
  splits: Record<string, { position: unknown; maxTimestamp: number }>;
  /** Operator name -> the blobs of the key groups this worker owns, and the watermark to resume with. */
  operators: Record<string, { watermark: number; blobs: Uint8Array[]; deltas: Uint8Array[] }>;
}

export interface RuntimeSettings {
  outOfOrdernessMs: number;
  /** Watermark alignment of alignable splits, ms (see SourceRunnerOptions.alignmentMs); absent or 0: off. */
  watermarkAlignmentMs?: number;
  idleTimeoutMs: number;
  maxRecordBytes: number;
  /** Records per source poll; also the exchange batch size. */
  batchSize: number;
  /** Batches a sender may have unacknowledged per receiver (backpressure). */
  maxInFlight: number;
  /** How often workers report progress, ms. */
  progressIntervalMs: number;
  /** This run's local state directory (see local-state-dir.ts); worker k uses worker-k in it. None: state in memory only. */
  stateDir?: string;
  /** The job takes checkpoints: operators must keep what the next checkpoint needs. */
  checkpoints?: boolean;
  /** Report each advance of the source watermark with its wall time, for result-latency metrics. */
  reportWatermarkTimes?: boolean;
}

export type WorkerToMain =
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  /** Complete JSON lines as UTF-8 (transferred); `length`: as a string, in UTF-16 code units. */
  | { t: 'out'; kind: OutputKind; bytes: Uint8Array; length: number; records: number }
  | { t: 'job'; payload: unknown }
  | { t: 'progress'; progress: WorkerProgress }
  /** The source watermark reached `watermark` at wall time `at` (only with reportWatermarkTimes). */
  | { t: 'watermark-time'; watermark: number; at: number }
  /** Checkpoint `id` has passed every stage of this worker; its output before this message belongs to epoch id. */
  | {
      t: 'ack';
      id: number;
      splits: SplitCheckpoint[];
      operators: OperatorSnapshot[];
      /** A 'state' message for this checkpoint follows (state encoded while processing went on). */
      deferred: boolean;
      /** How long the barrier held up this worker's processing, ms. */
      pauseMs: number;
      /** Keyed state entries the worker held at the barrier (all operators), for metrics. */
      entries: number;
    }
  /**
   * The deferred part of a worker's checkpoint state; `busyMs`: how long
   * producing it kept the worker from processing. `error` when it could not be taken.
   */
  | {
      t: 'state';
      id: number;
      operators: OperatorSnapshot[];
      busyMs: number;
      longestSliceMs: number;
      error?: string;
    }
  /** Always the last message of a worker. */
  | { t: 'end' };

export interface WorkerProgress {
  /** Records read from the sources (lines; a v2 page counts once). */
  records: number;
  /** Tweets decoded. */
  tweets: number;
  deadLetters: number;
  late: number;
  duplicates: number;
  /** This worker's source watermark (min over its splits), ms or ±Infinity. */
  sourceWatermark: number;
  /** Watermark of this worker's window stage. */
  windowWatermark: number;
}

export type MainToWorker =
  | { t: 'stop' }
  | { t: 'checkpoint'; id: number }
  /** Splits discovered while the job runs (SourceConnector.discoverSplits), now this worker's. */
  | { t: 'add-splits'; splits: SplitDescriptor[] };

/**
 * When a worker's sources reached a phase, as epoch milliseconds with
 * sub-millisecond precision (performance.timeOrigin + performance.now(),
 * comparable across threads); null when the phase never came.
 */
export interface WorkerTimeline {
  /** Its first batch of records was handed to the job. */
  firstRecordAt: number | null;
  /** Its source runner ended: every split done (bounded sources) or stopped. */
  sourcesDoneAt: number | null;
}

/** What a slot's task resolves to. */
export interface WorkerSummary {
  index: number;
  progress: WorkerProgress;
  timeline: WorkerTimeline;
}
