import {
  assignWindows,
  isWindowComplete,
  isWindowExpired,
  lastWindowStart,
  validateWindowSpec,
  windowMaxTimestamp,
  WindowSpec,
} from '../../src/runtime/windows';

const MIN = 60_000;
const tumbling: WindowSpec = { sizeMs: MIN, slideMs: MIN };
const sliding: WindowSpec = { sizeMs: MIN, slideMs: 20_000 };

/** Checks that `starts` are exactly the windows of `spec` containing ts, latest first. */
function expectContaining(ts: number, spec: WindowSpec, starts: number[]): void {
  expect(starts.length).toBe(spec.sizeMs / spec.slideMs);
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i];
    expect(Math.abs(s % spec.slideMs)).toBe(0);
    expect(s).toBeLessThanOrEqual(ts);
    expect(ts).toBeLessThanOrEqual(windowMaxTimestamp(s, spec));
    if (i > 0) expect(starts[i - 1] - s).toBe(spec.slideMs);
  }
}

describe('lastWindowStart', () => {
  it('aligns positive timestamps to the slide', () => {
    expect(lastWindowStart(0, MIN)).toBe(0);
    expect(lastWindowStart(1, MIN)).toBe(0);
    expect(lastWindowStart(59_999, MIN)).toBe(0);
    expect(lastWindowStart(60_000, MIN)).toBe(60_000);
    expect(lastWindowStart(60_001, MIN)).toBe(60_000);
  });

  it('aligns negative timestamps downwards, not towards zero', () => {
    expect(lastWindowStart(-1, MIN)).toBe(-60_000);
    expect(lastWindowStart(-59_999, MIN)).toBe(-60_000);
    expect(lastWindowStart(-60_000, MIN)).toBe(-60_000);
    expect(lastWindowStart(-60_001, MIN)).toBe(-120_000);
    expect(lastWindowStart(-1, 20_000)).toBe(-20_000);
  });
});

describe('assignWindows: tumbling', () => {
  it.each([
    [0, 0],
    [1, 0],
    [59_999, 0],
    [60_000, 60_000],
    [119_999, 60_000],
    [-1, -60_000],
    [-60_000, -60_000],
    [-60_001, -120_000],
    [-59_999, -60_000],
    [1_418_598_723_456, 1_418_598_720_000],
  ])('ts %d falls in exactly the window starting at %d', (ts, start) => {
    expect(assignWindows(ts, tumbling)).toEqual([start]);
  });

  it('a timestamp exactly at a window start belongs to that window only, end-1 to the one before', () => {
    expect(assignWindows(120_000, tumbling)).toEqual([120_000]);
    expect(assignWindows(119_999, tumbling)).toEqual([60_000]);
    expect(assignWindows(-120_000, tumbling)).toEqual([-120_000]);
    expect(assignWindows(-120_001, tumbling)).toEqual([-180_000]);
  });
});

describe('assignWindows: sliding', () => {
  it('size 60s slide 20s: exactly 3 windows, latest first', () => {
    expect(assignWindows(0, sliding)).toEqual([0, -20_000, -40_000]);
    expect(assignWindows(19_999, sliding)).toEqual([0, -20_000, -40_000]);
    expect(assignWindows(20_000, sliding)).toEqual([20_000, 0, -20_000]);
    expect(assignWindows(59_999, sliding)).toEqual([40_000, 20_000, 0]);
    expect(assignWindows(60_000, sliding)).toEqual([60_000, 40_000, 20_000]);
  });

  it('negative timestamps get 3 windows too', () => {
    expect(assignWindows(-1, sliding)).toEqual([-20_000, -40_000, -60_000]);
    expect(assignWindows(-60_000, sliding)).toEqual([-60_000, -80_000, -100_000]);
    expect(assignWindows(-60_001, sliding)).toEqual([-80_000, -100_000, -120_000]);
    expect(assignWindows(-20_000, sliding)).toEqual([-20_000, -40_000, -60_000]);
  });

  it('every timestamp around many boundaries is in exactly size/slide windows that contain it', () => {
    const specs: WindowSpec[] = [sliding, tumbling, { sizeMs: 10, slideMs: 5 }, { sizeMs: 9, slideMs: 3 }];
    for (const spec of specs) {
      for (let k = -5; k <= 5; k++) {
        const boundary = k * spec.slideMs;
        for (const ts of [boundary - 1, boundary, boundary + 1]) {
          expectContaining(ts, spec, assignWindows(ts, spec));
        }
      }
    }
  });

  it('slide == size behaves as tumbling', () => {
    const spec: WindowSpec = { sizeMs: 20_000, slideMs: 20_000 };
    expect(assignWindows(0, spec)).toEqual([0]);
    expect(assignWindows(19_999, spec)).toEqual([0]);
    expect(assignWindows(20_000, spec)).toEqual([20_000]);
    expect(assignWindows(-1, spec)).toEqual([-20_000]);
  });
});

describe('assignWindows: lateThreshold', () => {
  // ts 50_000 is in windows starting 40_000 (max ts 99_999), 20_000 (79_999) and 0 (59_999).
  const ts = 50_000;

  it('returns every window when the threshold is before all deadlines', () => {
    expect(assignWindows(ts, sliding, 0, Number.NEGATIVE_INFINITY)).toEqual([40_000, 20_000, 0]);
    expect(assignWindows(ts, sliding, 0, 59_998)).toEqual([40_000, 20_000, 0]);
  });

  it('a record late for some of its windows goes only to the others', () => {
    expect(assignWindows(ts, sliding, 0, 59_999)).toEqual([40_000, 20_000]);
    expect(assignWindows(ts, sliding, 0, 79_998)).toEqual([40_000, 20_000]);
    expect(assignWindows(ts, sliding, 0, 79_999)).toEqual([40_000]);
    expect(assignWindows(ts, sliding, 0, 99_998)).toEqual([40_000]);
  });

  it('a record late for every window gets none', () => {
    expect(assignWindows(ts, sliding, 0, 99_999)).toEqual([]);
    expect(assignWindows(ts, sliding, 0, Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('allowed lateness moves each deadline', () => {
    expect(assignWindows(ts, sliding, 5_000, 64_998)).toEqual([40_000, 20_000, 0]);
    expect(assignWindows(ts, sliding, 5_000, 64_999)).toEqual([40_000, 20_000]);
    expect(assignWindows(ts, sliding, 5_000, 104_998)).toEqual([40_000]);
    expect(assignWindows(ts, sliding, 5_000, 104_999)).toEqual([]);
  });

  it('tumbling: the one window is kept until its deadline', () => {
    expect(assignWindows(-1, tumbling, 1_000, -1)).toEqual([-60_000]);
    expect(assignWindows(-1, tumbling, 1_000, 998)).toEqual([-60_000]);
    expect(assignWindows(-1, tumbling, 1_000, 999)).toEqual([]);
  });
});

describe('isWindowComplete / isWindowExpired', () => {
  it('a window completes exactly when the watermark reaches end - 1', () => {
    expect(windowMaxTimestamp(0, tumbling)).toBe(59_999);
    expect(isWindowComplete(0, tumbling, 59_998)).toBe(false);
    expect(isWindowComplete(0, tumbling, 59_999)).toBe(true);
    expect(isWindowComplete(0, tumbling, 60_000)).toBe(true);
    expect(isWindowComplete(-60_000, tumbling, -2)).toBe(false);
    expect(isWindowComplete(-60_000, tumbling, -1)).toBe(true);
    expect(isWindowComplete(0, tumbling, Number.NEGATIVE_INFINITY)).toBe(false);
    expect(isWindowComplete(0, tumbling, Number.POSITIVE_INFINITY)).toBe(true);
  });

  it('a window expires exactly when the watermark reaches end - 1 + allowed lateness', () => {
    expect(isWindowExpired(0, tumbling, 10_000, 69_998)).toBe(false);
    expect(isWindowExpired(0, tumbling, 10_000, 69_999)).toBe(true);
    expect(isWindowExpired(20_000, sliding, 10_000, 89_998)).toBe(false);
    expect(isWindowExpired(20_000, sliding, 10_000, 89_999)).toBe(true);
  });

  it('with no allowed lateness a window expires as it completes', () => {
    expect(isWindowExpired(0, tumbling, 0, 59_998)).toBe(false);
    expect(isWindowExpired(0, tumbling, 0, 59_999)).toBe(true);
  });
});

describe('validateWindowSpec', () => {
  it('accepts tumbling and sliding specs', () => {
    expect(() => validateWindowSpec(tumbling)).not.toThrow();
    expect(() => validateWindowSpec(sliding)).not.toThrow();
    expect(() => validateWindowSpec({ sizeMs: 1, slideMs: 1 })).not.toThrow();
    expect(() => validateWindowSpec({ sizeMs: 60_000, slideMs: 7 })).not.toThrow();
  });

  it.each([
    [{ sizeMs: 0, slideMs: 1 }, /window size/],
    [{ sizeMs: -60_000, slideMs: 60_000 }, /window size/],
    [{ sizeMs: 1.5, slideMs: 1 }, /window size/],
    [{ sizeMs: Number.NaN, slideMs: 1 }, /window size/],
    [{ sizeMs: Number.POSITIVE_INFINITY, slideMs: 1 }, /window size/],
    [{ sizeMs: 60_000, slideMs: 0 }, /slide/],
    [{ sizeMs: 60_000, slideMs: -20_000 }, /slide/],
    [{ sizeMs: 60_000, slideMs: 0.5 }, /slide/],
    [{ sizeMs: 60_000, slideMs: 120_000 }, /must not exceed/],
  ])('rejects %o', (spec, message) => {
    expect(() => validateWindowSpec(spec)).toThrow(RangeError);
    expect(() => validateWindowSpec(spec)).toThrow(message);
  });
});
