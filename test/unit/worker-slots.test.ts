import { runJob, type RunJobParams } from '../../src/runtime/job-runner';
import { WorkerSlots } from '../../src/runtime/worker-slots';

describe('WorkerSlots', () => {
  test('one pool per slot; destroy ends them once, however often it is called', async () => {
    const slots = new WorkerSlots(2);
    expect(slots.pools).toHaveLength(2);
    expect(slots.pools[0]).not.toBe(slots.pools[1]);
    const first = slots.destroy();
    expect(slots.destroy()).toBe(first);
    await first;
    expect(slots.pools.every((p) => p.threads.length === 0)).toBe(true);
  });

  test('runJob refuses slots started for another parallelism, and ends them', async () => {
    const slots = new WorkerSlots(1);
    // Only the fields runJob reads before it checks the slots.
    const params = { parallelism: 2, slots } as unknown as RunJobParams;
    await expect(runJob(params)).rejects.toThrow('1 worker slots started for parallelism 2');
    expect(slots.pools[0].threads).toHaveLength(0);
  });
});
