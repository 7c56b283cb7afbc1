// A signal's trend over a window: the least-squares slope of its points, as a change over the
// window relative to their mean. One function for serving's window store and the simulator's
// view of it, so that both compute the same float64 value from the same points: the sums run
// oldest first (test/unit/policy/cross-path-golden.test.ts holds the two paths to it).

/**
 * The least-squares change over `spanMs`, relative to the mean, of the `count` points whose
 * k-th oldest is at index `indexOf(k)` of `times`/`values`, counting only those at or after
 * `since`; null with fewer than two such points, all at one time, or a mean of 0. Finite
 * for any finite points. Pure. (`scale` is the function's own: see below.)
 */
export function leastSquaresTrend(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  count: number,
  indexOf: (k: number) => number,
  since: number,
  spanMs: number,
  scale = 1,
): number | null {
  let n = 0, st = 0, sv = 0;
  for (let k = 0; k < count; k++) {
    const i = indexOf(k);
    if (times[i]! < since) continue;
    n++;
    st += times[i]!;
    sv += values[i]! * scale;
  }
  if (n < 2) return null;
  const mt = st / n, mv = sv / n;
  let cov = 0, vt = 0;
  for (let k = 0; k < count; k++) {
    const i = indexOf(k);
    if (times[i]! < since) continue;
    const dt = times[i]! - mt;
    cov += dt * (values[i]! * scale - mv);
    vt += dt * dt;
  }
  if (vt === 0 || mv === 0) return null;
  const trend = ((cov / vt) * spanMs) / mv;
  if (Number.isFinite(trend)) return trend;
  // Values near the top of float64 overflow the sums. The trend is relative to the mean, so
  // it does not change when every value is divided by the largest: recompute that way, once.
  // (Only then: ordinary values keep the exact float64 result both paths agree on.)
  if (scale !== 1) return null;
  let largest = 0;
  for (let k = 0; k < count; k++) {
    const i = indexOf(k);
    if (times[i]! >= since) largest = Math.max(largest, Math.abs(values[i]!));
  }
  return largest > 0 ? leastSquaresTrend(times, values, count, indexOf, since, spanMs, 1 / largest) : null;
}
