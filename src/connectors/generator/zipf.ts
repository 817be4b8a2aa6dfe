import type { UniformSource } from './random';

/** Draws ranks 1..n with P(k) proportional to 1 / k^s. */
export interface ZipfSampler {
  readonly n: number;
  readonly s: number;
  sample(rng: UniformSource): number;
}

/** Up to this many ranks a precomputed table is used; above it, rejection-inversion (no memory). */
const TABLE_LIMIT = 1 << 16;

const cache = new Map<string, ZipfSampler>();

/**
 * Returns a (shared, immutable) sampler for Zipf(n, s). Small n use a CDF
 * table with a guide table (O(1) expected, ~1.5 probes); large n use
 * rejection-inversion, which needs no table and so no cache misses.
 */
export function zipf(n: number, s: number): ZipfSampler {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`zipf: s must be positive, got ${s}`);
  const key = `${n}:${s}`;
  let sampler = cache.get(key);
  if (sampler === undefined) {
    sampler = n <= TABLE_LIMIT ? new TableZipf(n, s) : new RejectionInversionZipf(n, s);
    cache.set(key, sampler);
  }
  return sampler;
}

/** Exact probability of rank k under Zipf(n, s); for tests and diagnostics (O(n)). */
export function zipfProbability(n: number, s: number, k: number): number {
  let norm = 0;
  for (let i = n; i >= 1; i--) norm += Math.pow(i, -s);
  return Math.pow(k, -s) / norm;
}

/** Inversion through a cumulative table plus a guide table indexed by floor(u * n). */
export class TableZipf implements ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly guide: Int32Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    const cdf = new Float64Array(n);
    let sum = 0;
    // Sum from the small terms up for accuracy, then prefix-sum from the top.
    const w = new Float64Array(n);
    for (let k = n; k >= 1; k--) {
      w[k - 1] = Math.pow(k, -s);
      sum += w[k - 1];
    }
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += w[i];
      cdf[i] = acc / sum;
    }
    cdf[n - 1] = 1; // so the probe below always stops
    const guide = new Int32Array(n);
    let i = 0;
    for (let j = 0; j < n; j++) {
      const threshold = j / n;
      while (cdf[i] <= threshold) i++;
      guide[j] = i;
    }
    this.cdf = cdf;
    this.guide = guide;
  }

  sample(rng: UniformSource): number {
    const u = rng.next();
    const cdf = this.cdf;
    let i = this.guide[Math.floor(u * this.n)];
    while (cdf[i] <= u) i++;
    return i + 1;
  }
}

/**
 * Rejection-inversion sampling (Hörmann & Derflinger 1996, as in Apache
 * Commons RNG): inverts the integral of the continuous hat function and
 * accepts with high probability; a few log/exp per draw, no tables.
 */
export class RejectionInversionZipf implements ZipfSampler {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly cut: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.cut = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  sample(rng: UniformSource): number {
    const n = this.n;
    for (;;) {
      // u is uniform in (hIntegralX1, hIntegralN]
      const u = this.hIntegralN + rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= this.cut || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.s) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1; // guard against rounding near the lower bound
    return Math.exp(helper1(t) * x);
  }
}

/** log(1 + x) / x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** (exp(x) - 1) / x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}
