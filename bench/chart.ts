import type { ChartSeries } from './bench-module';

/**
 * A line chart as hand-written SVG (no charting dependency for one chart):
 * throughput against parallelism, one line per series, each point labelled
 * with its value so the chart reads without the table.
 */
export interface ChartText {
  title: string;
  xLabel: string;
  yLabel: string;
}

const WIDTH = 640;
const HEIGHT = 400;
const M = { left: 84, right: 150, top: 48, bottom: 56 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step giving about `count` ticks over [0, max]. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const num = (n: number): string => String(Math.round(n * 10) / 10);

export function lineChartSvg(series: readonly ChartSeries[], text: ChartText): string {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  let xMin = xs.length > 0 ? Math.min(...xs) : 0;
  let xMax = xs.length > 0 ? Math.max(...xs) : 1;
  if (xMin === xMax) {
    xMin -= 1;
    xMax += 1;
  }
  const step = niceStep(Math.max(0, ...all.map((p) => p.y)));
  const yMax = Math.max(step, Math.ceil(Math.max(0, ...all.map((p) => p.y)) / step) * step);
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  // A little room left and right so end points and their labels stay inside the axes.
  const pad = (xMax - xMin) * 0.08;
  const sx = (x: number): number => M.left + ((x - xMin + pad) / (xMax - xMin + 2 * pad)) * plotW;
  const sy = (y: number): number => M.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(text.title)}</text>`,
  );
  for (let y = 0; y <= yMax + step / 2; y += step) {
    const py = num(sy(y));
    out.push(`<line x1="${M.left}" y1="${py}" x2="${M.left + plotW}" y2="${py}" stroke="#e0e0e0"/>`);
    out.push(
      `<text x="${M.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(y)}</text>`,
    );
  }
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  for (const x of xTicks) {
    const px = num(sx(x));
    out.push(`<line x1="${px}" y1="${M.top + plotH}" x2="${px}" y2="${M.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${px}" y="${M.top + plotH + 20}" text-anchor="middle">${escapeXml(String(x))}</text>`);
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + plotH}" stroke="#333"/>`,
    `<text x="${M.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(text.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(text.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts.map((p) => `${num(sx(p.x))},${num(sy(p.y))}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const p of pts) {
      out.push(
        `<circle cx="${num(sx(p.x))}" cy="${num(sy(p.y))}" r="4" fill="${color}"><title>${escapeXml(`${s.name}: ${fmt(p.y)} at ${p.x}`)}</title></circle>`,
        `<text x="${num(sx(p.x))}" y="${num(sy(p.y) - 9)}" text-anchor="middle" fill="${color}">${fmt(p.y)}</text>`,
      );
    }
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${M.left + plotW + 16}" y1="${ly}" x2="${M.left + plotW + 36}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${M.left + plotW + 42}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
