import type { JobProgress } from './job-runner';
import { formatWatermark } from './watermarks';

export interface ViewTrend {
  topic: string;
  count: number;
  distinctAuthors: number;
  score: number;
}

/**
 * The terminal view of a running job: top trends of the latest closed window,
 * events/s and watermark lag, redrawn in place about once a second.
 */
export class LiveView {
  private latest: { start: number; end: number; trends: ViewTrend[] } | null = null;
  private progress: JobProgress | null = null;
  private lastRecords = 0;
  private lastAt = 0;
  private rate = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.lastAt = this.now();
    this.timer = setInterval(() => this.render(), 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.render();
  }

  onProgress(p: JobProgress): void {
    this.progress = p;
  }

  onWindow(start: number, end: number, trends: ViewTrend[]): void {
    this.latest = { start, end, trends };
  }

  /** The screen as text; exposed for tests. */
  frame(): string {
    const now = this.now();
    const p = this.progress;
    if (p) {
      const dt = (now - this.lastAt) / 1000;
      if (dt >= 0.5) {
        this.rate = (p.records - this.lastRecords) / dt;
        this.lastRecords = p.records;
        this.lastAt = now;
      }
    }
    const lines: string[] = ['Floe: trending topics   (Ctrl-C stops cleanly)', ''];
    if (p) {
      const wm = p.watermark;
      const lag = Number.isFinite(wm) ? `${((now - wm) / 1000).toFixed(1)} s` : 'n/a';
      lines.push(
        `events/s ${Math.round(this.rate).toLocaleString('en-US').padStart(10)}   records ${p.records.toLocaleString('en-US')}   duplicates ${p.duplicates.toLocaleString('en-US')}   late ${p.late}   dead-letter ${p.deadLetters}`,
        `watermark ${formatWatermark(wm)}   lag ${lag}`,
      );
    } else {
      lines.push('starting...');
    }
    lines.push('');
    if (this.latest) {
      const { start, end, trends } = this.latest;
      lines.push(`Top trends, window ${new Date(start).toISOString()} .. ${new Date(end).toISOString()}`);
      lines.push(
        `${'#'.padStart(3)}  ${'topic'.padEnd(32)} ${'count'.padStart(8)} ${'authors'.padStart(8)} ${'score'.padStart(8)}`,
      );
      trends.forEach((t, i) => {
        lines.push(
          `${String(i + 1).padStart(3)}  ${t.topic.slice(0, 32).padEnd(32)} ${String(t.count).padStart(8)} ${String(t.distinctAuthors).padStart(8)} ${t.score.toFixed(2).padStart(8)}`,
        );
      });
    } else {
      lines.push('No window has closed yet.');
    }
    return lines.join('\n');
  }

  private render(): void {
    this.out.write('\x1b[H\x1b[2J' + this.frame() + '\n');
  }
}
