import { WindowLatencyRecorder } from '../../src/runtime/window-latency';
import { MAX_WATERMARK } from '../../src/runtime/watermarks';

describe('window result latency', () => {
  test('a window is passed when the last worker reaches its end - 1', () => {
    const r = new WindowLatencyRecorder(2);
    r.observeSourceWatermark(0, 500, 1000);
    r.observeSourceWatermark(0, 999, 1010); // worker 0 passes [0, 1000) at 1010
    r.observeSourceWatermark(1, 700, 1005);
    r.observeSourceWatermark(1, 1500, 1020); // worker 1 passes it at 1020: the job's watermark does then
    expect(r.windowWritten(0, 1000, 1100)).toEqual({
      window_start: 0,
      window_end: 1000,
      watermark_passed_at: 1020,
      sink_written_at: 1100,
      latency_ms: 80,
      end_of_input: false,
    });
  });

  test('the first report at or beyond the end counts, not later ones', () => {
    const r = new WindowLatencyRecorder(1);
    r.observeSourceWatermark(0, 2500, 50);
    r.observeSourceWatermark(0, 2500, 60); // no advance: ignored
    r.observeSourceWatermark(0, 4000, 70);
    expect(r.windowWritten(0, 1000, 100)?.watermark_passed_at).toBe(50);
    expect(r.windowWritten(1000, 2000, 100)?.watermark_passed_at).toBe(50);
    expect(r.windowWritten(2000, 3000, 110)?.watermark_passed_at).toBe(70);
    expect(r.windowWritten(3000, 4000, 120)?.watermark_passed_at).toBe(70);
  });

  test('windows fired by the end-of-input watermark are marked', () => {
    const r = new WindowLatencyRecorder(2);
    r.observeSourceWatermark(0, 5000, 5);
    r.observeSourceWatermark(1, 3000, 10);
    r.observeSourceWatermark(0, MAX_WATERMARK, 20);
    r.observeSourceWatermark(1, MAX_WATERMARK, 30);
    expect(r.windowWritten(0, 1000, 35)).toMatchObject({ watermark_passed_at: 10, end_of_input: false });
    expect(r.windowWritten(9000, 10_000, 40)).toMatchObject({ watermark_passed_at: 30, end_of_input: true });
  });

  test('no sample when some worker never reported that far', () => {
    const r = new WindowLatencyRecorder(2);
    r.observeSourceWatermark(0, 5000, 10);
    expect(r.windowWritten(0, 1000, 30)).toBeUndefined();
  });
});
