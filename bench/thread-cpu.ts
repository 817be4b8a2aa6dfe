/**
 * Every thread's CPU time of a running process, sampled from /proc (Linux):
 * the job's threads, and the ones a CPU profile does not see (V8's compiler
 * and GC helpers, libuv's pool). Used by bench/profile.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One thread's CPU over the run: `perInterval[k]` is its CPU in ms during interval k. */
export interface ThreadCpu {
  tid: number;
  /** When the thread was first seen, ms after sampling started. */
  firstSeenMs: number;
  cpuMs: number;
  perInterval: number[];
}

/**
 * CPU time (ns) of each thread of `pid` now: schedstat's time on CPU. A
 * kernel without schedstat gives none, and the caller shows no threads.
 */
export function readThreadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended between the listing and the read (or the kernel keeps no schedstat).
    }
  }
  return out;
}

/**
 * Per thread, CPU per interval from cumulative readings (`readings[k]`: tid
 * -> ns at the end of interval k). A thread's last reading carries over the
 * intervals after it ended; its CPU before it was first seen falls in its
 * first interval.
 */
export function cpuTimeline(readings: Map<number, number>[], intervalMs: number): ThreadCpu[] {
  const tids = new Set<number>();
  for (const r of readings) for (const tid of r.keys()) tids.add(tid);
  const out: ThreadCpu[] = [];
  for (const tid of tids) {
    const first = readings.findIndex((r) => r.has(tid));
    const perInterval: number[] = [];
    let last = 0;
    for (let k = 0; k < readings.length; k++) {
      const ns = readings[k].get(tid) ?? last;
      perInterval.push(Math.max(0, ns - last) / 1e6);
      last = ns;
    }
    out.push({
      tid,
      firstSeenMs: first * intervalMs,
      cpuMs: perInterval.reduce((a, b) => a + b, 0),
      perInterval,
    });
  }
  return out.sort((a, b) => b.cpuMs - a.cpuMs);
}

/** Samples a process's threads every `intervalMs` until stop(). */
export class ThreadCpuSampler {
  private readonly readings: Map<number, number>[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const r = readThreadCpu(this.pid);
    if (r.size > 0) this.readings.push(r);
  }

  /** Stops sampling; the timeline from the first reading to the last (taken while the process lived). */
  stop(): ThreadCpu[] {
    clearInterval(this.timer);
    return cpuTimeline(this.readings, this.intervalMs);
  }
}
