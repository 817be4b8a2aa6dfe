import { closeSync, openSync, writeSync } from 'node:fs';
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { WorkerSlots } from './worker-slots';
import type { Logger } from 'pino';
import type { ConnectorLog, OutputKind, ParsedUri, SplitDescriptor } from '../connectors/contract';
import { sinkConnector, sourceConnector } from '../connectors/registry';
import { epochNow, type Clock } from './clock';
import { FloeError } from './errors';
import { openLocalStateDir, type LocalStateDir } from '../state/local-state-dir';
import type {
  RuntimeSettings,
  WorkerProgress,
  WorkerStart,
  WorkerSummary,
  WorkerTimeline,
  WorkerToMain,
} from './protocol';
import { formatWatermark } from './watermarks';
import type { CheckpointCoordinator, MainState, RestoredJob } from './checkpoint-coordinator';
import type { CheckpointStorage } from '../state/checkpoint-storage';
import { WindowLatencyRecorder } from './window-latency';
import { OutputWindow } from './output-window';

/** The main-thread side of a job: what it does with its workers' job messages. */
export interface JobMainSide extends MainState {
  onJobMessage(worker: number, payload: unknown): void;
  /** Called once every worker has finished, before the sink closes. */
  finish(): void;
}

export interface CheckpointSettings {
  /** Folder path or s3://bucket/prefix. */
  storage: string;
  intervalMs: number;
  retained: number;
  /** 'latest' or a checkpoint id/path to resume from. */
  restore?: string;
}

export interface JobMainContext {
  parallelism: number;
  /** Writes the job's own output (e.g. trends) to the sink, in the current epoch when checkpointing. */
  output(kind: OutputKind, lines: string): void;
  /** The final results of window [start, end) have been written (call after the output); feeds result-latency metrics. */
  windowWritten?(start: number, end: number): void;
  log: Logger;
}

export interface RunJobParams {
  job: string;
  /** Plain data, posted to every worker. */
  jobOptions: unknown;
  createMain(ctx: JobMainContext): JobMainSide;
  parallelism: number;
  maxParallelism: number;
  runtime: RuntimeSettings;
  source: ParsedUri;
  sink: ParsedUri;
  log: Logger;
  clock: Clock;
  /** Stop cleanly on SIGINT/SIGTERM (a second signal exits at once). */
  handleSignals: boolean;
  /** Sees every progress report, e.g. for the terminal view. */
  onProgress?(total: JobProgress): void;
  /** Exactly-once checkpoints; without them the job keeps state in memory only. */
  checkpoint?: CheckpointSettings;
  /** Appends one JSON line per window whose results reach the sink: when the watermark passed its end and when they were written. */
  metricsFile?: string;
  /** Root of the local state directory (--state-dir); without it operators keep all state in memory. */
  stateDir?: string;
  /**
   * Worker threads started ahead (see WorkerSlots), `parallelism` of them;
   * runJob starts its own without. Either way it destroys them before it
   * returns or throws.
   */
  slots?: WorkerSlots;
}

export interface JobProgress extends WorkerProgress {
  /** Watermark of the whole job: the minimum over workers' window stages. */
  watermark: number;
  outputRecords: Record<string, number>;
}

export interface JobResult {
  progress: JobProgress;
  stoppedBySignal: boolean;
  /** Where the run's wall time went; undefined when it ended before its workers did. */
  timeline?: JobTimeline;
}

/**
 * Phases of a run, in ms since this process started (performance.timeOrigin
 * of the main thread): for a bounded input, start-up is firstRecordMs, the
 * reading phase runs to sourcesDoneMs, and finishedMs - sourcesDoneMs is what
 * the end of input costs (the last windows fire, output is written).
 */
export interface JobTimeline {
  /** runJob was called. */
  startedMs: number;
  /** The first batch of records reached a worker's job; null when none did. */
  firstRecordMs: number | null;
  /** The last worker's sources ended; null when a worker's never did. */
  sourcesDoneMs: number | null;
  /** The workers are done and the sink is closed. */
  finishedMs: number;
}

/** Folds the workers' timelines into the job's (see JobTimeline). */
export function jobTimeline(startedAt: number, workers: WorkerTimeline[], finishedAt: number): JobTimeline {
  const since = (epochMs: number): number => Math.round((epochMs - performance.timeOrigin) * 10) / 10;
  const firsts = workers.map((w) => w.firstRecordAt).filter((t): t is number => t !== null);
  const dones = workers.map((w) => w.sourcesDoneAt);
  return {
    startedMs: since(startedAt),
    firstRecordMs: firsts.length === 0 ? null : since(Math.min(...firsts)),
    sourcesDoneMs:
      dones.length === 0 || dones.some((t) => t === null) ? null : since(Math.max(...(dones as number[]))),
    finishedMs: since(finishedAt),
  };
}

function sumProgress(parts: WorkerProgress[], outputRecords: Record<string, number>): JobProgress {
  const total: JobProgress = {
    records: 0,
    tweets: 0,
    deadLetters: 0,
    late: 0,
    duplicates: 0,
    sourceWatermark: Number.POSITIVE_INFINITY,
    windowWatermark: Number.POSITIVE_INFINITY,
    watermark: Number.POSITIVE_INFINITY,
    outputRecords: { ...outputRecords },
  };
  for (const p of parts) {
    total.records += p.records;
    total.tweets += p.tweets;
    total.deadLetters += p.deadLetters;
    total.late += p.late;
    total.duplicates += p.duplicates;
    total.sourceWatermark = Math.min(total.sourceWatermark, p.sourceWatermark);
    total.windowWatermark = Math.min(total.windowWatermark, p.windowWatermark);
  }
  total.watermark = total.windowWatermark;
  return total;
}

/** How often sources that can grow (SourceConnector.discoverSplits) are asked for new splits, ms. */
const SPLIT_DISCOVERY_MS = 5000;

/** Splits go round-robin, in planning order, so the assignment is the same on every run. */
export function assignSplits(splits: SplitDescriptor[], parallelism: number): SplitDescriptor[][] {
  const out: SplitDescriptor[][] = Array.from({ length: parallelism }, () => []);
  splits.forEach((s, i) => out[i % parallelism].push(s));
  return out;
}

/**
 * The checkpoint modules and the job's checkpoint storage, for a job with
 * checkpoints only: without them the main thread goes straight on to start
 * its workers (loading these took ~7 ms of that path).
 */
async function openCheckpoints(
  cp: CheckpointSettings,
): Promise<{ Coordinator: typeof CheckpointCoordinator; storage: CheckpointStorage }> {
  const [{ CheckpointCoordinator: Coordinator }, { openCheckpointStorage }] = await Promise.all([
    import('./checkpoint-coordinator'),
    import('../state/checkpoint-storage'),
  ]);
  return { Coordinator, storage: openCheckpointStorage(cp.storage) };
}

/**
 * Runs a job on `parallelism` worker slots, each a one-thread piscina pool
 * (piscina has no key affinity; one pool per slot gives it). Workers talk to
 * each other over a mesh of MessagePorts and to this thread over one control
 * port each; output lines come here and go to the sink.
 */
export async function runJob(params: RunJobParams): Promise<JobResult> {
  const startedAt = epochNow();
  const { parallelism } = params;
  if (params.slots !== undefined && params.slots.count !== parallelism) {
    await params.slots.destroy();
    throw new Error(`runJob: ${params.slots.count} worker slots started for parallelism ${parallelism}`);
  }
  // Started first, so the threads boot while the source is planned and the sink opened.
  const slots = params.slots ?? new WorkerSlots(parallelism);
  try {
    return await runOnSlots(params, slots, startedAt);
  } finally {
    await slots.destroy();
  }
}

async function runOnSlots(params: RunJobParams, slots: WorkerSlots, startedAt: number): Promise<JobResult> {
  const { parallelism, log } = params;
  const connectorLog =
    (component: string): ConnectorLog =>
    (level, msg, fields) =>
      log[level]({ component, ...fields }, msg);
  const source = sourceConnector(params.source.scheme);
  const splits = await source.planSplits(params.source, {
    parallelism,
    now: () => params.clock.now(),
    log: connectorLog('source'),
  });
  const sink = await sinkConnector(params.sink.scheme).open(params.sink, { log: connectorLog('sink') });
  let coordinator: CheckpointCoordinator | undefined;
  const latency = params.metricsFile === undefined ? undefined : new WindowLatencyRecorder(parallelism);
  // Opened at the first sample, so no exit path before the workers start can leak it; closed with the sink.
  let metricsFd: number | undefined;
  const main = params.createMain({
    parallelism,
    output: (kind, lines) => sink.write(kind, lines, coordinator?.epoch()),
    windowWritten: (start, end) => {
      const sample = latency?.windowWritten(start, end, params.clock.now());
      if (sample === undefined || params.metricsFile === undefined) return;
      metricsFd ??= openSync(params.metricsFile, 'a');
      writeSync(metricsFd, JSON.stringify(sample) + '\n');
    },
    log,
  });
  const assignment = assignSplits(splits, parallelism);
  const cp = params.checkpoint;
  if (cp !== undefined && !sink.transactional) {
    await sink.close();
    throw new FloeError(
      'INVALID_OPTION',
      `option sink: ${sink.describe()} cannot take part in checkpoints (not transactional)`,
    );
  }
  const checkpoints = cp === undefined ? undefined : await openCheckpoints(cp);
  let restored: RestoredJob | undefined;
  if (checkpoints !== undefined && cp?.restore !== undefined) {
    restored = await checkpoints.Coordinator.restore(
      checkpoints.storage,
      cp.restore,
      sink,
      { parallelism, maxParallelism: params.maxParallelism },
      assignment,
      main,
      log,
    );
    if (restored?.finished) {
      log.info({ checkpoint: restored.checkpointId }, 'the job had finished: its output is complete');
      await sink.close();
      await checkpoints.storage.close();
      return { progress: sumProgress([], {}), stoppedBySignal: false };
    }
  }
  let localState: LocalStateDir | undefined;
  try {
    if (params.stateDir !== undefined) localState = await openLocalStateDir(params.stateDir);
  } catch (err) {
    await sink.close();
    await checkpoints?.storage.close();
    throw err;
  }
  const runtime: RuntimeSettings = {
    ...params.runtime,
    stateDir: localState?.path,
    checkpoints: cp !== undefined,
    ...(latency === undefined ? {} : { reportWatermarkTimes: true }),
  };
  log.info(
    {
      source: params.source.raw,
      sink: sink.describe(),
      parallelism,
      splits: splits.length,
      stateDir: localState?.path,
    },
    'job starting',
  );
  assignment.forEach((s, worker) => log.info({ worker, splits: s.map((x) => x.id) }, 'split assignment'));

  const mesh: (MessagePort | null)[][] = Array.from({ length: parallelism }, () =>
    new Array(parallelism).fill(null),
  );
  for (let i = 0; i < parallelism; i++) {
    for (let j = i + 1; j < parallelism; j++) {
      const { port1, port2 } = new MessageChannel();
      mesh[i][j] = port1;
      mesh[j][i] = port2;
    }
  }

  const progress: WorkerProgress[] = [];
  const outputRecords: Record<string, number> = {};
  let failure: unknown = null;
  let stoppedBySignal = false;
  const controls: MessagePort[] = [];
  const outputWindows = Array.from({ length: parallelism }, () => new OutputWindow(OutputWindow.allocate()));
  /** Written output buffers go back to their worker (transferred: nothing is left here for the GC to find). */
  const outputReturns = Array.from({ length: parallelism }, () => new MessageChannel());

  let firstRecordsLogged = false;
  const dispatch = (worker: number, msg: WorkerToMain): void => {
    switch (msg.t) {
      case 'out': {
        const { buffer, byteOffset, byteLength } = msg.bytes;
        const written = (): void => {
          outputWindows[worker].release(byteLength);
          const back = outputReturns[worker].port1;
          back.postMessage(buffer, [buffer as ArrayBuffer]);
        };
        const epoch = coordinator?.epoch();
        if (sink.writeBytes !== undefined) {
          sink.writeBytes(msg.kind, msg.bytes, msg.length, epoch, written);
        } else {
          sink.write(msg.kind, Buffer.from(buffer, byteOffset, byteLength).toString('utf8'), epoch);
          written();
        }
        outputRecords[msg.kind] = (outputRecords[msg.kind] ?? 0) + msg.records;
        break;
      }
      case 'job':
        main.onJobMessage(worker, msg.payload);
        break;
      case 'progress':
        // Time to first record says how long start-up (restore, seeks, connections) took.
        if (!firstRecordsLogged && msg.progress.tweets > 0) {
          firstRecordsLogged = true;
          log.info({ worker, tweets: msg.progress.tweets }, 'first tweets decoded');
        }
        progress[worker] = msg.progress;
        params.onProgress?.(sumProgress(progress.filter(Boolean), outputRecords));
        break;
      case 'watermark-time':
        latency?.observeSourceWatermark(worker, msg.watermark, msg.at);
        break;
      case 'log':
        log[msg.level]({ worker, ...msg.fields }, msg.msg);
        break;
      case 'end':
        ended[worker]();
        break;
      case 'ack':
      case 'state':
        throw new Error(`worker ${worker} sent checkpoint ${msg.id} state that was not asked for`);
    }
  };
  const onMessage = (worker: number, msg: WorkerToMain): void => {
    try {
      if (coordinator?.accept(worker, msg)) return;
      dispatch(worker, msg);
    } catch (err) {
      fail(err);
    }
  };
  const stopAll = (): void => {
    for (const c of controls) c.postMessage({ t: 'stop' });
  };
  const fail = (err: unknown): void => {
    failure ??= err;
    // Output may no longer be written: a worker must not wait for it.
    for (const w of outputWindows) w.close();
    stopAll();
  };

  /** Every split of the job: planned, and discovered while running. */
  const known = new Set(splits.map((s) => s.id));
  if (checkpoints !== undefined && cp !== undefined) {
    coordinator = new checkpoints.Coordinator(
      checkpoints.storage,
      sink,
      { name: params.job, parallelism, maxParallelism: params.maxParallelism, retained: cp.retained },
      main,
      (w, m) => controls[w].postMessage(m),
      dispatch,
      log,
      // Number on from every checkpoint already there (a corrupt newest one included), never reusing an id.
      Math.max(restored?.checkpointId ?? 0, (await checkpoints.storage.latest())?.id ?? 0),
      restored?.liveDeltas,
      source.notifyCheckpointComplete === undefined
        ? undefined
        : (id, positions, finished) => {
            // The final checkpoint holds no positions (the workers are gone): every split has ended.
            const ended = finished ? Object.fromEntries([...known].map((split) => [split, null])) : positions;
            source
              .notifyCheckpointComplete?.(params.source, id, ended, connectorLog('source'))
              .catch((err: unknown) =>
                log.warn({ checkpoint: id, err }, 'source checkpoint notification failed'),
              );
          },
    );
  }
  let abandoned = false;
  let abandon!: () => void;
  const abandonedPromise = new Promise<'abandoned'>((resolve) => (abandon = () => resolve('abandoned')));
  const tasks: Promise<WorkerSummary>[] = [];
  const timelines: WorkerTimeline[] = [];
  const controlsClosed: Promise<void>[] = [];
  const ended: (() => void)[] = [];
  for (let i = 0; i < parallelism; i++) {
    const { port1, port2 } = new MessageChannel();
    controls.push(port1);
    port1.on('message', (msg: WorkerToMain) => onMessage(i, msg));
    // A worker's last message is 'end'; the port keeps order, so all its output came before.
    controlsClosed.push(new Promise((resolve) => (ended[i] = resolve)));
    const pool = slots.pools[i];
    const start: WorkerStart = {
      index: i,
      parallelism,
      maxParallelism: params.maxParallelism,
      job: params.job,
      jobOptions: params.jobOptions,
      runtime,
      splits: assignment[i],
      control: port2,
      peers: mesh[i],
      outputWindow: outputWindows[i].shared,
      outputReturns: outputReturns[i].port2,
      restore: restored?.workers[i],
    };
    const transferList = [port2, outputReturns[i].port2, ...(mesh[i].filter(Boolean) as MessagePort[])];
    tasks.push(
      pool.run(start, { transferList: transferList as unknown as ArrayBuffer[] }).catch((err: unknown) => {
        if (!abandoned) fail(err);
        throw err;
      }),
    );
  }

  let signals = 0;
  const onSignal = (signal: string): void => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting without flushing');
      process.exit(130);
    }
    stoppedBySignal = true;
    if (coordinator === undefined) {
      log.info(
        { signal },
        'stopping: flushing open windows and closing output (signal again to exit at once)',
      );
      stopAll();
      return;
    }
    // With checkpoints, open windows stay in state: a final checkpoint, then stop; a restart resumes there.
    log.info({ signal }, 'stopping: taking a final checkpoint (signal again to exit at once)');
    coordinator.checkpointNow().then(
      (id) => {
        log.info({ checkpoint: id }, 'final checkpoint committed; stopping');
        abandoned = true;
        abandon();
      },
      (err: unknown) => fail(err),
    );
  };
  // `floe savepoint --pid` asks through SIGUSR2 (there is no admin endpoint yet).
  const onSavepointSignal = (): void => {
    if (coordinator === undefined) {
      log.warn('savepoint asked for, but this job runs without --checkpoint-dir');
      return;
    }
    log.info('savepoint asked for');
    coordinator.savepoint().then(
      (id) => log.info({ savepoint: id }, 'savepoint committed'),
      (err: unknown) => log.error({ err }, 'savepoint failed'),
    );
  };
  if (params.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGUSR2', onSavepointSignal);
  }

  const timer = cp === undefined ? undefined : setInterval(() => coordinator?.trigger(), cp.intervalMs);
  // Splits added while running (new Kafka partitions) go round-robin on from the planned ones.
  let discovering = false;
  const discovery =
    source.discoverSplits === undefined || splits.every((s) => s.bounded)
      ? undefined
      : setInterval(() => {
          if (discovering) return;
          discovering = true;
          source
            .discoverSplits?.(params.source, {
              parallelism,
              now: () => params.clock.now(),
              log: connectorLog('source'),
            })
            .then((all) => {
              for (const s of all) {
                if (known.has(s.id)) continue;
                const worker = known.size % parallelism;
                known.add(s.id);
                controls[worker].postMessage({ t: 'add-splits', splits: [s] });
                log.info({ worker, split: s.id }, 'split discovered');
              }
            })
            .catch((err: unknown) => log.warn({ err }, 'split discovery failed'))
            .finally(() => (discovering = false));
        }, SPLIT_DISCOVERY_MS);
  try {
    const settled = Promise.allSettled(tasks);
    const outcome = await Promise.race([settled, abandonedPromise]);
    clearInterval(timer);
    if (outcome === 'abandoned') {
      // Workers are terminated below; output after the final checkpoint stays staged and is discarded on restore.
      return { progress: sumProgress(progress.filter(Boolean), outputRecords), stoppedBySignal };
    }
    const results = outcome;
    if (failure === null) await Promise.all(controlsClosed);
    if (failure === null) await coordinator?.finish();
    else await coordinator?.abort();
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      progress[r.value.index] = r.value.progress;
      timelines[r.value.index] = r.value.timeline;
    }
    if (failure === null) main.finish();
  } finally {
    if (params.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGUSR2', onSavepointSignal);
    }
    clearInterval(timer);
    clearInterval(discovery);
    for (const w of outputWindows) w.close();
    for (const c of controls) c.close();
    for (const r of outputReturns) r.port1.close();
    await slots.destroy();
    await localState?.remove();
    await sink.close();
    await checkpoints?.storage.close();
    if (metricsFd !== undefined) closeSync(metricsFd);
  }
  if (failure !== null) {
    throw failure instanceof FloeError
      ? failure
      : new FloeError('WORKER_FAILED', `a worker failed: ${(failure as Error)?.message ?? String(failure)}`, {
          cause: failure,
        });
  }
  const total = sumProgress(progress, outputRecords);
  const timeline = jobTimeline(startedAt, timelines, epochNow());
  log.info(
    {
      records: total.records,
      tweets: total.tweets,
      deadLetters: total.deadLetters,
      late: total.late,
      duplicates: total.duplicates,
      watermark: formatWatermark(total.watermark),
      output: total.outputRecords,
      // One process holds every worker thread, so this is the whole job's peak.
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      timeline,
    },
    'job finished',
  );
  return { progress: total, stoppedBySignal, timeline };
}
