import type { Logger } from 'pino';
import type { SinkWriter, SplitDescriptor } from '../connectors/contract';
import {
  dataFileEntry,
  type CheckpointKind,
  type CheckpointMetadata,
  type DataFileEntry,
  type JsonValue,
  type SharedFileEntry,
} from '../state/checkpoint-metadata';
import { mapLimit, type CheckpointStorage } from '../state/checkpoint-storage';
import { FloeError } from './errors';
import { keyGroupRangeForWorker, type KeyGroupRange } from './key-groups';
import type { DeferredState, MainToWorker, WorkerRestore, WorkerToMain } from './protocol';

/** The job's own file in every checkpoint: epoch, watermarks, main-thread state. */
const JOB_FILE = 'job.json';

interface JobFile {
  /** The job ended: everything up to this epoch is final. */
  finished: boolean;
  /** Per old worker: operator name -> watermark at the checkpoint. */
  watermarks: Record<string, number>[];
  /** Operator name -> key groups with a file. */
  operators: Record<string, number[]>;
  /** Incremental state every restore needs: each delta file still live at this checkpoint. */
  deltas: { operator: string; name: string; expiresAt: number | string; keyGroups: KeyGroupRange }[];
  /** The main thread's part of the job (e.g. pending top-K lists). */
  main: JsonValue;
}

type Ack = Extract<WorkerToMain, { t: 'ack' }>;
type StateMessage = Extract<WorkerToMain, { t: 'state' }>;

/** An operator's delta that a restore still needs (see OperatorSnapshot.delta). */
export interface LiveDelta {
  operator: string;
  /** Unique across checkpoints: "<operator>-delta-c<checkpoint>-w<worker>". */
  name: string;
  /** The operator watermark at which it is no longer needed, ms. */
  expiresAt: number;
  /** Key groups of the worker that wrote it. */
  keyGroups: KeyGroupRange;
  /** Where a checkpoint (never a savepoint, which may be deleted) holds it. */
  ref?: SharedFileEntry;
  /** Its bytes, while no checkpoint holds it (new, or restored: see restore). */
  data?: Uint8Array;
}

/** Measured while a checkpoint is taken, for its log line. */
interface CheckpointStats {
  /** Date.now() at the trigger. */
  triggeredAt: number;
  /** The longest time a worker's processing stopped: for the barrier, or for a slice of encoding its state, ms. */
  pauseMs: number;
  /** The most time a worker spent encoding its state after the barrier (in slices), ms. */
  asyncBusyMs: number;
  /** Keyed state entries over all workers. */
  entries: number;
}

/** Deferred state messages a checkpoint waits for. */
interface DeferredStates {
  waiting: Set<number>;
  /** Every worker acknowledged: no worker joins `waiting` any more. */
  sealed: boolean;
  states: Map<number, DeferredState>;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

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
  /** The checkpoint's live deltas, for the coordinator of the restored job. */
  liveDeltas: LiveDelta[];
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
  private inFlight: { id: number; kind: CheckpointKind; acks: Map<number, Ack>; triggeredAt: number } | null =
    null;
  /** A savepoint was asked for: the next checkpoint is one. */
  private savepointWanted = false;
  private savepointWaiters: { resolve: (id: number) => void; reject: (err: unknown) => void }[] = [];
  private held = new Map<number, WorkerToMain[]>();
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private waiters: { resolve: (id: number) => void; reject: (err: unknown) => void }[] = [];
  /** Whether every worker is still alive to take a barrier. */
  private accepting = true;
  private deferred = new Map<number, DeferredStates>();
  /** Keyed state files of the last checkpoint, by name: an unchanged key group is referenced, not rewritten. */
  private previousFiles = new Map<string, SharedFileEntry>();
  private liveDeltas: LiveDelta[];

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly sink: SinkWriter,
    private readonly job: { name: string; parallelism: number; maxParallelism: number; retained: number },
    private readonly mainState: MainState,
    private readonly post: (worker: number, msg: MainToWorker) => void,
    private readonly dispatch: (worker: number, msg: WorkerToMain) => void,
    private readonly log: Logger,
    lastCheckpointId = 0,
    restoredDeltas: LiveDelta[] = [],
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
    this.liveDeltas = restoredDeltas;
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
    this.inFlight = { id, kind, acks: new Map(), triggeredAt: Date.now() };
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
    if (msg.t === 'state') {
      this.onState(worker, msg);
      return true;
    }
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
    if (msg.deferred) this.deferredFor(msg.id).waiting.add(worker);
    if (flight.acks.size === this.job.parallelism) this.complete(flight);
    return true;
  }

  private deferredFor(id: number): DeferredStates {
    let d = this.deferred.get(id);
    if (d === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      // Handled where persist awaits it; this keeps an early rejection from being reported as unhandled.
      done.catch(() => undefined);
      d = { waiting: new Set(), sealed: false, states: new Map(), done, resolve, reject };
      this.deferred.set(id, d);
    }
    return d;
  }

  private onState(worker: number, msg: StateMessage): void {
    const d = this.deferred.get(msg.id);
    if (d === undefined || !d.waiting.has(worker))
      throw new Error(`worker ${worker} sent state for checkpoint ${msg.id} that it did not defer`);
    if (msg.error !== undefined) {
      d.reject(
        new FloeError(
          'CHECKPOINT_FAILED',
          `checkpoint ${msg.id}: worker ${worker} could not take its state: ${msg.error}`,
        ),
      );
      return;
    }
    d.waiting.delete(worker);
    d.states.set(worker, {
      operators: msg.operators,
      busyMs: msg.busyMs,
      longestSliceMs: msg.longestSliceMs,
    });
    if (d.sealed && d.waiting.size === 0) d.resolve();
  }

  private complete({ id, kind, acks, triggeredAt }: NonNullable<typeof this.inFlight>): void {
    const main = this.mainState.snapshot();
    const stats: CheckpointStats = {
      triggeredAt,
      pauseMs: 0,
      asyncBusyMs: 0,
      entries: [...acks.values()].reduce((n, a) => n + a.entries, 0),
    };
    const deferred = this.deferred.get(id);
    if (deferred !== undefined) {
      deferred.sealed = true;
      if (deferred.waiting.size === 0) deferred.resolve();
    }
    this.inFlight = null;
    const released = this.held;
    this.held = new Map();
    const savepointWaiters = kind === 'savepoint' ? this.savepointWaiters.splice(0) : [];
    this.writing = this.writing
      .then(async () => {
        if (deferred !== undefined) {
          await deferred.done;
          this.deferred.delete(id);
        }
        await this.persist(id, acks, main, false, kind, deferred?.states, stats);
      })
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
    deferred?: Map<number, DeferredState>,
    stats?: CheckpointStats,
  ): Promise<void> {
    const started = Date.now();
    // Savepoints are self-contained: they may be moved or deleted, so nothing refers into or out of them.
    const incremental = kind === 'checkpoint';
    const files: DataFileEntry[] = [];
    const sharedFiles: SharedFileEntry[] = [];
    const operators: Record<string, number[]> = {};
    const watermarks: Record<string, number>[] = [];
    const positions: Record<string, JsonValue> = {};
    const blobs: [string, Uint8Array][] = [];
    const minWatermark = new Map<string, number>();
    const newDeltas: LiveDelta[] = [];
    const keyed = new Map<string, SharedFileEntry>();
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
      const late = deferred?.get(w);
      if (stats !== undefined) {
        stats.pauseMs = Math.max(stats.pauseMs, ack.pauseMs, late?.longestSliceMs ?? 0);
        stats.asyncBusyMs = Math.max(stats.asyncBusyMs, late?.busyMs ?? 0);
      }
      for (const op of [...ack.operators, ...(late?.operators ?? [])]) {
        marks[op.operator] = wmToJson(op.watermark);
        minWatermark.set(op.operator, Math.min(minWatermark.get(op.operator) ?? Infinity, op.watermark));
        for (const [kg, blob] of op.keyGroups) {
          const name = fileName(op.operator, kg);
          const entry = dataFileEntry(name, blob, [{ start: kg, end: kg }]);
          const previous = this.previousFiles.get(name);
          if (incremental && previous?.crc32 === entry.crc32 && previous.size === entry.size) {
            sharedFiles.push(previous);
            keyed.set(name, previous);
          } else {
            files.push(entry);
            blobs.push([name, blob]);
            keyed.set(name, { ...entry, checkpointId: id });
          }
          (operators[op.operator] ??= []).push(kg);
        }
        if (op.delta !== undefined) {
          newDeltas.push({
            operator: op.operator,
            name: `${op.operator}-delta-c${id}-w${w}`,
            expiresAt: op.delta.expiresAt,
            keyGroups: keyGroupRangeForWorker(w, this.job.parallelism, this.job.maxParallelism),
            data: op.delta.data,
          });
        }
      }
      watermarks.push(marks as Record<string, number>);
    }
    // A delta stays while any worker's operator might still need one of its entries.
    const deltas = finished
      ? []
      : [
          ...this.liveDeltas.filter((d) => !(d.expiresAt <= (minWatermark.get(d.operator) ?? -Infinity))),
          ...newDeltas,
        ];
    const stored: LiveDelta[] = [];
    for (const d of deltas) {
      if (incremental && d.ref !== undefined) {
        sharedFiles.push(d.ref);
        stored.push(d);
        continue;
      }
      const data = d.data ?? (await this.storage.readFile((d.ref as SharedFileEntry).checkpointId, d.name));
      const entry = dataFileEntry(d.name, data, [d.keyGroups]);
      files.push(entry);
      blobs.push([d.name, data]);
      stored.push(incremental ? { ...d, ref: { ...entry, checkpointId: id }, data: undefined } : d);
    }
    // Each write is fsynced; overlapping them keeps a checkpoint of many key groups short.
    await mapLimit(blobs, 16, ([name, blob]) => this.storage.writeFile(id, name, blob));
    const jobFile: JobFile = {
      finished,
      watermarks,
      operators,
      deltas: deltas.map((d) => ({
        operator: d.operator,
        name: d.name,
        expiresAt: wmToJson(d.expiresAt),
        keyGroups: d.keyGroups,
      })),
      main,
    };
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
      sharedFiles,
    };
    await this.storage.commit(metadata);
    // After a savepoint, the next checkpoint still refers to the one before it, and gets the savepoint's
    // new deltas as bytes (stored keeps them unreferenced): nothing ever refers into a savepoint.
    if (incremental) this.previousFiles = keyed;
    this.liveDeltas = stored;
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
        reused: sharedFiles.length,
        reusedBytes: sharedFiles.reduce((n, f) => n + f.size, 0),
        ms: Date.now() - started,
        // From the trigger to the commit: what a checkpoint costs end to end.
        durationMs: stats === undefined ? undefined : Date.now() - stats.triggeredAt,
        pauseMs: stats === undefined ? undefined : Math.round(stats.pauseMs * 100) / 100,
        encodeMs: stats === undefined ? undefined : Math.round(stats.asyncBusyMs),
        entries: stats?.entries,
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
    // Called once every worker has ended, and a worker sends the state it deferred before it ends:
    // state still missing now never comes. A clear failure, not a wait without end.
    this.failDeferred(
      (waiting) => `worker ${waiting.join(', ')} ended without sending the state it deferred`,
    );
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
    // A failed worker never sends the state it deferred: give up on those checkpoints.
    this.failDeferred(() => 'the job stopped before every worker sent its state');
    await this.writing.catch(() => undefined);
  }

  /**
   * Fails every checkpoint whose deferred state can no longer all arrive
   * (`waiting`: the workers it still lacks). One whose state is complete
   * was resolved already, so rejecting it changes nothing.
   */
  private failDeferred(why: (waiting: number[]) => string): void {
    for (const [id, d] of this.deferred) {
      if (d.waiting.size === 0 && d.sealed) continue;
      d.reject(new FloeError('CHECKPOINT_FAILED', `checkpoint ${id}: ${why([...d.waiting])}`));
    }
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
    const loadStarted = Date.now();
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
    // Carried as bytes, not references: the first checkpoint after a restore writes them again, so the
    // restored checkpoint (perhaps a savepoint its owner deletes later) is never referred to (Flink's no-claim mode).
    const liveDeltas: LiveDelta[] = (jobFile.deltas ?? []).map((d) => {
      const data = byName.get(d.name);
      if (data === undefined)
        throw new FloeError(
          'CHECKPOINT_INVALID',
          `checkpoint ${meta.id}: job.json lists ${d.name}, which it lacks`,
        );
      return {
        operator: d.operator,
        name: d.name,
        expiresAt: wmFromJson(d.expiresAt),
        keyGroups: d.keyGroups,
        data,
      };
    });
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
        const deltas = liveDeltas
          .filter(
            (d) => d.operator === op && d.keyGroups.start <= range.end && d.keyGroups.end >= range.start,
          )
          .map((d) => d.data as Uint8Array);
        restore.operators[op] = {
          watermark: marks.length > 0 ? Math.min(...marks) : Number.NEGATIVE_INFINITY,
          blobs,
          deltas,
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
        loadMs: Date.now() - loadStarted,
        bytes: loaded.files.reduce((n, f) => n + f.data.length, 0),
      },
      'restoring from checkpoint',
    );
    return { checkpointId: meta.id, finished: jobFile.finished, workers, liveDeltas };
  }
}
