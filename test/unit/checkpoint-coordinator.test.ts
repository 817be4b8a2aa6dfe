/**
 * The coordinator's end of a job: what finish() does with checkpoints still
 * in flight, against real local checkpoint storage and a recording sink.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import type { SinkWriter } from '../../src/connectors/contract';
import { CheckpointCoordinator } from '../../src/runtime/checkpoint-coordinator';
import type { MainToWorker, WorkerToMain } from '../../src/runtime/protocol';
import { LocalCheckpointStorage } from '../../src/state/local-checkpoint-storage';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'floe-coordinator-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recordingSink(): SinkWriter & { commits: number[] } {
  const commits: number[] = [];
  return {
    commits,
    transactional: true,
    write: () => undefined,
    commit: async (epoch) => void commits.push(epoch),
    close: async () => undefined,
    describe: () => 'recording sink',
  };
}

function coordinator(parallelism: number): {
  c: CheckpointCoordinator;
  sink: ReturnType<typeof recordingSink>;
  storage: LocalCheckpointStorage;
  posted: [number, MainToWorker][];
} {
  const storage = new LocalCheckpointStorage(dir);
  const sink = recordingSink();
  const posted: [number, MainToWorker][] = [];
  const c = new CheckpointCoordinator(
    storage,
    sink,
    { name: 'test', parallelism, maxParallelism: 8, retained: 3 },
    { snapshot: () => null, restore: () => undefined },
    (w, m) => posted.push([w, m]),
    () => undefined,
    pino({ level: 'silent' }),
  );
  return { c, sink, storage, posted };
}

const ack = (id: number, deferred: boolean): WorkerToMain => ({
  t: 'ack',
  id,
  splits: [],
  operators: [],
  deferred,
  pauseMs: 0,
  entries: 0,
});

const state = (id: number): WorkerToMain => ({
  t: 'state',
  id,
  operators: [{ operator: 'op', watermark: 5, keyGroups: [[0, new Uint8Array([1, 2, 3])]] }],
  busyMs: 1,
  longestSliceMs: 1,
});

test('a checkpoint whose deferred state arrived is committed, then finish() commits the final epoch after it', async () => {
  const { c, sink, storage } = coordinator(1);
  c.trigger();
  expect(c.accept(0, ack(1, true))).toBe(true);
  expect(c.accept(0, state(1))).toBe(true);
  await c.finish();
  expect(sink.commits).toEqual([1, 2]);
  const latest = await storage.latest();
  expect(latest?.id).toBe(2);
});

test('finish() fails with CHECKPOINT_FAILED, rather than waiting for ever, when an acknowledged checkpoint never got its deferred state', async () => {
  const { c, sink } = coordinator(1);
  c.trigger();
  // The worker acknowledged with state to follow, then ended without sending it.
  c.accept(0, ack(1, true));
  await expect(c.finish()).rejects.toMatchObject({
    code: 'CHECKPOINT_FAILED',
    message: expect.stringContaining('checkpoint 1: worker 0 ended without sending the state it deferred'),
  });
  expect(sink.commits).toEqual([]);
});

test('finish() drops a checkpoint not every worker acknowledged and commits the final epoch under its id', async () => {
  const { c, sink, posted } = coordinator(2);
  c.trigger();
  expect(posted).toEqual([
    [0, { t: 'checkpoint', id: 1 }],
    [1, { t: 'checkpoint', id: 1 }],
  ]);
  // Worker 0 passed the barrier with all its state; worker 1 ended before the barrier reached it.
  c.accept(0, ack(1, true));
  c.accept(0, state(1));
  await c.finish();
  expect(sink.commits).toEqual([1]);
});
