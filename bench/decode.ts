/**
 * Single-thread micro benchmark of the trending job's decoder, and the
 * issue's yardstick.
 *
 *   npm run build && node dist/bench/decode.js [--file bench/data/tweets-1000000.jsonl] [--lines 200000] [--reps 5]
 *
 * - decode: lines held in memory (so file reading is not measured), decoded
 *   by the full path (JSON.parse + decodeValue) and by decodeLine (fast path
 *   first); tweets/s per thread, median of the repetitions.
 * - yardstick: one thread reads the whole file line by line, JSON.parse-s
 *   each line and counts hashtags per minute in a Map (the baseline
 *   the job must beat 2x); tweets/s, median of the repetitions.
 *
 * Rates are per CPU second of this process (user + system), not wall time,
 * so that other load on a shared machine disturbs them less.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { decodeLine, decodeLineByParse } from '../src/jobs/trending/tweet-decoder';
import { arg } from './script-args';
import { median } from './stats';

const root = path.resolve(__dirname, '..', '..');

/** Calls `onLine` for every line of the file, read in 1 MB chunks as the file source reads it. */
function forEachLine(file: string, onLine: (line: string) => void, maxLines = Infinity): number {
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer | null = null;
  let lines = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let buf = chunk.subarray(0, n);
      if (carry !== null) buf = Buffer.concat([carry, buf]);
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(10, from);
        if (nl === -1) break;
        onLine(buf.toString('utf8', from, nl));
        from = nl + 1;
        if (++lines >= maxLines) return lines;
      }
      carry = from < buf.length ? Buffer.from(buf.subarray(from)) : null;
    }
    if (carry !== null && carry.length > 0) {
      onLine(carry.toString('utf8'));
      lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

interface YardstickTweet {
  created_at?: string;
  entities?: { hashtags?: { tag?: string; text?: string }[] };
}

/** The yardstick: JSON.parse every line, count (minute, hashtag) in a Map. */
function yardstick(file: string): { tweets: number; seconds: number; keys: number } {
  const counts = new Map<string, number>();
  const started = process.cpuUsage();
  const tweets = forEachLine(file, (line) => {
    const t = JSON.parse(line) as YardstickTweet;
    const minute = Math.floor(Date.parse(t.created_at ?? '') / 60_000);
    for (const h of t.entities?.hashtags ?? []) {
      const key = `${minute} ${(h.tag ?? h.text ?? '').toLowerCase()}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  });
  return { tweets, seconds: cpuSeconds(started), keys: counts.size };
}

/** CPU seconds (user + system) of this process since `since`: steadier than wall time on a shared machine. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function timeDecode(lines: string[], decode: typeof decodeLine): number {
  const options = { cashtags: false };
  let tweets = 0;
  const started = process.cpuUsage();
  for (let i = 0; i < lines.length; i++) tweets += decode(lines[i], options).tweets.length;
  return tweets / cpuSeconds(started);
}

function main(): void {
  const file = path.resolve(arg('file', path.join(root, 'bench', 'data', 'tweets-1000000.jsonl')));
  const maxLines = Number(arg('lines', '200000'));
  const reps = Number(arg('reps', '5'));
  const what = arg('only', 'all');

  if (what === 'all' || what === 'decode') {
    const lines: string[] = [];
    forEachLine(file, (l) => lines.push(l), maxLines);
    const rates: Record<string, number[]> = { 'JSON.parse + decodeValue': [], 'decodeLine (fast path)': [] };
    for (let r = 0; r < reps; r++) {
      rates['JSON.parse + decodeValue'].push(timeDecode(lines, decodeLineByParse));
      rates['decodeLine (fast path)'].push(timeDecode(lines, decodeLine));
    }
    const full = rates['JSON.parse + decodeValue'];
    const ratios = rates['decodeLine (fast path)'].map((x, r) => x / full[r]);
    console.log(`decode, ${lines.length} lines in memory, one thread, median of ${reps}:`);
    for (const [name, xs] of Object.entries(rates)) {
      console.log(
        `  ${name.padEnd(28)} ${Math.round(median(xs)).toLocaleString('en-US')} tweets/s  (${xs.map((x) => Math.round(x / 1000)).join(' / ')} k)`,
      );
    }
    console.log(`  fast / full, median of the per-repetition ratios: ${median(ratios).toFixed(2)}`);
  }
  if (what === 'all' || what === 'yardstick') {
    const rates: number[] = [];
    let tweets = 0;
    for (let r = 0; r < Math.min(reps, 3); r++) {
      const y = yardstick(file);
      tweets = y.tweets;
      rates.push(y.tweets / y.seconds);
    }
    console.log(
      `yardstick (read + JSON.parse + Map per minute and hashtag), ${tweets} lines, median of ${rates.length}: ${Math.round(median(rates)).toLocaleString('en-US')} tweets/s  (${rates.map((x) => Math.round(x / 1000)).join(' / ')} k)`,
    );
  }
}

main();
