import { PassThrough } from 'node:stream';
import { LiveView } from '../../src/runtime/live-view';
import type { JobProgress } from '../../src/runtime/job-runner';

const progress = (records: number, watermark: number): JobProgress => ({
  records,
  tweets: records,
  deadLetters: 2,
  late: 1,
  duplicates: 5,
  sourceWatermark: watermark,
  windowWatermark: watermark,
  watermark,
  outputRecords: {},
});

describe('LiveView', () => {
  it('shows events/s, watermark lag and the latest window trends', () => {
    let now = Date.parse('2022-01-01T00:01:10.000Z');
    const view = new LiveView(new PassThrough() as unknown as NodeJS.WriteStream, () => now);
    expect(view.frame()).toContain('starting...');
    view.start();
    view.stop();
    view.onProgress(progress(0, Number.NEGATIVE_INFINITY));
    view.frame();
    now += 2000;
    view.onProgress(progress(40_000, Date.parse('2022-01-01T00:01:07.000Z')));
    view.onWindow(Date.parse('2022-01-01T00:00:00Z'), Date.parse('2022-01-01T00:01:00Z'), [
      { topic: '#burst1', count: 120, distinctAuthors: 118, score: 9.5 },
      { topic: '#steady', count: 300, distinctAuthors: 250, score: 1.25 },
    ]);
    const frame = view.frame();
    expect(frame).toMatch(/events\/s\s+20,000/);
    expect(frame).toContain('lag 5.0 s');
    expect(frame).toContain('window 2022-01-01T00:00:00.000Z .. 2022-01-01T00:01:00.000Z');
    expect(frame).toMatch(/1 {2}#burst1\s+120\s+118\s+9\.50/);
    expect(frame).toMatch(/2 {2}#steady\s+300\s+250\s+1\.25/);
  });
});
