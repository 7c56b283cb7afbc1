// Whole percents from proportions. Data planes take integer weights, so every floor that turns
// shares into weights (the static intent, the guard, the simulator, status) rounds the same way:
// a route's weights do not depend on which room computed them.

/**
 * Integers summing to exactly `total` (when any value is positive), each within 1 of its
 * proportional share: largest remainder first, ties to the larger value, then the earlier
 * entry, so the result is deterministic. Negative values count as 0; all-zero input gives
 * all zeros. Any scale: [1, 1, 1] and [0.2, 0.2, 0.2] both give [34, 33, 33].
 */
export function largestRemainder(values: readonly number[], total = 100): number[] {
  const sum = values.reduce((a, v) => a + Math.max(0, v), 0);
  if (sum <= 0) return values.map(() => 0);
  const exact = values.map((v) => (Math.max(0, v) * total) / sum);
  // The epsilon keeps 28.999999999999996 (0.29 * 100) from flooring to 28.
  const out = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, remainder: x - (out[i] ?? 0), value: values[i] ?? 0 }))
    .sort((a, b) => b.remainder - a.remainder || b.value - a.value || a.i - b.i);
  for (let k = 0; left > 0 && order.length > 0; k = (k + 1) % order.length) {
    const i = order[k]!.i;
    out[i] = (out[i] ?? 0) + 1;
    left--;
  }
  return out;
}
