/**
 * Single-thread micro benchmark of the byte scanner (tweet-byte-scanner.ts)
 * alone: CPU µs per line of a JSONL file held in memory.
 *
 *   npm run build && node dist/bench/scan-bytes.js FILE [--reps 5] [--scanner PATH]
 *
 * The file is read into one Buffer and its line ends found before timing, so
 * only scanTweetBytes is measured. Each repetition scans every line and
 * folds the results (timestamps, topic and id lengths) into a checksum, so
 * nothing is optimised away and two builds can be seen to agree. --scanner
 * loads another build of the module (e.g. a copy of the original) to A/B
 * it against this one on the same machine.
 *
 * Times are CPU time of this process (user + system), which other load on
 * a shared machine disturbs less than wall time.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { scanTweetBytes as ScanTweetBytes } from '../src/jobs/trending/tweet-byte-scanner';
import { arg } from './script-args';
import { median } from './stats';

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined || file.startsWith('--')) {
    console.error('usage: node dist/bench/scan-bytes.js FILE [--reps 5] [--scanner PATH]');
    process.exit(2);
  }
  const reps = Number(arg('reps', '5'));
  const modulePath = path.resolve(
    arg('scanner', path.join(__dirname, '../src/jobs/trending/tweet-byte-scanner')),
  );
  const scan = (require(modulePath) as { scanTweetBytes: typeof ScanTweetBytes }).scanTweetBytes;

  const bytes = readFileSync(file);
  const ends: number[] = [];
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, nl + 1)) ends.push(nl);
  // A last line without a newline.
  if (ends.length === 0 || ends[ends.length - 1] !== bytes.length - 1) ends.push(bytes.length);
  const lines = ends.length;

  const options = { cashtags: false };
  let fallbacks = 0;
  let checksum = 0;
  const pass = (): void => {
    fallbacks = 0;
    checksum = 0;
    let start = 0;
    for (let l = 0; l < lines; l++) {
      const end = ends[l];
      const t = scan(bytes, start, end, options);
      if (t === undefined) fallbacks++;
      else {
        checksum =
          (checksum + (t.timestampMs % 1_000_003) + t.idEnd - t.idStart + t.authorEnd) % 1_000_000_007;
        for (let k = 0; k < t.topics.length; k++) checksum = (checksum + t.topics[k].length) % 1_000_000_007;
      }
      start = end + 1;
    }
  };

  pass(); // warm-up: let the optimising compiler settle
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const before = cpuMicros();
    pass();
    runs.push((cpuMicros() - before) / lines);
  }
  console.log(
    `${path.basename(modulePath)}: ${lines} lines, ${fallbacks} to the full path, checksum ${checksum}; ` +
      `µs/line median ${median(runs).toFixed(3)} (runs ${runs.map((r) => r.toFixed(3)).join(' ')})`,
  );
}

main();
