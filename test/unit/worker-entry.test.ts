/**
 * The worker task's protocol with the main thread, run in this thread with a
 * job registered for the test: the order of its last messages.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { workerJobs } from '../../src/jobs/worker-jobs';
import { OutputWindow } from '../../src/runtime/output-window';
import type { DeferredState, WorkerStart, WorkerToMain } from '../../src/runtime/protocol';
import runWorkerTask from '../../src/runtime/worker-entry';
import type { WorkerContext } from '../../src/runtime/worker-context';

const STATE: DeferredState = { operators: [], busyMs: 0, longestSliceMs: 0 };
const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
  delete workerJobs['test-job'];
});

/** Runs `job` as worker 0 of 1; resolves with every message it sent the main thread, up to 'end'. */
async function run(job: (ctx: WorkerContext<never>) => Promise<void>): Promise<WorkerToMain[]> {
  workerJobs['test-job'] = job;
  const control = new MessageChannel();
  const returns = new MessageChannel();
  ports.push(control.port1, returns.port1);
  const received: WorkerToMain[] = [];
  const ended = new Promise<void>((resolve) =>
    control.port1.on('message', (m: WorkerToMain) => {
      received.push(m);
      if (m.t === 'end') resolve();
    }),
  );
  const start: WorkerStart = {
    index: 0,
    parallelism: 1,
    maxParallelism: 8,
    job: 'test-job',
    jobOptions: {},
    runtime: {
      outOfOrdernessMs: 0,
      idleTimeoutMs: 0,
      maxRecordBytes: 1024,
      batchSize: 16,
      maxInFlight: 0,
      progressIntervalMs: 60_000,
    },
    splits: [],
    control: control.port2,
    peers: [null],
    outputWindow: OutputWindow.allocate(),
    outputReturns: returns.port2,
  };
  await runWorkerTask(start);
  await ended;
  // Anything posted after 'end' (on the closed port) would be lost; give it the chance to show up anyway.
  await new Promise((r) => setImmediate(r));
  return received;
}

const checkpointMessages = (msgs: WorkerToMain[]): string[] =>
  msgs.flatMap((m) => (m.t === 'ack' || m.t === 'state' ? [`${m.t} ${m.id}`] : m.t === 'end' ? ['end'] : []));

test("every deferred state goes out before 'end', also one acknowledged while the task waited for an earlier one", async () => {
  const msgs = await run(async (ctx) => {
    let first!: (s: DeferredState) => void;
    ctx.acknowledge({ id: 1, splits: [], operators: [], deferred: new Promise((r) => (first = r)) });
    // As a barrier asked for at the job's end does: it passes the stages after the job returned.
    setImmediate(() => {
      let second!: (s: DeferredState) => void;
      ctx.acknowledge({ id: 2, splits: [], operators: [], deferred: new Promise((r) => (second = r)) });
      first(STATE);
      setImmediate(() => second(STATE));
    });
  });
  expect(checkpointMessages(msgs)).toEqual(['ack 1', 'ack 2', 'state 1', 'state 2', 'end']);
});

test('a deferred state that fails is sent as an error, still before the end', async () => {
  const msgs = await run(async (ctx) => {
    ctx.acknowledge({ id: 3, splits: [], operators: [], deferred: Promise.reject(new Error('disk full')) });
  });
  expect(checkpointMessages(msgs)).toEqual(['ack 3', 'state 3', 'end']);
  expect(msgs.find((m) => m.t === 'state')).toMatchObject({ error: 'disk full' });
});
