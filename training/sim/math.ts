// Numerics the simulator leans on in its inner loop: the normal CDF, a seeded normal draw, and
// a fixed log-spaced latency grid on which distributions are kept as cumulative counts, so that
// quantiles of any mixture (regions, homes, retries, intervals) cost one pass over the grid.

/**
 * Standard normal CDF. Abramowitz & Stegun 7.1.26 on erfc (absolute error < 1.5e-7): far below
 * what a p99 read off the latency grid can resolve, and several times cheaper than a series.
 */
export function normalCdf(z: number): number {
  if (z < -8) return 0;
  if (z > 8) return 1;
  const x = Math.abs(z) * Math.SQRT1_2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const half = 0.5 * poly * Math.exp(-x * x);
  return z >= 0 ? 1 - half : half;
}

/** P(X <= x) for X lognormal with log-mean `mu` and log-sd `sigma`; 0 for x <= 0. */
export function lognormalCdf(x: number, mu: number, sigma: number): number {
  return x <= 0 ? 0 : normalCdf((Math.log(x) - mu) / sigma);
}

/**
 * A region's service time when `share` of its tries land on slower pods: a mixture of two
 * lognormals with the same log-sd, log-medians `mu` (the rest) and `muSlow`. With share 0 it is
 * exactly the single lognormal, to the bit.
 */
export interface Mixture {
  mu: number;
  sigma: number;
  share: number;
  muSlow: number;
  sigmaSlow: number;
}

/** P(X <= x) for X drawn from the mixture `m`. */
export function mixtureCdf(x: number, m: Mixture): number {
  const fast = lognormalCdf(x, m.mu, m.sigma);
  return m.share === 0 ? fast : (1 - m.share) * fast + m.share * lognormalCdf(x, m.muSlow, m.sigmaSlow);
}

/** A seeded standard normal sampler over a uniform source (Box-Muller, both halves used). */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Retry components lighter than this share of requests are left out of latency distributions (far below the 1 % a p99 reads). */
export const NEGLIGIBLE = 1e-5;

/** Latency grid: GRID_SIZE edges, log-spaced from GRID_MIN_MS to GRID_MAX_MS. */
export const GRID_SIZE = 112;
export const GRID_MIN_MS = 0.25;
export const GRID_MAX_MS = 300_000;
const LOG_MIN = Math.log(GRID_MIN_MS);
const LOG_STEP = (Math.log(GRID_MAX_MS) - LOG_MIN) / (GRID_SIZE - 1);
/** Edge i of the grid, ms. */
export const GRID_EDGES: Float64Array = Float64Array.from({ length: GRID_SIZE }, (_, i) => Math.exp(LOG_MIN + i * LOG_STEP));
const LOG_EDGES: Float64Array = GRID_EDGES.map((e) => Math.log(e));

/**
 * Adds `weight` × P(shift + X <= edge) to `cdf` at every edge, where X is lognormal(mu, sigma)
 * conditioned on shift + X <= cap (a per-try timeout cuts the tail: those tries fail instead).
 * Edges far in either tail are filled without evaluating the CDF.
 */
export function addShiftedLognormal(cdf: Float64Array, weight: number, shift: number, mu: number, sigma: number, cap = Infinity): void {
  if (!(weight > 0)) return;
  const norm = cap === Infinity ? 1 : lognormalCdf(cap - shift, mu, sigma);
  if (!(norm > 1e-12)) return;
  const scale = weight / norm;
  // Beyond six sigmas either way the CDF is 0 or 1 to 1e-9: no logarithm, no erf.
  const lo = Math.exp(mu - 6 * sigma), hi = Math.exp(mu + 6 * sigma);
  for (let i = 0; i < GRID_SIZE; i++) {
    const edge = GRID_EDGES[i]!;
    if (edge >= cap) {
      cdf[i]! += weight;
      continue;
    }
    const x = edge - shift;
    if (x <= lo) continue;
    cdf[i]! += x >= hi ? scale * norm : scale * normalCdf(((shift === 0 ? LOG_EDGES[i]! : Math.log(x)) - mu) / sigma);
  }
}

/** addShiftedLognormal for a mixture: each component gets its share of the tries that finish under `cap`. */
export function addShiftedMixture(cdf: Float64Array, weight: number, shift: number, m: Mixture, cap = Infinity): void {
  if (m.share === 0) {
    addShiftedLognormal(cdf, weight, shift, m.mu, m.sigma, cap);
    return;
  }
  const fast = cap === Infinity ? 1 : lognormalCdf(cap - shift, m.mu, m.sigma);
  const slow = cap === Infinity ? 1 : lognormalCdf(cap - shift, m.muSlow, m.sigmaSlow);
  const under = (1 - m.share) * fast + m.share * slow;
  if (!(under > 1e-12)) return;
  addShiftedLognormal(cdf, (weight * (1 - m.share) * fast) / under, shift, m.mu, m.sigma, cap);
  addShiftedLognormal(cdf, (weight * m.share * slow) / under, shift, m.muSlow, m.sigmaSlow, cap);
}

/** Adds `weight` of requests that all take exactly `atMs`. */
export function addPointMass(cdf: Float64Array, weight: number, atMs: number): void {
  if (!(weight > 0)) return;
  for (let i = GRID_SIZE - 1; i >= 0 && GRID_EDGES[i]! >= atMs; i--) cdf[i]! += weight;
}

/**
 * The q-quantile of a cumulative count array on the grid (`total` = the count of everything
 * added), interpolated in log space between edges; null when empty. Mass beyond the grid
 * reads as the last edge.
 */
export function gridQuantile(cdf: Float64Array, total: number, q: number): number | null {
  if (!(total > 0)) return null;
  const target = q * total;
  for (let i = 0; i < GRID_SIZE; i++) {
    const c = cdf[i]!;
    if (c >= target) {
      if (i === 0) return GRID_EDGES[0]!;
      const before = cdf[i - 1]!;
      const f = c > before ? (target - before) / (c - before) : 1;
      return Math.exp(LOG_EDGES[i - 1]! + f * LOG_STEP);
    }
  }
  return GRID_MAX_MS;
}

/** P(latency <= x) from a cumulative count array, interpolated like gridQuantile. */
export function gridCdfAt(cdf: Float64Array, total: number, x: number): number {
  if (!(total > 0)) return 1;
  if (x <= GRID_EDGES[0]!) return cdf[0]! / total;
  if (x >= GRID_MAX_MS) return cdf[GRID_SIZE - 1]! / total;
  const pos = (Math.log(x) - LOG_MIN) / LOG_STEP;
  const i = Math.floor(pos);
  const f = pos - i;
  return (cdf[i]! + f * (cdf[i + 1]! - cdf[i]!)) / total;
}
