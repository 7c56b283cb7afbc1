// Generalised advantage estimation over one episode. Each trajectory is one episode, so the
// recursion never crosses an episode boundary; how the episode ended decides the bootstrap.

export interface GaeResult {
  advantages: Float32Array;
  /** Targets for the value function: advantages + values (the λ-return). */
  returns: Float32Array;
}

/**
 * GAE(λ) for rewards r[0..T-1] with value estimates v[0..T-1]. `bootstrapValue` is V of the
 * state after the last step: 0 when the episode truly terminated, the critic's estimate when it
 * was cut off (time limit, step cap). Pure; accumulates in float64.
 */
export function computeGae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  bootstrapValue: number,
  gamma: number,
  lambda: number,
): GaeResult {
  const n = rewards.length;
  if (values.length !== n) throw new RangeError(`computeGae: ${n} rewards but ${values.length} values`);
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  let next = bootstrapValue;
  let acc = 0;
  for (let t = n - 1; t >= 0; t--) {
    const v = values[t]!;
    const delta = rewards[t]! + gamma * next - v;
    acc = delta + gamma * lambda * acc;
    advantages[t] = acc;
    returns[t] = acc + v;
    next = v;
  }
  return { advantages, returns };
}
