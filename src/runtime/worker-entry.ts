import { receiveMessageOnPort } from 'node:worker_threads';
import type { SplitDescriptor, SplitReader } from '../connectors/contract';
import { sourceConnector } from '../connectors/registry';
import { workerJobs } from '../jobs/worker-jobs';
import { epochNow, systemClock } from './clock';
import { OutputBuffer } from './output-buffer';
import { OutputWindow } from './output-window';
import type { MainToWorker, WorkerProgress, WorkerStart, WorkerSummary, WorkerToMain } from './protocol';
import { SourceRunner, type SourceRunnerHandlers } from './source-runner';
import type { WorkerContext } from './worker-context';

/**
 * Bytes of output a worker may have posted and the main thread not yet
 * written: a few chunks, enough to keep the sink busy while the worker
 * encodes the next.
 */
const OUTPUT_IN_FLIGHT_BYTES = 4 << 20;

/**
 * The piscina task each worker slot runs for the whole life of a job. It
 * wires the job's worker side to its splits, its peers and the main thread.
 */
export default async function runWorkerTask(start: WorkerStart): Promise<WorkerSummary> {
  const job = workerJobs[start.job];
  if (job === undefined) throw new Error(`unknown job ${start.job}`);
  const { control, runtime } = start;
  const post = (msg: WorkerToMain): void => control.postMessage(msg);
  const outputWindow = new OutputWindow(start.outputWindow, OUTPUT_IN_FLIGHT_BYTES);
  /**
   * A written buffer of at least `bytes`, or a new one. Reuse matters more than it looks: a dropped
   * buffer is freed only when the main thread collects garbage, which its small heap seldom needs,
   * so a million counts left ~30 MB per worker behind. Smaller returns are dropped here (young garbage).
   */
  const allocateOutput = (bytes: number): ArrayBuffer => {
    for (;;) {
      const returned = receiveMessageOnPort(start.outputReturns);
      if (returned === undefined) return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
      const buffer = returned.message as ArrayBuffer;
      if (buffer.byteLength >= bytes) return buffer;
    }
  };
  const timeline: WorkerSummary['timeline'] = { firstRecordAt: null, sourcesDoneAt: null };
  const progress: WorkerProgress = {
    records: 0,
    tweets: 0,
    deadLetters: 0,
    late: 0,
    duplicates: 0,
    sourceWatermark: Number.NEGATIVE_INFINITY,
    windowWatermark: Number.NEGATIVE_INFINITY,
  };
  const clock = systemClock;
  const resume = start.restore?.splits ?? {};
  // A split the checkpoint recorded as ended (position null) stays ended.
  const open = start.splits.filter((s) => !(s.id in resume && resume[s.id].position === null));
  const createReader = (split: SplitDescriptor): SplitReader =>
    sourceConnector(split.connector).createReader(
      split,
      {
        maxRecordBytes: runtime.maxRecordBytes,
        now: () => clock.now(),
        log: (level, msg, fields) => post({ t: 'log', level, msg, fields: { split: split.id, ...fields } }),
      },
      resume[split.id]?.position ?? undefined,
    );
  const readers = open.map(createReader);
  const runner = new SourceRunner(readers, {
    outOfOrdernessMs: runtime.outOfOrdernessMs,
    alignmentMs: runtime.watermarkAlignmentMs,
    idleTimeoutMs: runtime.idleTimeoutMs,
    batchSize: runtime.batchSize,
    clock,
  });
  for (const split of open) {
    const r = resume[split.id];
    if (r !== undefined) runner.restoreSplit(split.id, r.maxTimestamp);
  }
  control.on('message', (msg: MainToWorker) => {
    if (msg.t === 'stop') runner.stop();
    else if (msg.t === 'checkpoint') runner.requestBarrier(msg.id);
    else if (msg.t === 'add-splits' && !runner.stopped) {
      for (const split of msg.splits) runner.addReader(createReader(split));
    }
  });
  const timer = setInterval(() => post({ t: 'progress', progress }), runtime.progressIntervalMs);

  const ctx: WorkerContext<unknown> = {
    start,
    progress,
    clock,
    output: (kind, { bytes, length, records }) => {
      outputWindow.acquire(bytes.byteLength);
      const msg: WorkerToMain = { t: 'out', kind, bytes, length, records };
      control.postMessage(msg, [bytes.buffer as ArrayBuffer]);
    },
    outputBuffer: (capacity) => new OutputBuffer(capacity, allocateOutput),
    jobMessage: (payload) => post({ t: 'job', payload }),
    log: (level, msg, fields) => post({ t: 'log', level, msg, fields }),
    runSources: async (handlers) => {
      const timed: SourceRunnerHandlers = {
        ...handlers,
        onBatch(split, batch) {
          timeline.firstRecordAt ??= epochNow();
          return handlers.onBatch(split, batch);
        },
      };
      await runner.run(
        runtime.reportWatermarkTimes === true
          ? {
              ...timed,
              onWatermark(wm, idle) {
                post({ t: 'watermark-time', watermark: wm, at: clock.now() });
                handlers.onWatermark(wm, idle);
              },
            }
          : timed,
      );
      timeline.sourcesDoneAt = epochNow();
    },
    acknowledge: ({ id, splits, operators, deferred, pauseMs, entries }) => {
      post({
        t: 'ack',
        id,
        splits,
        operators,
        deferred: deferred !== undefined,
        pauseMs: pauseMs ?? 0,
        entries: entries ?? 0,
      });
      if (deferred === undefined) return;
      const sent = deferred.then(
        ({ operators: ops, busyMs, longestSliceMs }) =>
          post({ t: 'state', id, operators: ops, busyMs, longestSliceMs }),
        (err: unknown) =>
          post({
            t: 'state',
            id,
            operators: [],
            busyMs: 0,
            longestSliceMs: 0,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
      pendingStates.add(sent);
      void sent.finally(() => pendingStates.delete(sent));
    },
  };
  /** Deferred checkpoint state still being encoded: sent before 'end', which must stay last. */
  const pendingStates = new Set<Promise<void>>();
  try {
    await job(ctx as WorkerContext<never>);
  } finally {
    // Until none is left, not once: a barrier asked for as the job ended can still pass its stages (and
    // add its state) while an earlier state is awaited here. Its ack is out, so the coordinator waits for
    // that state; posted after 'end' closed the port, it was lost and the job hung at its end.
    while (pendingStates.size > 0) await Promise.all(pendingStates);
    clearInterval(timer);
    post({ t: 'progress', progress });
    post({ t: 'end' });
    control.close();
    start.outputReturns.close();
  }
  return { index: start.index, progress, timeline };
}
