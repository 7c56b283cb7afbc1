// The reward model q̂ doubly robust estimation leans on: ridge regression of the reward on a
// caller-chosen feature vector of (observation, action), fit in closed form. Deliberately
// simple: DR stays unbiased when the importance weights are right whatever q̂ is; a better
// q̂ only lowers the variance, so a linear model on good features is enough.

/** A fitted reward model: the predicted reward for a feature vector. */
export interface RewardModel {
  predict(features: readonly number[]): number;
}

/**
 * Fits r ≈ β·[1, features] minimising Σ(r − β·x)² + λ‖β‖² (the intercept is not penalised),
 * by solving the normal equations with a Cholesky factorisation. Features are standardised
 * first, so one λ suits features of any scale. Throws RangeError for no rows or rows of
 * different lengths. Pure.
 */
export function fitRidge(rows: readonly (readonly number[])[], rewards: readonly number[], lambda = 1e-3): RewardModel {
  const n = rows.length;
  if (n === 0 || rewards.length !== n) throw new RangeError(`fitRidge: ${n} rows and ${rewards.length} rewards`);
  const d = rows[0]!.length;
  if (rows.some((r) => r.length !== d)) throw new RangeError('fitRidge: rows of different lengths');
  const mean = new Array<number>(d).fill(0), scale = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) scale[j]! += (r[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) || 1;
  const rMean = rewards.reduce((a, b) => a + b, 0) / n;
  // With centred features the intercept is the reward mean; solve for the rest.
  const a = Array.from({ length: d }, () => new Float64Array(d));
  const b = new Float64Array(d);
  const z = new Float64Array(d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) z[j] = (r[j]! - mean[j]!) / scale[j]!;
    const y = rewards[i]! - rMean;
    for (let j = 0; j < d; j++) {
      b[j]! += z[j]! * y;
      const aj = a[j]!;
      for (let k = 0; k <= j; k++) aj[k]! += z[j]! * z[k]!;
    }
  });
  for (let j = 0; j < d; j++) a[j]![j]! += lambda * n;
  // Cholesky: a = L Lᵀ, L stored in the lower triangle of a.
  for (let j = 0; j < d; j++) {
    const aj = a[j]!;
    for (let k = 0; k < j; k++) {
      const ak = a[k]!;
      let s = aj[k]!;
      for (let m = 0; m < k; m++) s -= aj[m]! * ak[m]!;
      aj[k] = s / ak[k]!;
    }
    let s = aj[j]!;
    for (let m = 0; m < j; m++) s -= aj[m]! * aj[m]!;
    aj[j] = Math.sqrt(Math.max(s, 1e-12));
  }
  const y = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = b[j]!;
    for (let m = 0; m < j; m++) s -= a[j]![m]! * y[m]!;
    y[j] = s / a[j]![j]!;
  }
  const beta = new Float64Array(d);
  for (let j = d - 1; j >= 0; j--) {
    let s = y[j]!;
    for (let m = j + 1; m < d; m++) s -= a[m]![j]! * beta[m]!;
    beta[j] = s / a[j]![j]!;
  }
  return {
    predict(features) {
      if (features.length !== d) throw new RangeError(`reward model: ${features.length} features; it was fit on ${d}`);
      let r = rMean;
      for (let j = 0; j < d; j++) r += (beta[j]! * (features[j]! - mean[j]!)) / scale[j]!;
      return r;
    },
  };
}
