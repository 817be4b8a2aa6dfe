/**
 * V8 CPU profiles (the .cpuprofile files `node --cpu-prof` writes, one per
 * thread) folded into call trees, cut to a span of time, summed by function
 * and drawn as flame graphs (SVG). Used by bench/profile.ts; no dependencies.
 */
import { basename } from 'node:path';

/** The .cpuprofile format (Chrome DevTools protocol, Profiler.Profile); times in microseconds. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  /** Node id of each sample. */
  samples: number[];
  /** Microseconds from the previous sample (from startTime for the first) to this one. */
  timeDeltas: number[];
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A frame of the folded tree: every call path is one node; times in microseconds. */
export interface Frame {
  name: string;
  /** Script and line, e.g. "jobs/trending/dedupe.js:80"; empty for V8's own entries. */
  where: string;
  /** Time spent in this frame itself. */
  self: number;
  /** self plus the children's total. */
  total: number;
  children: Frame[];
}

/** V8's pseudo-frames that are not work: the thread waited (for a message, a lock, the event loop). */
const IDLE = new Set(['(idle)', 'atomicsWaitLoop']);

/**
 * Start time of each sample, and how long it stands for: until the next
 * sample (as DevTools draws them); the last one gets the median interval.
 */
export function sampleTimes(p: CpuProfile): { at: Float64Array; weight: Float64Array } {
  const n = p.samples.length;
  const at = new Float64Array(n);
  const weight = new Float64Array(n);
  let t = p.startTime;
  for (let i = 0; i < n; i++) {
    t += p.timeDeltas[i] ?? 0;
    at[i] = t;
  }
  for (let i = 0; i + 1 < n; i++) weight[i] = Math.max(0, at[i + 1] - at[i]);
  if (n > 0) {
    const sorted = Array.from(weight.subarray(0, n - 1)).sort((a, b) => a - b);
    weight[n - 1] = sorted.length === 0 ? 0 : sorted[sorted.length >> 1];
  }
  return { at, weight };
}

/** A short location for a call frame: the path under src/ or bench/ of the build, or the file name. */
export function shortWhere(url: string, lineNumber: number): string {
  if (url === '') return '';
  const m = /\/dist\/((?:src|bench)\/.*)$/.exec(url);
  const file = m !== null ? m[1].replace(/^src\//, '') : url.startsWith('node:') ? url : basename(url);
  // lineNumber is 0-based in the protocol.
  return `${file}:${lineNumber + 1}`;
}

/**
 * Folds the samples taken in [fromUs, toUs) (profile clock; default: all)
 * into a tree of call paths, without idle time. The root's total is the
 * busy time of the span.
 */
export function foldProfile(p: CpuProfile, fromUs = -Infinity, toUs = Infinity): Frame {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const root: Frame = { name: 'all', where: '', self: 0, total: 0, children: [] };
  // Per profile node, its frame in the folded tree (paths of equal frames share one).
  const frames = new Map<number, Frame>();
  const frameOf = (id: number): Frame => {
    const known = frames.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    // The profile's own root ("(root)") is the folded root.
    if (node === undefined || up === undefined) {
      frames.set(id, root);
      return root;
    }
    const above = frameOf(up);
    const name = node.callFrame.functionName || '(anonymous)';
    const where = shortWhere(node.callFrame.url, node.callFrame.lineNumber);
    let f = above.children.find((c) => c.name === name && c.where === where);
    if (f === undefined) {
      f = { name, where, self: 0, total: 0, children: [] };
      above.children.push(f);
    }
    frames.set(id, f);
    return f;
  };
  const { at, weight } = sampleTimes(p);
  for (let i = 0; i < p.samples.length; i++) {
    if (at[i] < fromUs || at[i] >= toUs) continue;
    const node = byId.get(p.samples[i]);
    if (node === undefined || IDLE.has(node.callFrame.functionName)) continue;
    frameOf(p.samples[i]).self += weight[i];
  }
  const sum = (f: Frame): number => {
    f.total = f.self + f.children.reduce((s, c) => s + sum(c), 0);
    f.children = f.children.filter((c) => c.total > 0).sort((a, b) => b.total - a.total);
    return f.total;
  };
  sum(root);
  return root;
}

/** Self and total time by function (name and location), largest self first; recursion counted once in total. */
export function byFunction(root: Frame): { name: string; where: string; self: number; total: number }[] {
  const out = new Map<string, { name: string; where: string; self: number; total: number }>();
  const onPath = new Set<string>();
  const walk = (f: Frame): void => {
    const key = `${f.name} ${f.where}`;
    let e = out.get(key);
    if (e === undefined) out.set(key, (e = { name: f.name, where: f.where, self: 0, total: 0 }));
    e.self += f.self;
    const outermost = !onPath.has(key);
    if (outermost) {
      e.total += f.total;
      onPath.add(key);
    }
    for (const c of f.children) walk(c);
    if (outermost) onPath.delete(key);
  };
  for (const c of root.children) walk(c);
  return [...out.values()].sort((a, b) => b.self - a.self || b.total - a.total);
}

export interface FlameGraphOptions {
  title: string;
  /** Image width in pixels. */
  width?: number;
  /** A line under the title (e.g. the span and the machine). */
  subtitle?: string;
}

const ROW = 17;
const TOP = 52;
/** Frames narrower than this (pixels) are left out; their time still counts in their parents'. */
const MIN_WIDTH = 0.3;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A colour per kind of code, so the job's stages stand out from Node's and V8's. */
function colour(f: Frame): string {
  const w = f.where;
  if (w.startsWith('jobs/')) return '#e8845c';
  if (w.startsWith('runtime/')) return '#e8b35c';
  if (w.startsWith('state/')) return '#d4c45a';
  if (w.startsWith('connectors/')) return '#9ccc65';
  if (w.startsWith('node:') || w === '' || w.startsWith('bench/'))
    return f.name.startsWith('(') ? '#b0bec5' : '#90a4ae';
  return '#81c784';
}

/**
 * An SVG flame graph of a folded tree: callers below callees, widths in
 * proportion to total time; hover a frame for its name, place and time.
 */
export function renderFlameGraph(root: Frame, options: FlameGraphOptions): string {
  const width = options.width ?? 1200;
  const inner = width - 20;
  let depth = 0;
  const placed: { x: number; level: number; w: number; f: Frame }[] = [];
  const total = root.total;
  const place = (f: Frame, x: number, level: number): void => {
    const w = total === 0 ? 0 : (f.total / total) * inner;
    if (w < MIN_WIDTH) return;
    depth = Math.max(depth, level);
    placed.push({ x, level, w, f });
    let cx = x;
    for (const c of f.children) {
      place(c, cx, level + 1);
      cx += total === 0 ? 0 : (c.total / total) * inner;
    }
  };
  place(root, 10, 0);
  const height = TOP + (depth + 1) * ROW + 10;
  const body = placed.map(({ x, level, w, f }) => {
    const y = height - 10 - (level + 1) * ROW;
    const ms = f.total / 1000;
    const label = `${f.name}${f.where === '' ? '' : ` (${f.where})`}`;
    const pct = total === 0 ? 0 : (100 * f.total) / total;
    const title = `${label}: ${ms.toFixed(1)} ms, ${pct.toFixed(1)}% (self ${(f.self / 1000).toFixed(1)} ms)`;
    // About 7 px a character at 12 px: the text only where it fits.
    const chars = Math.floor((w - 6) / 7);
    const text =
      chars < 3 ? '' : chars >= f.name.length ? f.name : `${f.name.slice(0, Math.max(1, chars - 2))}..`;
    return (
      `<g><title>${escapeXml(title)}</title>` +
      `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${ROW - 1}" rx="2" fill="${level === 0 ? '#cfd8dc' : colour(f)}"/>` +
      (text === '' ? '' : `<text x="${(x + 3).toFixed(2)}" y="${y + 12}">${escapeXml(text)}</text>`) +
      '</g>'
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15">${escapeXml(options.title)}</text>`,
    `<text x="10" y="38" fill="#555">${escapeXml(options.subtitle ?? `${(total / 1000).toFixed(0)} ms busy`)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** The thread a profile file of `node --cpu-prof` belongs to: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile. */
export function profileThread(fileName: string): { pid: number; threadId: number } | undefined {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(basename(fileName));
  return m === null ? undefined : { pid: Number(m[1]), threadId: Number(m[2]) };
}
