import type { PollResult, SplitDescriptor, SplitReader } from '../../src/connectors/contract';
import { ManualClock } from '../../src/runtime/clock';
import { SourceRunner, SourceRunnerOptions } from '../../src/runtime/source-runner';
import { MAX_WATERMARK, MIN_WATERMARK } from '../../src/runtime/watermarks';

/** One scripted poll: a batch of record timestamps, or 'idle' / 'end'. */
type Step = number[] | 'idle' | 'end';

/** Polls beyond this fail the test instead of letting a broken runner spin forever. */
const MAX_POLLS = 10_000;

/**
 * A scripted split reader. Every poll advances the shared ManualClock by
 * `stepMs`, so processing time moves with the polls and not with wall time.
 * Records are their own timestamps, one per line. After the script, an
 * unbounded split is idle and a bounded one ends; after stop() every poll ends.
 */
class FakeReader implements SplitReader {
  readonly split: SplitDescriptor;
  polls = 0;
  closed = false;
  lastMaxRecords = -1;
  /** Called at the start of every poll with the poll count; tests use it to stop the runner. */
  onPoll?: (polls: number) => void;
  private next = 0;
  private stopped = false;

  constructor(
    id: string,
    private readonly script: Step[],
    private readonly clock: ManualClock,
    bounded: boolean,
    private readonly stepMs = 100,
  ) {
    this.split = { id, connector: 'fake', config: null, bounded };
  }

  async poll(maxRecords: number): Promise<PollResult> {
    if (++this.polls > MAX_POLLS) throw new Error(`split ${this.split.id} polled ${MAX_POLLS} times`);
    this.lastMaxRecords = maxRecords;
    this.clock.advance(this.stepMs);
    this.onPoll?.(this.polls);
    if (this.stopped) return 'end';
    const step: Step =
      this.next < this.script.length ? this.script[this.next++] : this.split.bounded ? 'end' : 'idle';
    if (step === 'idle' || step === 'end') return step;
    return { lines: step.map(String), oversize: [] };
  }

  position(): unknown {
    return this.next;
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

type WmEvent = [watermark: number, idle: boolean];

interface Run {
  runner: SourceRunner;
  events: WmEvent[];
  /** Timestamps delivered, per split id. */
  records: Map<string, number[]>;
  done: Promise<void>;
}

/**
 * Runs a SourceRunner over the readers. `onEvent` sees each watermark event
 * (after it is recorded) and may stop the runner.
 */
function start(
  readers: FakeReader[],
  clock: ManualClock,
  options: Partial<SourceRunnerOptions> = {},
  onEvent?: (e: WmEvent, runner: SourceRunner) => void,
): Run {
  const runner = new SourceRunner(readers, {
    outOfOrdernessMs: 0,
    idleTimeoutMs: 500,
    batchSize: 100,
    clock,
    idlePollMs: 0,
    ...options,
  });
  const events: WmEvent[] = [];
  const records = new Map<string, number[]>();
  const done = runner.run({
    onBatch(s, batch) {
      const list = records.get(s.split.id) ?? [];
      records.set(s.split.id, list);
      for (const line of batch.lines) {
        const ts = Number(line);
        s.watermark.observe(ts);
        list.push(ts);
      }
    },
    onWatermark(wm, idle) {
      const e: WmEvent = [wm, idle];
      events.push(e);
      onEvent?.(e, runner);
    },
  });
  return { runner, events, records, done };
}

const MIN = MIN_WATERMARK;
const MAX = MAX_WATERMARK;

describe('SourceRunner', () => {
  it('combines per-split watermarks as the minimum; bounded splits ending give +Infinity', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000], [3_000], [2_000]], clock, true);
    const b = new FakeReader('b', [[500], [4_000]], clock, true);
    const run = start([a, b], clock, { outOfOrdernessMs: 100 });
    await run.done;
    // Round 1: a 899, b 399. Round 2: a 2899, b 3899. Round 3: a's out-of-order record keeps 2899, b ends.
    expect(run.events).toEqual([
      [MIN, false],
      [399, false],
      [2_899, false],
      [MAX, false],
    ]);
    expect(run.records.get('a')).toEqual([1_000, 3_000, 2_000]);
    expect(run.records.get('b')).toEqual([500, 4_000]);
    expect(run.runner.splits.map((s) => s.finished)).toEqual([true, true]);
    expect(run.runner.watermark()).toBe(MAX);
    expect(a.closed && b.closed).toBe(true);
    expect(a.lastMaxRecords).toBe(100);
  });

  it('a split added while running is polled from the next round, holds the watermark back until it has data, and is in barriers', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000], [2_000], [3_000], [4_000]], clock, true);
    const late = new FakeReader('late', [[2_500], [5_000]], clock, true);
    const barriers: string[][] = [];
    const runner = new SourceRunner([a], {
      outOfOrdernessMs: 0,
      idleTimeoutMs: 0,
      batchSize: 100,
      clock,
      idlePollMs: 0,
    });
    const events: number[] = [];
    a.onPoll = (polls) => {
      if (polls === 2) runner.addReader(late);
      if (polls === 3) runner.requestBarrier(1);
    };
    const records: string[] = [];
    await runner.run({
      onBatch(s, batch) {
        for (const line of batch.lines) {
          s.watermark.observe(Number(line));
          records.push(`${s.split.id}:${line}`);
        }
      },
      onWatermark: (wm) => events.push(wm),
      onBarrier: (_id, splits) => {
        barriers.push(splits.map((x) => x.splitId));
      },
    });
    expect(records).toEqual(['a:1000', 'a:2000', 'a:3000', 'late:2500', 'a:4000', 'late:5000']);
    // 'late' joins at -inf: the watermark stays at 999 while a reaches 1999, then follows late's 2499
    // (not a's 2999); it never goes back.
    expect(events).toEqual([MIN, 999, 2_499, 3_999, MAX]);
    expect(barriers).toEqual([['a', 'late']]);
    expect(late.closed).toBe(true);
  });

  it('a split idle for longer than idleTimeoutMs stops holding the watermark back, and counts again when it returns', async () => {
    const clock = new ManualClock();
    // Two polls per round, 100 ms each: b is polled at 200, 400, 600, ... and turns idle at 600.
    const a = new FakeReader(
      'a',
      [1, 2, 3, 4, 5, 6, 7, 8].map((k) => [k * 1_000]),
      clock,
      false,
    );
    const b = new FakeReader(
      'b',
      ['idle', 'idle', 'idle', 'idle', 'idle', [5_500], [6_500], [7_500]],
      clock,
      false,
    );
    const run = start([a, b], clock, { idleTimeoutMs: 500 }, ([wm], runner) => {
      if (wm === 7_499) runner.stop();
    });
    await run.done;
    expect(run.events).toEqual([
      [MIN, false],
      // Round 3: b idle since 0 for 600 ms >= 500: the watermark is a's.
      [2_999, false],
      [3_999, false],
      [4_999, false],
      // Round 6: b is back at 5_499; the watermark does not go back, it holds at 5_999...
      [5_999, false],
      // ... and from then on b holds it back: a is at 6_999, the watermark follows b.
      [6_499, false],
      [7_499, false],
      [MAX, false],
    ]);
    expect(run.runner.splits.map((s) => s.idle)).toEqual([false, false]);
  });

  it('idleness counts from the split’s last batch', async () => {
    const clock = new ManualClock();
    const a = new FakeReader(
      'a',
      [1, 2, 3, 4, 5].map((k) => [k * 1_000]),
      clock,
      false,
    );
    // b's last batch is at 200; its idle polls are at 400, 600 (400 ms) and 800 (600 ms: idle).
    const b = new FakeReader('b', [[500]], clock, false);
    const run = start([a, b], clock, { idleTimeoutMs: 500 }, ([wm], runner) => {
      if (wm === 4_999) runner.stop();
    });
    await run.done;
    expect(run.events).toEqual([
      [MIN, false],
      [499, false],
      [3_999, false],
      [4_999, false],
      [MAX, false],
    ]);
  });

  it('a split idle for less than idleTimeoutMs keeps holding the watermark back', async () => {
    const clock = new ManualClock();
    const a = new FakeReader(
      'a',
      [1, 2, 3, 4, 5, 6, 7, 8].map((k) => [k * 1_000]),
      clock,
      false,
    );
    const b = new FakeReader('b', [], clock, false);
    const run = start([a, b], clock, { idleTimeoutMs: 10_000 });
    a.onPoll = (polls) => {
      if (polls === 9) run.runner.stop();
    };
    await run.done;
    expect(run.records.get('a')).toHaveLength(8);
    expect(clock.now()).toBeLessThan(10_000);
    // b, silent but not yet idle, held the watermark at MIN until both ended.
    expect(run.events).toEqual([
      [MIN, false],
      [MAX, false],
    ]);
  });

  it('idleTimeoutMs 0 disables idleness', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000], [2_000], [3_000]], clock, true);
    // b never delivers anything, for a minute per poll, but may not be declared idle.
    const b = new FakeReader('b', [], clock, false, 60_000);
    const run = start([a, b], clock, { idleTimeoutMs: 0 });
    b.onPoll = (polls) => {
      if (polls === 20) run.runner.stop();
    };
    await run.done;
    expect(clock.now()).toBeGreaterThan(60_000 * 20);
    expect(run.events).toEqual([
      [MIN, false],
      [MAX, false],
    ]);
  });

  it('when every split is idle the watermark holds and reports idle', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000]], clock, false);
    const b = new FakeReader('b', [[2_000]], clock, false);
    const run = start([a, b], clock, { idleTimeoutMs: 500 }, ([, idle], runner) => {
      if (idle) runner.stop();
    });
    await run.done;
    // a's last batch at 100, idle at its poll at 700; b's at 200, idle at 800: both in round 4.
    expect(run.events).toEqual([
      [MIN, false],
      [999, false],
      [1_999, true],
      [MAX, false],
    ]);
  });

  it('a bounded split ending while another split is idle does not emit the final watermark', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000], [2_000]], clock, true);
    const b = new FakeReader('b', [[500]], clock, false);
    const run = start([a, b], clock, { idleTimeoutMs: 500 }, ([, idle], runner) => {
      if (idle) runner.stop();
    });
    await run.done;
    // a ends in round 3; b (last batch at 200) turns idle at 800 in round 4: still open, so hold at 499.
    expect(run.events).toEqual([
      [MIN, false],
      [499, false],
      [499, true],
      [MAX, false],
    ]);
    expect(run.events.findIndex(([wm]) => wm === MAX)).toBe(run.events.length - 1);
  });

  it('a runner with no splits emits +Infinity', async () => {
    const clock = new ManualClock();
    const run = start([], clock);
    await run.done;
    expect(run.events[run.events.length - 1]).toEqual([MAX, false]);
    expect(run.runner.watermark()).toBe(MAX);
  });

  it('stop() ends unbounded splits', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000], [2_000], [3_000]], clock, false);
    const b = new FakeReader('b', [[1_500]], clock, false);
    const run = start([a, b], clock, { idleTimeoutMs: 0 });
    // a's script is done after 3 polls; both are idle (and would stay open) from then on.
    a.onPoll = (polls) => {
      if (polls === 10) {
        expect(run.runner.stopped).toBe(false);
        run.runner.stop();
      }
    };
    await run.done;
    expect(run.runner.stopped).toBe(true);
    expect(run.records.get('a')).toEqual([1_000, 2_000, 3_000]);
    expect(run.events).toEqual([
      [MIN, false],
      [999, false],
      // b (1_499) holds a (1_999, 2_999) back.
      [1_499, false],
      [MAX, false],
    ]);
    expect(run.runner.splits.every((s) => s.finished)).toBe(true);
    expect(a.polls).toBe(10);
    expect(a.closed && b.closed).toBe(true);
  });

  it('stop() before run() ends every split at its first poll', async () => {
    const clock = new ManualClock();
    const a = new FakeReader('a', [[1_000]], clock, false);
    const runner = new SourceRunner([a], { outOfOrdernessMs: 0, idleTimeoutMs: 0, batchSize: 10, clock });
    const events: WmEvent[] = [];
    let batches = 0;
    runner.stop();
    await runner.run({ onBatch: () => void batches++, onWatermark: (wm, idle) => events.push([wm, idle]) });
    expect(a.polls).toBe(1);
    expect(batches).toBe(0);
    expect(events).toEqual([
      [MIN, false],
      [MAX, false],
    ]);
  });

  describe('watermark alignment', () => {
    /** Bounded alignable readers; `order` records which split each poll went to. */
    function aligned(
      clock: ManualClock,
      scripts: Record<string, Step[]>,
      alignable = true,
    ): { readers: FakeReader[]; order: string[] } {
      const order: string[] = [];
      const readers = Object.entries(scripts).map(([id, script]) => {
        const r = new FakeReader(id, script, clock, true);
        r.split.alignable = alignable;
        r.onPoll = () => order.push(id);
        return r;
      });
      return { readers, order };
    }
    // `early` covers 0..9 s; `later` starts a minute on, as the byte ranges of one file do.
    const scripts = (): Record<string, Step[]> => ({
      early: Array.from({ length: 10 }, (_, i) => [i * 1_000]),
      later: [[60_000], [61_000], [62_000]],
    });

    it('holds an alignable split that runs ahead until the slowest split catches up, then reads it', async () => {
      const clock = new ManualClock();
      const { readers, order } = aligned(clock, scripts());
      const run = start(readers, clock, { alignmentMs: 5_000, idleTimeoutMs: 0 });
      await run.done;
      // One poll each to learn where every split stands; then `later` waits until `early` has ended.
      expect(order.slice(0, 2)).toEqual(['early', 'later']);
      expect(order.slice(2, 12)).toEqual(Array(10).fill('early'));
      expect(order.slice(12)).toEqual(['later', 'later', 'later']);
      // Nothing is dropped or reordered within a split; the watermark only moves forward.
      expect(run.records.get('early')).toEqual(scripts().early.flat());
      expect(run.records.get('later')).toEqual([60_000, 61_000, 62_000]);
      const wms = run.events.map(([wm]) => wm);
      expect([...wms].sort((x, y) => x - y)).toEqual(wms);
      expect(wms[wms.length - 1]).toBe(MAX);
    });

    it('reads a split again once the watermark is within alignmentMs of it', async () => {
      const clock = new ManualClock();
      const { readers, order } = aligned(clock, {
        early: Array.from({ length: 10 }, (_, i) => [i * 1_000]),
        later: [[7_000], [8_000]],
      });
      await start(readers, clock, { alignmentMs: 3_000, idleTimeoutMs: 0 }).done;
      // `later` (watermark 6,999) waits until the watermark is 3,999 (early's record 4,000), then both run.
      expect(order.slice(0, 8)).toEqual(['early', 'later', ...Array(5).fill('early'), 'later']);
    });

    it('never holds a split that is not alignable, nor any split with alignmentMs 0', async () => {
      for (const [alignable, alignmentMs] of [
        [false, 5_000],
        [true, 0],
      ] as const) {
        const clock = new ManualClock();
        const { readers, order } = aligned(clock, scripts(), alignable);
        await start(readers, clock, { alignmentMs, idleTimeoutMs: 0 }).done;
        expect(order.slice(0, 6)).toEqual(['early', 'later', 'early', 'later', 'early', 'later']);
      }
    });

    it('polls every split while a split has not reported yet, so restored splits cannot all wait', async () => {
      const clock = new ManualClock();
      const { readers, order } = aligned(clock, { a: [[100_000]], b: [[200_000]] });
      const runner = new SourceRunner(readers, {
        outOfOrdernessMs: 0,
        idleTimeoutMs: 0,
        batchSize: 10,
        clock,
        idlePollMs: 0,
        alignmentMs: 1_000,
      });
      // Both resume far apart in event time, before either has been polled.
      runner.restoreSplit('a', 90_000);
      runner.restoreSplit('b', 190_000);
      await runner.run({
        onBatch: (s, batch) => batch.lines.forEach((l) => s.watermark.observe(Number(l))),
        onWatermark: () => undefined,
      });
      expect(order).toEqual(['a', 'b', 'a', 'b']);
      expect(runner.splits.every((s) => s.finished)).toBe(true);
    });
  });
});
