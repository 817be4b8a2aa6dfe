import type { OutputKind } from '../connectors/contract';
import type { Clock } from './clock';
import type { OutputBuffer, OutputChunk } from './output-buffer';
import type { DeferredState, OperatorSnapshot, WorkerProgress, WorkerStart } from './protocol';
import type { SourceRunnerHandlers, SplitCheckpoint } from './source-runner';

/** What the runtime gives a job's worker side; the job never touches ports or readers directly. */
export interface WorkerContext<JobOptions> {
  readonly start: WorkerStart<JobOptions>;
  /** Counters the runtime reports to the main thread; the job updates them in place. */
  readonly progress: WorkerProgress;
  readonly clock: Clock;
  /**
   * Sends complete JSON lines (each ending in '\n', see OutputBuffer) to the
   * job's sink on the main thread. The chunk's buffer is transferred (unusable
   * here afterwards). Blocks while too much of this worker's output is not
   * written yet (see OutputWindow).
   */
  output(kind: OutputKind, chunk: OutputChunk): void;
  /** A buffer for output lines whose chunks (of about `capacity` bytes) reuse the ones the sink has written. */
  outputBuffer(capacity: number): OutputBuffer;
  /** Sends a job-specific message to the job's main side. */
  jobMessage(payload: unknown): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Reads this worker's splits until they end or the job stops. */
  runSources(handlers: SourceRunnerHandlers): Promise<void>;
  /**
   * Checkpoint `id` has passed every stage of this worker: reports its split
   * positions and operator state. Output sent before it belongs to epoch id.
   * State still being encoded comes as `deferred`, which the runtime sends
   * once it resolves (the job keeps processing meanwhile); `pauseMs` is how
   * long the barrier stopped processing (ms), for metrics.
   */
  acknowledge(ack: {
    id: number;
    splits: SplitCheckpoint[];
    operators: OperatorSnapshot[];
    deferred?: Promise<DeferredState>;
    pauseMs?: number;
    /** Keyed state entries held at the barrier, for metrics. */
    entries?: number;
  }): void;
}

export type WorkerJob = (ctx: WorkerContext<never>) => Promise<void>;
