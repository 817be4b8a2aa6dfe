import { jobTimeline } from '../../src/runtime/job-runner';

describe('jobTimeline', () => {
  // Epoch ms at a given offset from this process's start, as workers report them.
  const at = (ms: number): number => performance.timeOrigin + ms;

  test('start-up ends at the earliest first record, reading at the last source to end', () => {
    const t = jobTimeline(
      at(100),
      [
        { firstRecordAt: at(180.04), sourcesDoneAt: at(1900) },
        { firstRecordAt: at(150), sourcesDoneAt: at(2000.26) },
      ],
      at(2400),
    );
    expect(t).toEqual({ startedMs: 100, firstRecordMs: 150, sourcesDoneMs: 2000.3, finishedMs: 2400 });
  });

  test('a worker that never read leaves start-up to the others; one whose sources never ended leaves it open', () => {
    const t = jobTimeline(
      at(10),
      [
        { firstRecordAt: null, sourcesDoneAt: at(50) },
        { firstRecordAt: at(40), sourcesDoneAt: null },
      ],
      at(60),
    );
    expect(t.firstRecordMs).toBe(40);
    expect(t.sourcesDoneMs).toBeNull();
  });

  test('no workers: nothing read, nothing ended', () => {
    expect(jobTimeline(at(5), [], at(6))).toEqual({
      startedMs: 5,
      firstRecordMs: null,
      sourcesDoneMs: null,
      finishedMs: 6,
    });
  });
});
