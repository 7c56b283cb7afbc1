// The PPO losses as tensor functions (call inside tf.tidy or a gradient closure). The masked
// diagonal Gaussian here must agree with gaussian.ts, which the rollouts use.
import * as tf from '@tensorflow/tfjs';
import { HALF_LOG_2PI } from './gaussian.ts';

/** log π(a|s) per row over the entries where mask is 1. actions, mean, mask: [B, A]; logStd: [A]. */
export function gaussianLogProbTf(actions: tf.Tensor2D, mean: tf.Tensor2D, logStd: tf.Tensor1D, mask: tf.Tensor2D): tf.Tensor1D {
  const z = tf.div(tf.sub(actions, mean), tf.exp(logStd));
  const perEntry = tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), logStd), HALF_LOG_2PI);
  return tf.sum(tf.mul(perEntry, mask), 1);
}

/** Entropy per row of the masked diagonal Gaussian: Σ mask·(logStd + ½ + ½log2π). */
export function gaussianEntropyTf(logStd: tf.Tensor1D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(mask, tf.add(logStd, 0.5 + HALF_LOG_2PI)), 1);
}

export interface SurrogateTerms {
  /** −mean(min(r·A, clip(r)·A)): minimised. */
  loss: tf.Scalar;
  /** mean((r − 1) − log r): a low-variance estimate of KL(old ‖ new). */
  approxKl: tf.Scalar;
  /** Share of rows whose ratio left [1 − ε, 1 + ε]. */
  clipFraction: tf.Scalar;
}

export function clippedSurrogate(logProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, advantages: tf.Tensor1D, clipRatio: number): SurrogateTerms {
  const logRatio = tf.sub(logProb, oldLogProb);
  const ratio = tf.exp(logRatio);
  const unclipped = tf.mul(ratio, advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - clipRatio, 1 + clipRatio), advantages);
  return {
    loss: tf.neg(tf.mean(tf.minimum(unclipped, clipped))),
    approxKl: tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)),
    clipFraction: tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRatio), 'float32')),
  };
}

/** ½·mean((V − R)²), or with clipping ½·mean(max((V − R)², (V_old + clip(V − V_old) − R)²)). */
export function valueLoss(values: tf.Tensor1D, oldValues: tf.Tensor1D, returns: tf.Tensor1D, clip: number | null): tf.Scalar {
  const plain = tf.square(tf.sub(values, returns));
  if (clip === null) return tf.mul(tf.mean(plain), 0.5);
  const clippedValues = tf.add(oldValues, tf.clipByValue(tf.sub(values, oldValues), -clip, clip));
  return tf.mul(tf.mean(tf.maximum(plain, tf.square(tf.sub(clippedValues, returns)))), 0.5);
}
