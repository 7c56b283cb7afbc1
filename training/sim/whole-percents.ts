// Data planes take whole-number weights: the simulator serves what the operator would write.

/**
 * Non-negative `weights` (any scale, positive sum) as whole percents summing to 100, by the
 * largest remainder (ties to the larger weight, then the earlier region). Pure.
 */
export function wholePercents(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * 100);
  const result = exact.map(Math.floor);
  let left = 100 - result.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, remainder: x - Math.floor(x), weight: weights[i]! }))
    .sort((a, b) => b.remainder - a.remainder || b.weight - a.weight || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    result[i]!++;
    left--;
  }
  return result;
}
