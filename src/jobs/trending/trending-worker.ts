import * as path from 'node:path';
import type { OutputKind, RecordBatch } from '../../connectors/contract';
import { PeerMesh } from '../../runtime/exchange';
import type { OutputBuffer } from '../../runtime/output-buffer';
import { keyGroupRangeForWorker, KeyGroupRouter } from '../../runtime/key-groups';
import { isWindowExpired, lastWindowStart, WindowSpec } from '../../runtime/windows';
import { formatWatermark, MAX_WATERMARK } from '../../runtime/watermarks';
import type { SplitCheckpoint, SplitState } from '../../runtime/source-runner';
import type { WorkerContext } from '../../runtime/worker-context';
import { ColdIdStore } from './cold-id-store';
import { encodeDelta, type DedupeDelta } from './dedupe';
import { DedupePreAggregator, type FlushedPartials } from './dedupe-pre-aggregator';
import { PartialBatchBuilder } from './partial-batch';
import { countsLine, countsPrefix, deadLetter, isoTime, stringifyDeadLetter } from './records';
import { encodeCapture, TopicWindowOperator, WindowCount } from './topic-window-operator';
import type { FiredMessage, PartialBatch, TweetBatch } from './trending-messages';
import type { ResolvedTrendingOptions } from './trending-options';
import { decodeLineByParse } from './tweet-decoder';
import { scanTweetIn } from './tweet-scanner';
import { scanTweetBytes } from './tweet-byte-scanner';
import { TopicCodeSink, TopicDictionary, TopicMirror, TopicSendState } from './topic-dictionary';
import { authorAt, tweetIdAt, TweetBatchBuilder } from './tweet-batch';

/** Pre-aggregated partials are flushed at the latest when this many are held. */
const MAX_HELD_PARTIALS = 50_000;
/** Output is handed on in chunks of about this many characters (bytes, for ASCII lines). */
const OUTPUT_FLUSH_BYTES = 1 << 20;
/** Room for a chunk and the line that takes it past OUTPUT_FLUSH_BYTES. */
const OUTPUT_CHUNK_BYTES = OUTPUT_FLUSH_BYTES + (64 << 10);

/**
 * The trending job inside one worker thread, three stages:
 *  1. local: decode the records of this worker's splits, stamp event time,
 *     judge lateness against the split's watermark, route each tweet by id;
 *  2. dedupe + pre-aggregate: drop re-delivered ids, assign windows, sum
 *     counts and author sketches per (window, topic), route partials by topic;
 *  3. window: merge partials for the topics this worker owns, fire windows
 *     on the watermark, emit counts and local top-K candidates.
 * Raw tweets never leave stage 1's thread; only decoded fields and partial
 * aggregates cross threads.
 */
export async function runTrendingWorker(ctx: WorkerContext<ResolvedTrendingOptions>): Promise<void> {
  const { index, parallelism, maxParallelism, jobOptions: opts, runtime } = ctx.start;
  const spec: WindowSpec = { sizeMs: opts.windowMs, slideMs: opts.slideMs };
  const router = new KeyGroupRouter(parallelism, maxParallelism);
  const ownKeyGroups = keyGroupRangeForWorker(index, parallelism, maxParallelism);
  // Ids older than the memory horizon go to this worker's LevelDB when the run has a state directory.
  // Opened before the mesh: once it exists, peers' batches may arrive and need every exchange.
  const coldIds =
    runtime.stateDir !== undefined && opts.dedupeHorizonMs > opts.dedupeMemoryHorizonMs
      ? ColdIdStore.create(path.join(runtime.stateDir, `worker-${index}`), maxParallelism)
      : undefined;
  const mesh = new PeerMesh(index, ctx.start.peers);
  const decodeOptions = { cashtags: opts.cashtags };
  const progress = ctx.progress;

  const countsOut = ctx.outputBuffer(OUTPUT_CHUNK_BYTES);
  const deadOut = ctx.outputBuffer(OUTPUT_CHUNK_BYTES);
  const flushKind = (kind: OutputKind, out: OutputBuffer, force: boolean): void => {
    const chunk = force || out.length >= OUTPUT_FLUSH_BYTES ? out.take() : undefined;
    if (chunk !== undefined) ctx.output(kind, chunk);
  };
  const flushOutput = (force: boolean): void => {
    flushKind('counts', countsOut, force);
    flushKind('dead-letter', deadOut, force);
  };
  const emitDead = (
    reason: string,
    detail: string,
    source: string,
    raw: string,
    rawLength?: number,
  ): void => {
    deadOut.add(stringifyDeadLetter(deadLetter(reason, detail, source, raw, rawLength)));
    progress.deadLetters++;
  };

  // Stage 3: window operator for the topics this worker owns.
  // A window's counts lines share their start: the window's part of the line is encoded once.
  const prefixes = new Map<number, string>();
  const prefixOf = (start: number, end: number): string => {
    let p = prefixes.get(start);
    if (p === undefined) {
      if (prefixes.size > 4096) prefixes.clear();
      p = countsPrefix(isoTime(start), isoTime(end));
      prefixes.set(start, p);
    }
    return p;
  };
  const operator = new TopicWindowOperator(
    {
      spec,
      allowedLatenessMs: opts.allowedLatenessMs,
      minCount: opts.minCount,
      top: opts.top,
      trendAlpha: opts.trendAlpha,
    },
    (c: WindowCount) => {
      countsOut.add(countsLine(prefixOf(c.start, c.end), c.topic, c.count, c.distinctAuthors));
      // Firing a window emits all its topics in one go: hand the output on in bounded chunks rather
      // than holding every count (at 1e6 topics, ~130 MB of lines).
      if (countsOut.length >= OUTPUT_FLUSH_BYTES) flushOutput(false);
    },
  );
  let lastReportedSlot = Number.NEGATIVE_INFINITY;
  let windowDone!: () => void;
  const windowFinished = new Promise<void>((resolve) => (windowDone = resolve));

  const partials = mesh.exchange<PartialBatch>('partials', {
    onData(_from, b) {
      operator.addBatch(b);
      flushOutput(false);
    },
    onWatermark(wm) {
      const fired = operator.advance(wm);
      progress.windowWatermark = operator.watermark();
      flushOutput(true);
      // Only a watermark crossing a slide boundary can complete a window; report those (and the end).
      const slot = wm === MAX_WATERMARK ? MAX_WATERMARK : lastWindowStart(wm + 1, spec.slideMs);
      if (fired.length > 0 || slot !== lastReportedSlot) {
        lastReportedSlot = slot;
        const msg: FiredMessage = { fired, watermark: wm };
        ctx.jobMessage(msg);
      }
      if (wm === MAX_WATERMARK) {
        ctx.log('debug', 'window stage reached the final watermark');
        windowDone();
      }
    },
    onBarrier(id) {
      // Barrier n has passed every stage of this worker: its output so far belongs to epoch n.
      const started = performance.now();
      flushOutput(true);
      const window = operator.capture();
      const dedupe = stage2Snapshots.get(id);
      const splits = sourceSnapshots.get(id);
      stage2Snapshots.delete(id);
      sourceSnapshots.delete(id);
      if (dedupe === undefined || splits === undefined)
        throw new Error(`checkpoint ${id}: barrier order broken`);
      // Encoded after the ack, while processing goes on: the dedupe ids added since the last checkpoint
      // (most of the state, so only new ones are written) in one short slice, then the window state in
      // slices of at most 10 ms.
      const deferred = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const encodeStarted = performance.now();
        const data = encodeDelta(dedupe.delta, ownKeyGroups, maxParallelism);
        const dedupeMs = performance.now() - encodeStarted;
        const encoded = await encodeCapture(window, maxParallelism);
        return {
          busyMs: dedupeMs + encoded.busyMs,
          longestSliceMs: Math.max(dedupeMs, encoded.longestSliceMs),
          operators: [
            {
              operator: 'dedupe',
              watermark: dedupe.watermark,
              keyGroups: [],
              delta: data === undefined ? undefined : { data, expiresAt: dedupe.delta.expiresAt },
            },
            { operator: 'window', watermark: window.watermark, keyGroups: [...encoded.keyGroups] },
          ],
        };
      });
      ctx.acknowledge({
        id,
        splits,
        operators: [],
        deferred,
        pauseMs: dedupe.pauseMs + performance.now() - started,
        entries: stage2.dedupeSize() + operator.stateEntries(),
      });
    },
  });
  /** Snapshots of the earlier stages, waiting for the same barrier at the window stage. */
  const stage2Snapshots = new Map<number, { watermark: number; delta: DedupeDelta; pauseMs: number }>();
  const sourceSnapshots = new Map<number, SplitCheckpoint[]>();

  // Stage 2: de-duplication and local pre-aggregation, for the ids this worker owns.
  const stage2 = new DedupePreAggregator({
    spec,
    allowedLatenessMs: opts.allowedLatenessMs,
    dedupeHorizonMs: opts.dedupeHorizonMs,
    maxHeld: MAX_HELD_PARTIALS,
    spill:
      coldIds === undefined
        ? undefined
        : {
            store: coldIds,
            memoryHorizonMs: opts.dedupeMemoryHorizonMs,
            spillUncaptured: runtime.checkpoints !== true,
          },
  });
  /** Per sender: its topic dictionary as far as its batches to this worker have told it. */
  const topicMirrors = Array.from({ length: parallelism }, () => new TopicMirror());
  /** Sends partials to their window owners, in flush order (late singles first, then window by window). */
  const flushPartials = (flushed: FlushedPartials): void => {
    const out = Array.from({ length: parallelism }, () => new PartialBatchBuilder());
    for (const p of flushed.singles) out[router.workerFor(p.topic)].addSingle(p.start, p.topic, p.hash);
    for (const { start, table } of flushed.windows) {
      for (const [topic, slot] of table.entries())
        out[router.workerFor(topic)].addSlot(start, topic, table, slot);
    }
    out.forEach((builder, to) => {
      if (builder.length === 0) return;
      const { batch, transfer } = builder.build();
      partials.send(to, batch, transfer);
    });
  };

  const tweets = mesh.exchange<TweetBatch>(
    'tweets',
    {
      onData(from, b) {
        const topics = topicMirrors[from];
        topics.apply(b);
        const outcome = stage2.addBatch(b, topics);
        progress.duplicates += outcome.duplicates;
        for (const { index, timestampMs } of outcome.late) {
          progress.late++;
          const raw = JSON.stringify({
            id: tweetIdAt(b, index),
            created_at: isoTime(timestampMs),
            author_id: authorAt(b, index),
            topics: topics.topics(b.topicCodes, b.topicOffsets[index], b.topicOffsets[index + 1]),
          });
          emitDead(
            'late',
            `event time ${isoTime(timestampMs)} arrived after an idle period, behind the watermark ${formatWatermark(stage2.watermark())} by more than the allowed lateness`,
            'dedupe-stage',
            raw,
          );
        }
        if (stage2.shouldFlush()) flushPartials(stage2.flushDue());
      },
      onWatermark(wm, idle) {
        stage2.advance(wm);
        flushPartials(stage2.flushComplete(wm));
        partials.broadcastWatermark(wm, idle);
      },
      onBarrier(id) {
        const started = performance.now();
        flushPartials(stage2.flush());
        stage2Snapshots.set(id, { ...stage2.takeDelta(), pauseMs: performance.now() - started });
        partials.broadcastBarrier(id);
      },
    },
    runtime.maxInFlight,
  );

  // Stage 1: the local stage, driven by the source runner.
  let emittedWatermark = Number.NEGATIVE_INFINITY;
  // Topics cross as codes of this dictionary; each receiver is sent a code's string once.
  const topicDictionary = new TopicDictionary();
  const topicSendStates = Array.from({ length: parallelism }, () => new TopicSendState());
  const topicSink = new TopicCodeSink(topicDictionary);
  const newBuilders = (lines: number): TweetBatchBuilder[] => {
    // Room for an even share and then some: a builder that fills up grows by copying.
    const capacity = Math.ceil((lines * 1.25) / parallelism) + 16;
    return Array.from(
      { length: parallelism },
      (_, to) => new TweetBatchBuilder(capacity, topicDictionary, topicSendStates[to]),
    );
  };

  const onBatch = async (s: SplitState, batch: RecordBatch): Promise<void> => {
    const source = s.split.id;
    for (const o of batch.oversize) {
      emitDead(
        'oversize',
        `record of ${o.bytes} bytes exceeds max-record-bytes ${runtime.maxRecordBytes}`,
        source,
        o.prefix,
        o.bytes,
      );
    }
    const raw = batch.raw;
    // A source that hands out bytes (raw) is read as bytes: lines become strings only for the full path.
    const lineCount = raw === undefined ? batch.lines.length : raw.starts.length;
    progress.records += lineCount + batch.oversize.length;
    // Between batches, so no builder holds codes of an epoch the dictionary leaves.
    topicDictionary.startBatch();
    const builders = newBuilders(lineCount);
    /**
     * The lateness threshold of the next tweet, after judging it; undefined
     * when late (and sent to the dead letters with its line, `line` or
     * bytes[from, to) made a string).
     */
    const judgeBytes = (
      timestampMs: number,
      bytes: Buffer | undefined,
      from: number,
      to: number,
      line?: string,
    ): number | undefined => {
      progress.tweets++;
      const threshold = Math.max(s.watermark.current(), emittedWatermark);
      s.watermark.observe(timestampMs);
      // The latest window of a record has the latest deadline: late for it means late for all.
      const latest = lastWindowStart(timestampMs, spec.slideMs);
      if (isWindowExpired(latest, spec, opts.allowedLatenessMs, threshold)) {
        progress.late++;
        emitDead(
          'late',
          `event time ${isoTime(timestampMs)} is behind the watermark ${formatWatermark(threshold)} by more than the allowed lateness for every window`,
          source,
          line ?? (bytes as Buffer).toString('utf8', from, to),
        );
        return undefined;
      }
      return threshold;
    };
    const judge = (timestampMs: number, line: string): number | undefined =>
      judgeBytes(timestampMs, undefined, 0, 0, line);
    /** The full path, for a line the fast path left (pages, odd or bad lines). */
    const decodeFully = (line: string): void => {
      const result = decodeLineByParse(line, decodeOptions);
      for (const f of result.failures) emitDead(f.reason, f.detail, source, line);
      for (const tweet of result.tweets) {
        const threshold = judge(tweet.timestampMs, line);
        if (threshold === undefined) continue;
        builders[router.workerFor(tweet.id)].add(
          tweet.id,
          tweet.timestampMs,
          tweet.authorId,
          tweet.topics,
          threshold,
        );
      }
    };
    if (raw !== undefined) {
      const { buffers, starts, ends } = raw;
      for (let k = 0; k < starts.length; k++) {
        const bytes = buffers[k];
        const t = scanTweetBytes(bytes, starts[k], ends[k], decodeOptions, topicSink);
        if (t === undefined) {
          decodeFully(bytes.toString('utf8', starts[k], ends[k]));
          continue;
        }
        // The line as a string only for the (rare) dead letter of a late tweet.
        const threshold = judgeBytes(t.timestampMs, bytes, starts[k], ends[k]);
        if (threshold === undefined) continue;
        builders[router.workerForKeyBytes(bytes, t.idStart, t.idEnd)].addBytes(
          bytes,
          t.idStart,
          t.idEnd,
          t.timestampMs,
          t.authorStart,
          t.authorEnd,
          topicSink.codes,
          topicSink.count,
          threshold,
        );
      }
    }
    for (const line of raw === undefined ? batch.lines : []) {
      // Ordinary tweets take the fast path, id and author as ranges of the line; the rest (pages, odd
      // or bad lines) the full one.
      const t = scanTweetIn(line, decodeOptions);
      if (t !== undefined) {
        const threshold = judge(t.timestampMs, line);
        if (threshold === undefined) continue;
        builders[router.workerForKeyIn(line, t.idStart, t.idEnd)].addIn(
          line,
          t.idStart,
          t.idEnd,
          t.timestampMs,
          t.authorStart,
          t.authorEnd,
          t.topics,
          t.topics.length,
          threshold,
        );
        continue;
      }
      decodeFully(line);
    }
    flushOutput(false);
    for (let to = 0; to < parallelism; to++) {
      const b = builders[to];
      if (b.length === 0) continue;
      const wait = tweets.whenWritable(to);
      if (wait) await wait;
      const { batch: out, transfer } = b.build();
      // Our own batches are handed over as they are; to a peer the columns' one buffer moves, uncopied.
      tweets.send(to, out, to === index ? undefined : transfer);
    }
  };

  const restore = ctx.start.restore?.operators;
  const restoreStarted = performance.now();
  if (restore?.dedupe !== undefined) {
    stage2.restoreDeltas(
      restore.dedupe.watermark,
      restore.dedupe.deltas,
      (kg) => kg >= ownKeyGroups.start && kg <= ownKeyGroups.end,
      maxParallelism,
    );
    emittedWatermark = restore.dedupe.watermark;
  }
  if (restore?.window !== undefined) operator.restore(restore.window.watermark, restore.window.blobs);
  if (restore !== undefined) {
    ctx.log('info', 'state restored', {
      ms: Math.round(performance.now() - restoreStarted),
      dedupeIds: stage2.dedupeSize(),
      windowEntries: operator.stateEntries(),
    });
  }

  const sourceDone = ctx.runSources({
    onBatch,
    onBarrier(id, splits) {
      // Batches are sent as they are read, so nothing is pending in the builders here.
      sourceSnapshots.set(id, splits);
      tweets.broadcastBarrier(id);
    },
    onWatermark(wm, idle) {
      emittedWatermark = Math.max(emittedWatermark, wm);
      progress.sourceWatermark = wm;
      tweets.broadcastWatermark(wm, idle);
    },
  });

  await sourceDone;
  ctx.log('debug', 'sources finished', { watermark: formatWatermark(emittedWatermark) });
  await windowFinished;
  flushOutput(true);
  mesh.close();
  if (coldIds !== undefined) {
    ctx.log('debug', 'de-duplication ids on disk', { ...coldIds.stats() });
    await coldIds.close();
  }
}
