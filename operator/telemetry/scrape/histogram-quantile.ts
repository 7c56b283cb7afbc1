// Quantiles from classic Prometheus histogram buckets, computed the way PromQL's
// histogram_quantile() does (promql/quantile.go, bucketQuantile), for bucket counts that are
// the increase between two scrapes.
//
// Edge cases, and what they give here (PromQL's answer in brackets):
// - no observations in the interval (every delta 0), or no buckets: undefined, "no data" [NaN];
// - no +Inf bucket, or fewer than two buckets once equal bounds are merged: undefined [NaN];
// - the quantile falls into the +Inf bucket: the largest finite upper bound, since nothing
//   better is known about observations beyond it [same];
// - the quantile falls into the lowest bucket: interpolated from 0 when that bucket's bound is
//   positive, its bound itself when the bound is <= 0 [same];
// - counts that decrease with a larger bound (float error, or a series that reset while its
//   neighbour did not): the envelope is used, each count raised to the largest one below it [same];
// - q = 0 when the lowest bucket that holds rank 0 is empty (0/0): undefined [NaN];
// - a NaN or negative count: undefined, never a number derived from it [NaN propagates];
// - a result that is not finite (a -Inf bound, bounds so far apart that interpolating
//   between them overflows): undefined [±Inf, NaN];
// - q outside 0..1 or NaN: RangeError, a programmer error here [PromQL: ±Inf, NaN].

export interface Bucket {
  /** Inclusive upper bound (the `le` label); +Infinity for the last bucket. */
  le: number;
  /** Cumulative count of observations <= le. */
  count: number;
}

/**
 * The q-quantile (0..1) of the observations the cumulative `buckets` describe, interpolated
 * linearly within the bucket it falls into. Buckets may come in any order; the input is not
 * modified. Undefined when there is no data (see the module comment).
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside 0..1`);
  if (buckets.length === 0) return undefined;
  const sorted = buckets.map((b) => ({ le: b.le, count: b.count })).sort((a, b) => a.le - b.le);
  if (sorted.some((b) => !(b.count >= 0) || Number.isNaN(b.le))) return undefined;
  if (sorted[sorted.length - 1]!.le !== Infinity) return undefined;

  // Equal bounds (the same `le` written twice, e.g. "1" and "1.0") are one bucket.
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else merged.push(b);
  }
  let max = 0;
  for (const b of merged) {
    if (b.count < max) b.count = max;
    else max = b.count;
  }
  if (merged.length < 2) return undefined;

  const observations = merged[merged.length - 1]!.count;
  if (observations === 0) return undefined;
  let rank = q * observations;
  let b = merged.length - 1;
  for (let i = 0; i < merged.length - 1; i++) {
    if (merged[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === merged.length - 1) return finite(merged[merged.length - 2]!.le);
  if (b === 0 && merged[0]!.le <= 0) return finite(merged[0]!.le);
  let start = 0;
  let count = merged[b]!.count;
  if (b > 0) {
    start = merged[b - 1]!.le;
    count -= merged[b - 1]!.count;
    rank -= merged[b - 1]!.count;
  }
  // An empty bucket can only be chosen for q = 0 (rank 0): 0/0, PromQL's NaN.
  if (count === 0) return undefined;
  return finite(start + (merged[b]!.le - start) * (rank / count));
}

function finite(x: number): number | undefined {
  return Number.isFinite(x) ? x : undefined;
}
