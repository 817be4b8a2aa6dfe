/**
 * Small, fast, seedable pseudo-random number generation for the synthetic
 * data generators. Never uses Math.random: the same seed must give the same
 * stream on every machine and Node version.
 */
import { fmix32 } from '../../runtime/hash';

export { fmix32 };

/** Anything that yields uniform doubles in [0, 1). */
export interface UniformSource {
  next(): number;
}

/** Folds a list of numbers (each taken as up to 64 bits of integer) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new RangeError(`seed part must be finite, got ${p}`);
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

const TWO_POW_MINUS_32 = 1 / 4294967296;

/**
 * xoshiro128** (Blackman & Vigna): 128 bits of state, period 2^128 - 1, a few
 * integer ops per draw. Seeded through splitmix32 so that nearby seeds give
 * unrelated streams.
 */
export class Xoshiro128 implements UniformSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = mixSeed(seed) | 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const b = this.b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r >>> 0;
  }

  /** Uniform double in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() * TWO_POW_MINUS_32;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
