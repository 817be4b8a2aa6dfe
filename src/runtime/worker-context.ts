import type { OutputKind } from '../connectors/contract';
import type { Clock } from './clock';
import type { OperatorSnapshot, WorkerProgress, WorkerStart } from './protocol';
import type { SourceRunnerHandlers, SplitCheckpoint } from './source-runner';

/** What the runtime gives a job's worker side; the job never touches ports or readers directly. */
export interface WorkerContext<JobOptions> {
  readonly start: WorkerStart<JobOptions>;
  /** Counters the runtime reports to the main thread; the job updates them in place. */
  readonly progress: WorkerProgress;
  readonly clock: Clock;
  /** Sends complete JSON lines (each ending in '\n') to the job's sink on the main thread. */
  output(kind: OutputKind, lines: string, records: number): void;
  /** Sends a job-specific message to the job's main side. */
  jobMessage(payload: unknown): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Reads this worker's splits until they end or the job stops. */
  runSources(handlers: SourceRunnerHandlers): Promise<void>;
  /**
   * Checkpoint `id` has passed every stage of this worker: reports its split
   * positions and operator state. Output sent before it belongs to epoch id.
   */
  acknowledge(id: number, splits: SplitCheckpoint[], operators: OperatorSnapshot[]): void;
}

export type WorkerJob = (ctx: WorkerContext<never>) => Promise<void>;
