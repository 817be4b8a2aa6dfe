import { cpuSeconds, runNode } from '../../bench/floe-process';

// /proc's CPU times are Linux's; elsewhere the helpers say null.
const onLinux = process.platform === 'linux' ? describe : describe.skip;

onLinux('bench process helpers: CPU accounting', () => {
  test("runNode reports at least the CPU its child counted for itself (every thread's)", async () => {
    // The child works until its own counter shows 300 ms, so the amount is the same however fast the machine is.
    const burn =
      'const s = process.cpuUsage(); let x = 0;' +
      'while (true) { const u = process.cpuUsage(s); if (u.user + u.system >= 300000) break; x++; }';
    const run = await runNode('-e', [burn]);
    expect(run.cpuSeconds).not.toBeNull();
    // /proc counts in clock ticks (10 ms here): allow one.
    expect(run.cpuSeconds!).toBeGreaterThanOrEqual(0.29);
  });

  test('cpuSeconds of this process grows with work done here', () => {
    const before = cpuSeconds('self');
    const s = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(s).user < 100_000) x++;
    const after = cpuSeconds('self');
    expect(x).toBeGreaterThan(0);
    expect(before).not.toBeNull();
    expect(after! - before!).toBeGreaterThanOrEqual(0.09);
  });
});
