// Percent arithmetic the guard and the heuristic share: raising shares to a floor, and fitting
// a target into per-region bounds. Rounding to whole percents is the ground floor's
// (base/percent.ts), the same for every room.

/** `values` scaled to sum to `total`; all-zero input stays all zeros. */
export function normalise(values: readonly number[], total = 100): number[] {
  const sum = values.reduce((a, v) => a + Math.max(0, v), 0);
  return sum > 0 ? values.map((v) => (Math.max(0, v) * total) / sum) : values.map(() => 0);
}

function bisect(sumAt: (x: number) => number, lo: number, hi: number, total: number): number {
  // Far below what integer percents can resolve; about 40 steps from the widest range used.
  while (hi - lo > 1e-10) {
    const mid = (lo + hi) / 2;
    if (sumAt(mid) < total) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Raises every share below its floor to the floor and scales the others down proportionally,
 * so the result still sums to `total`: w_i = max(floor_i, c · t_i) for the c that makes the
 * sum right. When the floors alone exceed `total` they are scaled down to fit.
 * `target` must sum to `total`.
 */
export function raiseToFloors(target: readonly number[], floors: readonly number[], total = 100): number[] {
  const floorSum = floors.reduce((a, f) => a + f, 0);
  if (floorSum >= total) return normalise(floors, total);
  if (target.every((t, i) => t >= (floors[i] ?? 0))) return [...target];
  const at = (c: number) => target.map((t, i) => Math.max(floors[i] ?? 0, c * t));
  const c = bisect((x) => at(x).reduce((a, b) => a + b, 0), 0, 1, total);
  return at(c);
}

/**
 * The point closest to `target` (Euclidean) with lo_i ≤ w_i ≤ hi_i and Σw = total: w_i =
 * clamp(t_i + λ, lo_i, hi_i). The caller guarantees Σlo ≤ total ≤ Σhi.
 */
export function fitToBounds(target: readonly number[], lo: readonly number[], hi: readonly number[], total = 100): number[] {
  const at = (shift: number) => target.map((t, i) => Math.min(hi[i]!, Math.max(lo[i]!, t + shift)));
  const shift = bisect((x) => at(x).reduce((a, b) => a + b, 0), -2 * total, 2 * total, total);
  return at(shift);
}
