const IN_FLIGHT = 0;
const CLOSED = 1;
/** close() does not change the cell a worker waits on, so a wait that began just before it must end by itself. */
const RECHECK_MS = 50;

/**
 * Backpressure from the sink to one worker's output: the bytes the worker
 * has posted and the main thread has not written yet, in shared memory.
 * A window fires all its topics in one synchronous pass (a million counts,
 * ~130 MB of lines at 1e6 topics), faster than the main thread writes them
 * when the workers have the cores; without a bound the lines queue in the
 * port and the sink's stream. The worker blocks (Atomics.wait: fine on a
 * worker thread, and firing has no await to yield at) until enough is
 * written. Deadlock-free because the main thread never waits for a worker
 * to write: it writes whatever arrives (output held back by a checkpoint
 * waits only for the other workers' acknowledgements, which never need
 * this worker's output), and close() lets a worker through for good once
 * the main thread stops writing.
 */
export class OutputWindow {
  private readonly cells: Int32Array;

  /** `shared`: from OutputWindow.allocate(), the same on both sides; `limit`: bytes in flight (worker side). */
  constructor(
    readonly shared: SharedArrayBuffer,
    private readonly limit = 0,
  ) {
    this.cells = new Int32Array(shared);
  }

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  }

  /** Worker side: waits until `bytes` more fit (one chunk always does when nothing is in flight), then counts them. */
  acquire(bytes: number): void {
    const cells = this.cells;
    for (;;) {
      const inFlight = Atomics.load(cells, IN_FLIGHT);
      if (inFlight === 0 || inFlight + bytes <= this.limit || Atomics.load(cells, CLOSED) !== 0) break;
      Atomics.wait(cells, IN_FLIGHT, inFlight, RECHECK_MS);
    }
    Atomics.add(cells, IN_FLIGHT, bytes);
  }

  /** Main side: `bytes` of this worker's output have been written (or dropped). */
  release(bytes: number): void {
    Atomics.sub(this.cells, IN_FLIGHT, bytes);
    Atomics.notify(this.cells, IN_FLIGHT);
  }

  /** Main side: no more writing to wait for; the worker never blocks again. */
  close(): void {
    Atomics.store(this.cells, CLOSED, 1);
    Atomics.notify(this.cells, IN_FLIGHT);
  }
}
