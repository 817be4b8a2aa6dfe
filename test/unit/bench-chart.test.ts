import { escapeXml, lineChartSvg, niceStep } from '../../bench/chart';

/** Tags opened and closed in order (self-closing ones ignored): a cheap well-formedness check without an XML parser. */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

const series = [
  {
    name: 'trending job',
    points: [
      { x: 2, y: 149_897 },
      { x: 1, y: 100_397 },
    ],
  },
  {
    name: 'yardstick <1 thread>',
    points: [
      { x: 1, y: 250_000 },
      { x: 2, y: 250_000 },
    ],
  },
];

describe('throughput chart (SVG)', () => {
  const svg = lineChartSvg(series, {
    title: 'tweets/s & parallelism',
    xLabel: 'parallelism',
    yLabel: 'tweets/s',
  });

  test('is one well-formed svg element', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  test('draws every point, labelled with its value, and a line per series', () => {
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('>149,897<');
    expect(svg).toContain('>100,397<');
    expect(svg).toContain('>250,000<');
  });

  test('higher values are drawn higher, larger x further right', () => {
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
    }));
    // The job's points come sorted by x: p=1 (100,397) then p=2 (149,897).
    const [p1, p2, y1] = circles;
    expect(p2.x).toBeGreaterThan(p1.x);
    expect(p2.y).toBeLessThan(p1.y);
    expect(y1.y).toBeLessThan(p2.y);
  });

  test('escapes text', () => {
    expect(svg).toContain('yardstick &#60;1 thread&#62;');
    expect(svg).toContain('tweets/s &#38; parallelism');
    expect(escapeXml(`<a href="x">'&'</a>`)).not.toMatch(/[<>"']/);
  });

  test('an empty chart is still a valid svg', () => {
    const empty = lineChartSvg([], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(balanced(empty)).toBe(true);
    expect(empty).not.toMatch(/NaN|Infinity/);
  });

  test('axis steps are round numbers', () => {
    expect(niceStep(149_897)).toBe(50_000);
    expect(niceStep(300_000)).toBe(100_000);
    expect(niceStep(9)).toBe(2);
    expect(niceStep(0)).toBe(1);
  });
});
