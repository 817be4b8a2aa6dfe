import {
  BoundedOutOfOrdernessWatermark,
  formatWatermark,
  MAX_WATERMARK,
  MIN_WATERMARK,
  WatermarkCombiner,
} from '../../src/runtime/watermarks';

describe('BoundedOutOfOrdernessWatermark', () => {
  it('makes no promise before the first record', () => {
    expect(new BoundedOutOfOrdernessWatermark(5_000).current()).toBe(MIN_WATERMARK);
  });

  it('is the max timestamp seen minus the bound minus one', () => {
    const w = new BoundedOutOfOrdernessWatermark(5_000);
    w.observe(10_000);
    expect(w.current()).toBe(4_999);
    w.observe(12_000);
    expect(w.current()).toBe(6_999);
  });

  it('with bound 0 promises everything before the max timestamp', () => {
    const w = new BoundedOutOfOrdernessWatermark(0);
    w.observe(60_000);
    expect(w.current()).toBe(59_999);
  });

  it('out-of-order records within the bound do not move it back', () => {
    const w = new BoundedOutOfOrdernessWatermark(5_000);
    w.observe(10_000);
    w.observe(6_000);
    expect(w.current()).toBe(4_999);
    w.observe(9_999);
    expect(w.current()).toBe(4_999);
    w.observe(10_000);
    expect(w.current()).toBe(4_999);
  });

  it('handles negative timestamps', () => {
    const w = new BoundedOutOfOrdernessWatermark(1_000);
    w.observe(-60_000);
    expect(w.current()).toBe(-61_001);
    w.observe(-1);
    expect(w.current()).toBe(-1_002);
  });
});

describe('WatermarkCombiner', () => {
  function combiner(...ids: (string | number)[]): WatermarkCombiner {
    const c = new WatermarkCombiner();
    for (const id of ids) c.addInput(id);
    return c;
  }

  it('with no inputs is finished: MAX', () => {
    expect(new WatermarkCombiner().current()).toBe(MAX_WATERMARK);
    expect(new WatermarkCombiner().isIdle()).toBe(false);
  });

  it('holds at MIN until every input has reported', () => {
    const c = combiner('a', 'b');
    expect(c.current()).toBe(MIN_WATERMARK);
    expect(c.update('a', 1_000)).toBe(false);
    expect(c.current()).toBe(MIN_WATERMARK);
    expect(c.update('b', 2_000)).toBe(true);
    expect(c.current()).toBe(1_000);
  });

  it('is the minimum over inputs', () => {
    const c = combiner(0, 1, 2);
    c.update(0, 300);
    c.update(1, 100);
    c.update(2, 200);
    expect(c.current()).toBe(100);
    c.update(1, 400);
    expect(c.current()).toBe(200);
    c.update(2, 500);
    expect(c.current()).toBe(300);
  });

  it('never goes backwards, and an input cannot lower its own watermark', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    c.update('b', 200);
    expect(c.current()).toBe(100);
    expect(c.update('a', 50)).toBe(false);
    expect(c.current()).toBe(100);
    // a's watermark is still 100, not 50: b moving on does not expose a lower value.
    c.update('b', 300);
    expect(c.current()).toBe(100);
    c.update('a', 250);
    expect(c.current()).toBe(250);
  });

  it('reports change only when the output or its idleness changes', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    expect(c.update('b', 100)).toBe(true);
    expect(c.update('b', 200)).toBe(false);
    expect(c.update('a', 150)).toBe(true);
    expect(c.update('a', 150)).toBe(false);
  });

  it('excludes idle inputs', () => {
    const c = combiner('a', 'b', 'c');
    c.update('a', 100);
    c.update('b', 50);
    c.update('c', 200);
    expect(c.current()).toBe(50);
    expect(c.setIdle('b', true)).toBe(true);
    expect(c.current()).toBe(100);
    expect(c.isIdle()).toBe(false);
  });

  it('an input that never reported but is idle no longer holds it at MIN', () => {
    const c = combiner('a', 'b');
    c.update('a', 1_000);
    expect(c.current()).toBe(MIN_WATERMARK);
    c.setIdle('b', true);
    expect(c.current()).toBe(1_000);
  });

  it('when every input is idle it holds and reports idle', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    c.update('b', 200);
    c.setIdle('a', true);
    expect(c.current()).toBe(200);
    expect(c.isIdle()).toBe(false);
    expect(c.setIdle('b', true)).toBe(true);
    expect(c.current()).toBe(200);
    expect(c.isIdle()).toBe(true);
    // An idle update carrying a higher watermark does not release it while all are idle.
    c.update('a', 1_000, true);
    expect(c.current()).toBe(200);
    expect(c.isIdle()).toBe(true);
  });

  it('an idle input that comes back holds the watermark back again (but it never goes backwards)', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    c.update('b', 50);
    c.setIdle('b', true);
    c.update('a', 200);
    expect(c.current()).toBe(200);
    // b returns behind the output: the output holds, it does not drop to 150.
    c.update('b', 150, false);
    expect(c.current()).toBe(200);
    // a moving on no longer moves the output: b holds it back.
    c.update('a', 300);
    expect(c.current()).toBe(200);
    c.update('b', 250);
    expect(c.current()).toBe(250);
    expect(c.isIdle()).toBe(false);
  });

  it('coming back from all-idle ends the idleness', () => {
    const c = combiner('a');
    c.update('a', 100);
    c.setIdle('a', true);
    expect(c.isIdle()).toBe(true);
    expect(c.update('a', 120)).toBe(true);
    expect(c.isIdle()).toBe(false);
    expect(c.current()).toBe(120);
  });

  it('a finished input (MAX) no longer holds the others back', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    c.update('b', 500);
    c.update('a', MAX_WATERMARK);
    expect(c.current()).toBe(500);
    c.update('b', 700);
    expect(c.current()).toBe(700);
  });

  it('is MAX once every input finished', () => {
    const c = combiner('a', 'b');
    c.update('a', MAX_WATERMARK);
    expect(c.current()).toBe(MIN_WATERMARK);
    c.update('b', MAX_WATERMARK);
    expect(c.current()).toBe(MAX_WATERMARK);
    expect(c.isIdle()).toBe(false);
  });

  it('a finished input counts as finished even when flagged idle', () => {
    const c = combiner('a', 'b');
    c.update('a', MAX_WATERMARK, true);
    c.update('b', MAX_WATERMARK);
    expect(c.current()).toBe(MAX_WATERMARK);
    expect(c.isIdle()).toBe(false);
  });

  it('finished inputs plus idle ones: holds and reports idle instead of jumping to MAX', () => {
    const c = combiner('a', 'b');
    c.update('a', 100);
    c.update('b', 200);
    c.update('a', MAX_WATERMARK);
    expect(c.current()).toBe(200);
    c.setIdle('b', true);
    // b has not finished: it may still send records after 200, so the final watermark must wait for it.
    expect(c.current()).toBe(200);
    expect(c.isIdle()).toBe(true);
    c.update('b', 400, false);
    expect(c.current()).toBe(400);
    expect(c.isIdle()).toBe(false);
    c.update('b', MAX_WATERMARK);
    expect(c.current()).toBe(MAX_WATERMARK);
  });

  it('rejects unknown inputs', () => {
    const c = combiner('a');
    expect(() => c.update('x', 1)).toThrow(/unknown watermark input x/);
    expect(() => c.setIdle('x', true)).toThrow(/unknown watermark input/);
    expect(c.hasInput('a')).toBe(true);
    expect(c.hasInput('x')).toBe(false);
  });
});

describe('formatWatermark', () => {
  it('formats the extremes and ISO times', () => {
    expect(formatWatermark(MIN_WATERMARK)).toBe('-inf');
    expect(formatWatermark(MAX_WATERMARK)).toBe('+inf');
    expect(formatWatermark(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});
