// The diagonal Gaussian policy on the plain-JS side: sampling and log-density for rollouts in
// workers (which hold no tensors). The learner's tensor version lives in policy-loss.ts and
// must agree with this one.

export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Standard normal draws from a uniform generator (Box–Muller, both outputs used). */
export function normalSampler(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const u1 = 1 - random(); // (0, 1]: log stays finite
    const u2 = random();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

/**
 * Samples `out = mean + exp(logStd) * z` and returns the log-density of the sample over the
 * entries where mask is 1 (masked-out entries are still sampled, so the stream of draws does
 * not depend on the route's region count).
 */
export function sampleGaussian(
  mean: ArrayLike<number>,
  logStd: ArrayLike<number>,
  mask: ArrayLike<number>,
  normal: () => number,
  out: Float32Array,
): number {
  let logp = 0;
  for (let i = 0; i < out.length; i++) {
    const z = normal();
    out[i] = mean[i]! + Math.exp(logStd[i]!) * z;
    if (mask[i]) logp += -0.5 * z * z - logStd[i]! - HALF_LOG_2PI;
  }
  return logp;
}

/** Log-density of `x` under the masked diagonal Gaussian. */
export function gaussianLogProb(
  x: ArrayLike<number>,
  mean: ArrayLike<number>,
  logStd: ArrayLike<number>,
  mask: ArrayLike<number>,
): number {
  let logp = 0;
  for (let i = 0; i < x.length; i++) {
    if (!mask[i]) continue;
    const z = (x[i]! - mean[i]!) / Math.exp(logStd[i]!);
    logp += -0.5 * z * z - logStd[i]! - HALF_LOG_2PI;
  }
  return logp;
}
