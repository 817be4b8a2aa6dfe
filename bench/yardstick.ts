/**
 * The yardstick: the simplest single-threaded program that does the job's
 * core work on the same file - read it line by line, JSON.parse each line,
 * count hashtags per (minute, tag) in a Map. No de-duplication, no
 * watermarks, no sketches, no output. The job's throughput is reported as a
 * ratio to it, a figure that survives a noisy or slower machine better than
 * tweets/s do.
 *
 *   node dist/bench/yardstick.js FILE     prints {"lines":..,"tweets":..,"keys":..,"peakRssMb":..}
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { runNode } from './floe-process';

export interface YardstickCount {
  lines: number;
  tweets: number;
  hashtags: number;
  /** Distinct (minute, tag) pairs. */
  keys: number;
  peakRssMb: number;
}

interface Hashtag {
  tag?: string;
  text?: string;
}
interface RawTweet {
  created_at?: string;
  text?: string;
  entities?: { hashtags?: Hashtag[] };
  data?: RawTweet;
}

const TEXT_HASHTAG = /#([\p{L}\p{M}\p{N}_]+)/gu;

/** Counts one file; the work being measured. */
export async function countHashtags(file: string): Promise<YardstickCount> {
  const counts = new Map<string, number>();
  let lines = 0;
  let tweets = 0;
  let hashtags = 0;
  const add = (minute: number, tag: string): void => {
    const key = `${minute} ${tag.toLowerCase()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    hashtags++;
  };
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of reader) {
    lines++;
    let parsed: RawTweet;
    try {
      parsed = JSON.parse(line) as RawTweet;
    } catch {
      continue;
    }
    // API v2 envelopes {"data": {...}}; v1.1 and bare v2 tweets are the object itself.
    const tweet = parsed.data !== undefined && !Array.isArray(parsed.data) ? parsed.data : parsed;
    if (tweet.created_at === undefined) continue;
    tweets++;
    const minute = Math.floor(Date.parse(tweet.created_at) / 60_000);
    const tags = tweet.entities?.hashtags;
    if (tags !== undefined) {
      // v2 names the tag "tag", v1.1 "text".
      for (const h of tags) add(minute, h.tag ?? h.text ?? '');
    } else if (tweet.text !== undefined) {
      for (const m of tweet.text.matchAll(TEXT_HASHTAG)) add(minute, m[1]);
    }
  }
  return {
    lines,
    tweets,
    hashtags,
    keys: counts.size,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

export interface YardstickRun extends YardstickCount {
  seconds: number;
  /** CPU seconds of the yardstick's process; null off Linux. */
  cpuSeconds: number | null;
  tweetsPerSecond: number;
}

/** Runs the yardstick as its own process, timed like the job (wall time, start-up included). */
export async function runYardstick(file: string): Promise<YardstickRun> {
  const run = await runNode(__filename, [file]);
  const count = JSON.parse(run.stdout) as YardstickCount;
  return {
    ...count,
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    tweetsPerSecond: Math.round(count.tweets / run.seconds),
  };
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/yardstick.js FILE\n');
    process.exitCode = 2;
  } else {
    countHashtags(file).then(
      (r) => process.stdout.write(JSON.stringify(r) + '\n'),
      (err: unknown) => {
        process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
