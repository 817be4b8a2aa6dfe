import type { Logger } from 'pino';
import type { SinkWriter, SplitDescriptor } from '../connectors/contract';
import {
  dataFileEntry,
  type CheckpointKind,
  type CheckpointMetadata,
  type DataFileEntry,
  type JsonValue,
} from '../state/checkpoint-metadata';
import { mapLimit, type CheckpointStorage } from '../state/checkpoint-storage';
import { FloeError } from './errors';
import { keyGroupRangeForWorker } from './key-groups';
import type { MainToWorker, OperatorSnapshot, WorkerRestore, WorkerToMain } from './protocol';

/** The job's own file in every checkpoint: epoch, watermarks, main-thread state. */
const JOB_FILE = 'job.json';

interface JobFile {
  /** The job ended: everything up to this epoch is final. */
  finished: boolean;
  /** Per old worker: operator name -> watermark at the checkpoint. */
  watermarks: Record<string, number>[];
  /** Operator name -> key groups with a file. */
  operators: Record<string, number[]>;
  /** The main thread's part of the job (e.g. pending top-K lists). */
  main: JsonValue;
}

type Ack = Extract<WorkerToMain, { t: 'ack' }>;

/** What the main thread's part of a job keeps across checkpoints. */
export interface MainState {
  snapshot(): JsonValue;
  restore(state: JsonValue): void;
}

export interface RestoredJob {
  checkpointId: number;
  finished: boolean;
  /** Per new worker. */
  workers: WorkerRestore[];
}

/**
 * Fault injection for tests: FLOE_CRASH_AT=<point>:<n> kills the process
 * (SIGKILL, no clean-up) at that point of the first checkpoint numbered n or
 * more that reaches it, so tests can hit the narrow moments a random kill
 * rarely lands in.
 */
export function crashPoint(point: string, id: number): void {
  const want = process.env.FLOE_CRASH_AT;
  if (want === undefined) return;
  const [p, n] = want.split(':');
  if (p === point && id >= Number(n)) process.kill(process.pid, 'SIGKILL');
}

const fileName = (operator: string, kg: number): string => `${operator}-kg${String(kg).padStart(5, '0')}`;

/** Watermarks cross JSON as numbers; ±Infinity does not, so they are stored as strings. */
const wmToJson = (wm: number): number | string => (Number.isFinite(wm) ? wm : String(wm));
const wmFromJson = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

/**
 * The checkpoint coordinator on the main thread, after Flink's: triggers
 * checkpoint n on every worker, collects each worker's acknowledgement (split
 * positions and operator state per key group, taken when barrier n had
 * passed all its stages), writes the state files and then the metadata (the
 * commit point), then commits the sink's epoch n.
 *
 * It also aligns the main thread itself: once a worker has acknowledged n,
 * its later messages (output of epoch n + 1) wait until every worker has, so
 * the main state snapshot and epoch n's output hold exactly what came before
 * barrier n.
 */
export class CheckpointCoordinator {
  private nextId: number;
  private inFlight: { id: number; kind: CheckpointKind; acks: Map<number, Ack> } | null = null;
  /** A savepoint was asked for: the next checkpoint is one. */
  private savepointWanted = false;
  private savepointWaiters: { resolve: (id: number) => void; reject: (err: unknown) => void }[] = [];
  private held = new Map<number, WorkerToMain[]>();
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private waiters: { resolve: (id: number) => void; reject: (err: unknown) => void }[] = [];
  /** Whether every worker is still alive to take a barrier. */
  private accepting = true;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly sink: SinkWriter,
    private readonly job: { name: string; parallelism: number; maxParallelism: number; retained: number },
    private readonly mainState: MainState,
    private readonly post: (worker: number, msg: MainToWorker) => void,
    private readonly dispatch: (worker: number, msg: WorkerToMain) => void,
    private readonly log: Logger,
    lastCheckpointId = 0,
    /**
     * After checkpoint n is committed (sink included): its split positions, e.g. for the
     * source's lag reporting. `finished`: the job's last checkpoint (every split has ended).
     */
    private readonly onCommitted?: (
      id: number,
      positions: Record<string, unknown>,
      finished: boolean,
    ) => void,
  ) {
    this.nextId = lastCheckpointId + 1;
  }

  /** The epoch that output dispatched now belongs to. */
  epoch(): number {
    return this.inFlight?.id ?? this.nextId;
  }

  /** Starts checkpoint n unless one is still running. */
  trigger(): void {
    if (this.inFlight !== null || !this.accepting || this.failure !== null) return;
    const id = this.nextId++;
    const kind: CheckpointKind = this.savepointWanted ? 'savepoint' : 'checkpoint';
    this.savepointWanted = false;
    this.inFlight = { id, kind, acks: new Map() };
    this.log.debug({ checkpoint: id }, 'checkpoint triggered');
    for (let w = 0; w < this.job.parallelism; w++) this.post(w, { t: 'checkpoint', id });
  }

  private settleWaiters(
    fn: (w: { resolve: (id: number) => void; reject: (err: unknown) => void }) => void,
  ): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach(fn);
  }

  /**
   * Takes a checkpoint now (or waits for the one running) and resolves with
   * its id once it is committed: a graceful stop keeps open windows in state
   * instead of flushing them, so a restart resumes exactly there.
   */
  checkpointNow(): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const done = new Promise<number>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.trigger();
    return done;
  }

  /**
   * Takes a savepoint: a checkpoint kept until deleted (retention skips it),
   * restorable at any parallelism. Resolves with its id once committed.
   */
  savepoint(): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const done = new Promise<number>((resolve, reject) => this.savepointWaiters.push({ resolve, reject }));
    this.savepointWanted = true;
    this.trigger();
    return done;
  }

  /** Takes a worker message if it is the coordinator's (an ack) or must wait (alignment). */
  accept(worker: number, msg: WorkerToMain): boolean {
    const flight = this.inFlight;
    if (flight === null) return false;
    // Only output and job messages belong to an epoch; progress, logs and 'end' pass.
    if (flight.acks.has(worker) && (msg.t === 'out' || msg.t === 'job')) {
      let q = this.held.get(worker);
      if (q === undefined) this.held.set(worker, (q = []));
      q.push(msg);
      return true;
    }
    if (msg.t !== 'ack') return false;
    if (msg.id !== flight.id)
      throw new Error(`worker ${worker} acknowledged checkpoint ${msg.id} during ${flight.id}`);
    flight.acks.set(worker, msg);
    if (flight.acks.size === this.job.parallelism) this.complete(flight.id, flight.kind, flight.acks);
    return true;
  }

  private complete(id: number, kind: CheckpointKind, acks: Map<number, Ack>): void {
    const main = this.mainState.snapshot();
    this.inFlight = null;
    const released = this.held;
    this.held = new Map();
    const savepointWaiters = kind === 'savepoint' ? this.savepointWaiters.splice(0) : [];
    this.writing = this.writing
      .then(() => this.persist(id, acks, main, false, kind))
      .then(
        () => {
          this.settleWaiters((w) => w.resolve(id));
          savepointWaiters.forEach((w) => w.resolve(id));
        },
        (err: unknown) => {
          this.failure ??= err;
          this.log.error({ checkpoint: id, err }, 'checkpoint failed');
          this.settleWaiters((w) => w.reject(err));
          savepointWaiters.forEach((w) => w.reject(err));
        },
      );
    // A savepoint asked for while this checkpoint ran goes next.
    if (this.savepointWanted) this.trigger();
    // Output after barrier n: epoch n + 1, in arrival order per worker.
    for (const [worker, msgs] of released) for (const m of msgs) this.dispatch(worker, m);
  }

  private async persist(
    id: number,
    acks: Map<number, Ack>,
    main: JsonValue,
    finished: boolean,
    kind: CheckpointKind = 'checkpoint',
  ): Promise<void> {
    const started = Date.now();
    const files: DataFileEntry[] = [];
    const operators: Record<string, number[]> = {};
    const watermarks: Record<string, number>[] = [];
    const positions: Record<string, JsonValue> = {};
    const blobs: [string, Uint8Array][] = [];
    for (let w = 0; w < this.job.parallelism; w++) {
      const ack = acks.get(w);
      if (ack === undefined) continue;
      for (const s of ack.splits) {
        positions[s.splitId] = {
          position: (s.position ?? null) as JsonValue,
          maxTimestamp: wmToJson(s.maxTimestamp),
        };
      }
      const marks: Record<string, number | string> = {};
      for (const op of ack.operators as OperatorSnapshot[]) {
        marks[op.operator] = wmToJson(op.watermark);
        for (const [kg, blob] of op.keyGroups) {
          const name = fileName(op.operator, kg);
          files.push(dataFileEntry(name, blob));
          blobs.push([name, blob]);
          (operators[op.operator] ??= []).push(kg);
        }
      }
      watermarks.push(marks as Record<string, number>);
    }
    // Each write is fsynced; overlapping them keeps a checkpoint of many key groups short.
    await mapLimit(blobs, 16, ([name, blob]) => this.storage.writeFile(id, name, blob));
    const jobFile: JobFile = { finished, watermarks, operators, main };
    const jobBytes = Buffer.from(JSON.stringify(jobFile));
    await this.storage.writeFile(id, JOB_FILE, jobBytes);
    files.push(dataFileEntry(JOB_FILE, jobBytes));
    await this.sink.preCommit?.(id);
    crashPoint('files-written', id);
    const metadata: CheckpointMetadata = {
      id,
      time: new Date().toISOString(),
      kind,
      jobName: this.job.name,
      parallelism: this.job.parallelism,
      maxParallelism: this.job.maxParallelism,
      sourcePositions: positions,
      files,
      sharedFiles: [],
    };
    await this.storage.commit(metadata);
    crashPoint('metadata-written', id);
    await this.sink.commit?.(id);
    crashPoint('sink-committed', id);
    const committedPositions: Record<string, unknown> = {};
    for (const [split, p] of Object.entries(positions))
      committedPositions[split] = (p as { position: unknown }).position;
    this.onCommitted?.(id, committedPositions, finished);
    await this.storage.retain(this.job.retained);
    this.log.info(
      {
        checkpoint: id,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        ms: Date.now() - started,
        finished,
      },
      finished
        ? 'final epoch committed'
        : kind === 'savepoint'
          ? 'savepoint completed'
          : 'checkpoint completed',
    );
  }

  /**
   * The job ended (every worker done): no barrier can pass any more. Output
   * held back is released into the last epoch, which is committed with a
   * final checkpoint so a restore finds the job finished.
   */
  async finish(): Promise<void> {
    this.accepting = false;
    const id = this.inFlight?.id ?? this.nextId;
    this.inFlight = null;
    this.nextId = id;
    const released = this.held;
    this.held = new Map();
    for (const [worker, msgs] of released) for (const m of msgs) this.dispatch(worker, m);
    await this.writing;
    if (this.failure !== null) throw this.failure;
    await this.persist(id, new Map(), this.mainState.snapshot(), true);
  }

  /** Stops taking checkpoints after a failure; waits for one being written. */
  async abort(): Promise<void> {
    this.accepting = false;
    await this.writing;
  }

  /**
   * Loads a checkpoint for a restart with `parallelism` workers over
   * `splits`: split positions by split id, each operator's key groups to the
   * workers that own them now, watermarks as the minimum over the old workers.
   * Re-commits the sink's pending epochs and discards later output.
   */
  static async restore(
    storage: CheckpointStorage,
    which: string,
    sink: SinkWriter,
    job: { parallelism: number; maxParallelism: number },
    splits: SplitDescriptor[][],
    mainState: MainState,
    log: Logger,
  ): Promise<RestoredJob | undefined> {
    const loaded = which === 'latest' ? await storage.loadLatest() : await storage.load(which);
    if (loaded === undefined) {
      log.info({ storage: storage.location }, 'no checkpoint to restore: starting from the beginning');
      return undefined;
    }
    const meta = loaded.metadata;
    if (meta.maxParallelism !== job.maxParallelism) {
      throw new FloeError(
        'INVALID_OPTION',
        `checkpoint ${meta.id} was taken with max-parallelism ${meta.maxParallelism}; it cannot change (got ${job.maxParallelism})`,
      );
    }
    const byName = new Map(loaded.files.map((f) => [f.name, f.data]));
    const jobFile = JSON.parse((byName.get(JOB_FILE) as Buffer).toString('utf8')) as JobFile;
    const known = new Set(splits.flat().map((s) => s.id));
    const unknown = Object.keys(meta.sourcePositions).filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new FloeError(
        'INVALID_OPTION',
        `checkpoint ${meta.id} has positions for splits this source no longer has (${unknown.slice(0, 3).join(', ')}): the source or its split options changed`,
      );
    }
    await sink.recover?.(meta.id);
    mainState.restore(jobFile.main);
    const workers: WorkerRestore[] = splits.map((own, w) => {
      const range = keyGroupRangeForWorker(w, job.parallelism, job.maxParallelism);
      const restore: WorkerRestore = { splits: {}, operators: {} };
      for (const s of own) {
        const p = meta.sourcePositions[s.id] as
          { position: unknown; maxTimestamp: number | string } | undefined;
        if (p !== undefined)
          restore.splits[s.id] = { position: p.position, maxTimestamp: wmFromJson(p.maxTimestamp) };
      }
      const names = new Set([
        ...Object.keys(jobFile.operators),
        ...jobFile.watermarks.flatMap((m) => Object.keys(m)),
      ]);
      for (const op of names) {
        const marks = jobFile.watermarks
          .map((m) => wmFromJson(m[op] as number | string))
          .filter((x) => !Number.isNaN(x));
        const blobs = (jobFile.operators[op] ?? [])
          .filter((kg) => kg >= range.start && kg <= range.end)
          .map((kg) => byName.get(fileName(op, kg)) as Buffer);
        restore.operators[op] = {
          watermark: marks.length > 0 ? Math.min(...marks) : Number.NEGATIVE_INFINITY,
          blobs,
        };
      }
      return restore;
    });
    log.info(
      {
        checkpoint: meta.id,
        taken: meta.time,
        parallelism: meta.parallelism,
        now: job.parallelism,
        finished: jobFile.finished,
      },
      'restoring from checkpoint',
    );
    return { checkpointId: meta.id, finished: jobFile.finished, workers };
  }
}
