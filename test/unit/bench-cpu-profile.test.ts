import {
  byFunction,
  foldProfile,
  profileThread,
  renderFlameGraph,
  sampleTimes,
  shortWhere,
  type CpuProfile,
  type CpuProfileNode,
} from '../../bench/cpu-profile';

const JOB = 'file:///work/main/dist/src/jobs/trending/dedupe.js';

function node(
  id: number,
  functionName: string,
  children: number[] = [],
  url = JOB,
  line = 9,
): CpuProfileNode {
  return { id, callFrame: { functionName, url, lineNumber: line, columnNumber: 0 }, children };
}

/**
 * (root) -> main -> a -> b
 *                -> c -> a (a under c: another path)
 *        -> (idle)
 *        -> main' (a second node with main's call frame, as V8 makes for code that was replaced)
 * Samples every 100 us from t = 1000: main, a, b, b, (idle), c, a-under-c, main'.
 */
function profile(): CpuProfile {
  return {
    nodes: [
      node(1, '(root)', [2, 6, 8], ''),
      node(2, 'main', [3, 5]),
      node(3, 'a', [4]),
      node(4, 'b'),
      node(5, 'c', [7]),
      node(6, '(idle)', [], ''),
      node(7, 'a'),
      node(8, 'main', []),
    ],
    startTime: 900,
    endTime: 1800,
    samples: [2, 3, 4, 4, 6, 5, 7, 8],
    timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100],
  };
}

describe('bench CPU profiles', () => {
  test('a sample stands for the time until the next; the last for the median interval', () => {
    const p = profile();
    p.timeDeltas = [100, 50, 150, 100, 100, 100, 100, 300];
    const { at, weight } = sampleTimes(p);
    expect(Array.from(at)).toEqual([1000, 1050, 1200, 1300, 1400, 1500, 1600, 1900]);
    expect(Array.from(weight)).toEqual([50, 150, 100, 100, 100, 100, 300, 100]);
  });

  test('folds call paths, merging equal frames under one parent, and leaves idle time out', () => {
    const root = foldProfile(profile());
    // Eight samples of 100 us, one of them idle.
    expect(root.total).toBe(700);
    expect(root.children.map((f) => [f.name, f.self, f.total])).toEqual([['main', 200, 700]]);
    const main = root.children[0];
    expect(main.children.map((f) => [f.name, f.self, f.total])).toEqual([
      ['a', 100, 300],
      ['c', 100, 200],
    ]);
    expect(main.children[0].children.map((f) => [f.name, f.self])).toEqual([['b', 200]]);
    expect(main.children[1].children.map((f) => [f.name, f.self])).toEqual([['a', 100]]);
    expect(main.where).toBe('jobs/trending/dedupe.js:10');
  });

  test('cuts a span of time: only the samples that start in it', () => {
    // Samples start at 1000, 1100, ... 1700: [1100, 1400) holds a, b, b.
    const root = foldProfile(profile(), 1100, 1400);
    expect(root.total).toBe(300);
    const names: string[] = [];
    const walk = (f: { name: string; self: number; children: (typeof root)[] }): void => {
      if (f.self > 0) names.push(`${f.name}:${f.self}`);
      f.children.forEach(walk);
    };
    walk(root);
    expect(names.sort()).toEqual(['a:100', 'b:200']);
  });

  test('sums self time by function over every path; a function on its own path counts once in total', () => {
    const rows = byFunction(foldProfile(profile()));
    const get = (name: string): { self: number; total: number } | undefined =>
      rows.find((r) => r.name === name);
    expect(get('a')).toMatchObject({ self: 200, total: 400 });
    expect(get('b')).toMatchObject({ self: 200, total: 200 });
    expect(get('main')).toMatchObject({ self: 200, total: 700 });
    // Largest self first.
    expect(rows[rows.length - 1].self).toBeLessThanOrEqual(rows[0].self);

    // Recursion: r -> r -> r, one sample in each: r's total is the outer call's.
    const p: CpuProfile = {
      nodes: [node(1, '(root)', [2], ''), node(2, 'r', [3]), node(3, 'r', [4]), node(4, 'r')],
      startTime: 0,
      endTime: 300,
      samples: [2, 3, 4],
      timeDeltas: [100, 100, 100],
    };
    expect(byFunction(foldProfile(p))).toEqual([
      { name: 'r', where: 'jobs/trending/dedupe.js:10', self: 300, total: 300 },
    ]);
  });

  test('draws one rectangle per frame, widths in proportion, names escaped', () => {
    const p = profile();
    p.nodes[4] = node(5, 'c<&>', [7]);
    const svg = renderFlameGraph(foldProfile(p), { title: 'a "test"', width: 720 });
    expect(svg.startsWith('<svg')).toBe(true);
    // all, main, a, b, c, a: six frames.
    expect(svg.match(/<rect x=/g)).toHaveLength(6);
    expect(svg).toContain('c&#60;&#38;&#62; (jobs/trending/dedupe.js:10): 0.2 ms, 28.6%');
    expect(svg).toContain('a &#34;test&#34;');
    expect(svg).not.toContain('c<&>');
    // The root spans the inner width (720 - 20); main is all of it, a 3/7 of it.
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0]).toBeCloseTo(700, 1);
    expect(widths[1]).toBeCloseTo(700, 1);
    expect(widths[2]).toBeCloseTo(300, 1);
  });

  test("reads the thread from node's profile file names, and shortens locations", () => {
    expect(profileThread('CPU.20261123.071647.32695.0.001.cpuprofile')).toEqual({ pid: 32695, threadId: 0 });
    expect(profileThread('/x/CPU.20261123.071647.32695.2.003.cpuprofile')).toEqual({
      pid: 32695,
      threadId: 2,
    });
    expect(profileThread('CPU.other.cpuprofile')).toBeUndefined();
    expect(shortWhere('file:///work/main/dist/src/jobs/trending/dedupe.js', 79)).toBe(
      'jobs/trending/dedupe.js:80',
    );
    expect(shortWhere('node:internal/modules/cjs/loader', 0)).toBe('node:internal/modules/cjs/loader:1');
    expect(shortWhere('/usr/lib/x/y.js', 4)).toBe('y.js:5');
    expect(shortWhere('', 4)).toBe('');
  });
});
