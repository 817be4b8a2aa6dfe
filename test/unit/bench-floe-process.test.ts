import { childEnv, cpuSeconds, runNode } from '../../bench/floe-process';

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

describe("bench process helpers: the children's environment", () => {
  test('drops NODE_EXTRA_CA_CERTS, keeps the rest, and adds the extra variables over it', () => {
    const env = childEnv(
      { FLOE_LOG_FORMAT: 'json', KEEP: 'new' },
      { PATH: '/bin', KEEP: 'old', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/x.crt' },
    );
    expect(env).toEqual({ PATH: '/bin', KEEP: 'new', FLOE_LOG_FORMAT: 'json' });
  });

  test('a child started by runNode does not see NODE_EXTRA_CA_CERTS', async () => {
    const before = process.env.NODE_EXTRA_CA_CERTS;
    // A file that does not exist: were it passed on, the child would still start (Node only warns).
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/floe-test.crt';
    try {
      const run = await runNode('-e', ['process.stdout.write(String(process.env.NODE_EXTRA_CA_CERTS))']);
      expect(run.stdout).toBe('undefined');
    } finally {
      if (before === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = before;
    }
  });
});
