import * as path from 'node:path';
import { Piscina } from 'piscina';

/**
 * The worker threads of one job: a one-thread piscina pool per slot
 * (piscina has no key affinity; one pool per slot gives it).
 *
 * A thread takes ~50 ms to boot and load the job's code. Started before the
 * main thread loads the job runtime and plans the job (`floe run` starts
 * them as soon as it knows the parallelism), that time overlaps the main
 * thread's instead of following it.
 */
export class WorkerSlots {
  readonly pools: readonly Piscina[];
  private destroyed: Promise<void> | undefined;

  constructor(readonly count: number) {
    const filename = path.join(__dirname, 'worker-entry.js');
    this.pools = Array.from(
      { length: count },
      () => new Piscina({ filename, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 }),
    );
  }

  /** Ends every thread (running tasks are terminated); later calls wait for the first. */
  destroy(): Promise<void> {
    this.destroyed ??= Promise.all(this.pools.map((p) => p.destroy())).then(() => undefined);
    return this.destroyed;
  }
}
