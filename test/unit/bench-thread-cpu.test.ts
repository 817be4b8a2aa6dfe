import { spawn } from 'node:child_process';
import { cpuTimeline, readThreadCpu, ThreadCpuSampler } from '../../bench/thread-cpu';

describe('bench thread CPU: timeline from cumulative readings', () => {
  test("per interval, each thread's CPU since the reading before; a thread that ended keeps its last", () => {
    const ms = 1e6;
    const readings = [
      new Map([[1, 5 * ms]]),
      new Map([
        [1, 15 * ms],
        [2, 40 * ms],
      ]),
      new Map([
        [1, 16 * ms],
        [2, 90 * ms],
      ]),
      // Thread 2 ended: its readings stop.
      new Map([[1, 20 * ms]]),
    ];
    const t = cpuTimeline(readings, 100);
    expect(t.map((x) => x.tid)).toEqual([2, 1]);
    expect(t[0]).toEqual({ tid: 2, firstSeenMs: 100, cpuMs: 90, perInterval: [0, 40, 50, 0] });
    expect(t[1]).toEqual({ tid: 1, firstSeenMs: 0, cpuMs: 20, perInterval: [5, 10, 1, 4] });
  });

  test('no readings, no threads', () => {
    expect(cpuTimeline([], 100)).toEqual([]);
  });
});

// /proc is Linux's.
const onLinux = process.platform === 'linux' ? describe : describe.skip;

onLinux('bench thread CPU: a real process', () => {
  test("reads this process's threads, the calling one included", () => {
    const before = readThreadCpu(process.pid).get(process.pid) ?? 0;
    const s = process.cpuUsage();
    while (process.cpuUsage(s).user < 50_000);
    const after = readThreadCpu(process.pid).get(process.pid) ?? 0;
    expect(after - before).toBeGreaterThanOrEqual(40e6);
  });

  test('samples a child whose worker thread burns CPU while its main thread waits', async () => {
    // The worker works until its own thread has used 400 ms of CPU, however fast the machine is.
    const script =
      "const { Worker } = require('node:worker_threads');" +
      "new Worker(\"const s = require('node:fs');" +
      "const cpu = () => Number(s.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);" +
      'const t = cpu(); while (cpu() - t < 4e8);", { eval: true });';
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const sampler = new ThreadCpuSampler(child.pid as number, 20);
    await new Promise((resolve) => child.on('exit', resolve));
    const threads = sampler.stop();
    // The worker is the busiest thread, and not the main one.
    expect(threads[0].tid).not.toBe(child.pid);
    // Up to the last reading before exit: most of its 400 ms, not all.
    expect(threads[0].cpuMs).toBeGreaterThan(200);
    expect(threads[0].cpuMs).toBeLessThan(600);
    expect(threads.find((t) => t.tid === child.pid)).toBeDefined();
    expect(threads[0].perInterval.length).toBeGreaterThan(5);
  });
});
