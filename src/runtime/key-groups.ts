import { murmur3, murmur3Bytes, murmur3In } from './hash';

/**
 * Key groups, after Flink's KeyGroupRangeAssignment: every key hashes into one
 * of maxParallelism groups, and each worker owns one contiguous range of them.
 * Rescaling only moves whole ranges, so state is stored per key group.
 */
export const DEFAULT_MAX_PARALLELISM = 128;

export function keyGroupOf(key: string, maxParallelism: number): number {
  return murmur3(key) % maxParallelism;
}

/** Index of the worker owning a key group, for the given parallelism. */
export function workerForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

export interface KeyGroupRange {
  /** First key group, inclusive. */
  start: number;
  /** Last key group, inclusive; end < start means the range is empty. */
  end: number;
}

export function keyGroupRangeForWorker(
  index: number,
  parallelism: number,
  maxParallelism: number,
): KeyGroupRange {
  return {
    start: Math.ceil((index * maxParallelism) / parallelism),
    end: Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1,
  };
}

/** A precomputed key group -> worker table, for the per-record routing path. */
export class KeyGroupRouter {
  private readonly owner: Uint16Array;

  constructor(
    readonly parallelism: number,
    readonly maxParallelism: number,
  ) {
    this.owner = new Uint16Array(maxParallelism);
    for (let kg = 0; kg < maxParallelism; kg++)
      this.owner[kg] = workerForKeyGroup(kg, parallelism, maxParallelism);
  }

  workerFor(key: string): number {
    return this.owner[murmur3(key) % this.maxParallelism];
  }

  /** workerFor of the key whose UTF-8 bytes are bytes[start, end), without making it a string. */
  workerForKeyBytes(bytes: Uint8Array, start: number, end: number): number {
    return this.owner[murmur3Bytes(bytes, start, end) % this.maxParallelism];
  }

  /** workerFor(s.slice(start, end)), without making the substring. */
  workerForKeyIn(s: string, start: number, end: number): number {
    return this.owner[murmur3In(s, start, end) % this.maxParallelism];
  }
}
