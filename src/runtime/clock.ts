/** Processing-time clock, injected so tests control idleness and rates. Units: ms since the epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/**
 * Now as epoch milliseconds with sub-millisecond precision, comparable across
 * threads (each has its own performance.timeOrigin). For timing this
 * process's phases (JobTimeline), not for the job's notion of time: that is
 * the injected Clock.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
