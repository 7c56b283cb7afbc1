// The learner's step: several epochs of shuffled minibatches over one batch, each minibatch one
// Adam step for the actor (clipped surrogate − entropy bonus) and one for the critic (value
// loss), each network's gradients clipped by their own global norm.
import * as tf from '@tensorflow/tfjs';
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../operator/policy/features.ts';
import type { ActorCritic } from './actor-critic.ts';
import type { Adam } from './adam.ts';
import type { Batch } from './batch.ts';
import type { PpoConfig } from './config.ts';
import { clippedSurrogate, gaussianEntropyTf, gaussianLogProbTf, valueLoss } from './policy-loss.ts';
import { permutation, streamOf } from './seeds.ts';
import { actorMeanTf, criticValueTf, expandLogStdTf } from './region-rows.ts';

export interface UpdateStats {
  policyLoss: number;
  valueLoss: number;
  /** Mean entropy of the policy per decision (nats), over the minibatches. */
  entropy: number;
  approxKl: number;
  clipFraction: number;
  /** Epochs run (fewer than configured when the KL target stopped them). */
  epochs: number;
  minibatches: number;
  actorGradNorm: number;
  criticGradNorm: number;
  /** 1 − Var(R − V)/Var(R) of the critic before the update: 1 is perfect, ≤ 0 is useless. */
  explainedVariance: number;
}

export interface Learner {
  model: ActorCritic;
  actorOptimizer: Adam;
  criticOptimizer: Adam;
}

/** Learning-rate multiplier for 0-based `iteration` of the run. */
export function learningRateFactor(config: PpoConfig, iteration: number): number {
  return config.learningRateSchedule === 'linear' ? Math.max(0, 1 - iteration / config.iterations) : 1;
}

/** Splits n rows into k ≈ n / size nearly equal minibatches (no tiny remainder batch). */
function minibatchBounds(n: number, size: number): number[] {
  const k = Math.max(1, Math.round(n / size));
  return Array.from({ length: k + 1 }, (_, i) => Math.round((i * n) / k));
}

/** One minibatch's rows, gathered from the batch into reused arrays. */
interface Rows {
  obs: Float32Array;
  act: Float32Array;
  mask: Float32Array;
  oldLogp: Float32Array;
  adv: Float32Array;
  ret: Float32Array;
  oldV: Float32Array;
}

interface StepStats {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  actorNorm: number;
  criticNorm: number;
}

/** Updates the networks in place from `batch`, the experience of 0-based `iteration`. Deterministic. */
export function ppoUpdate(learner: Learner, batch: Batch, config: PpoConfig, iteration: number): UpdateStats {
  const factor = learningRateFactor(config, iteration);
  const bounds = minibatchBounds(batch.size, config.minibatchSize);
  const rows = rowBuffers(Math.max(...bounds.slice(1).map((b, i) => b - bounds[i]!)));
  const sums = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipFraction: 0, actorGradNorm: 0, criticGradNorm: 0 };
  let minibatches = 0, epochs = 0;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const order = permutation(batch.size, streamOf(config.seed, 'minibatch', iteration, epoch));
    let epochKl = 0;
    for (let b = 0; b + 1 < bounds.length; b++) {
      const start = bounds[b]!, n = bounds[b + 1]! - start;
      gatherRows(batch, order, start, n, rows);
      const step = minibatchStep(learner, rows, n, config, factor);
      sums.policyLoss += step.policyLoss;
      sums.valueLoss += step.valueLoss;
      sums.entropy += step.entropy;
      sums.approxKl += step.approxKl;
      sums.clipFraction += step.clipFraction;
      sums.actorGradNorm += step.actorNorm;
      sums.criticGradNorm += step.criticNorm;
      epochKl += step.approxKl;
      minibatches++;
    }
    epochs++;
    if (config.targetKl !== null && epochKl / (bounds.length - 1) > 1.5 * config.targetKl) break;
  }
  const mean = (x: number) => (minibatches > 0 ? x / minibatches : 0);
  return {
    policyLoss: mean(sums.policyLoss),
    valueLoss: mean(sums.valueLoss),
    entropy: mean(sums.entropy),
    approxKl: mean(sums.approxKl),
    clipFraction: mean(sums.clipFraction),
    epochs,
    minibatches,
    actorGradNorm: mean(sums.actorGradNorm),
    criticGradNorm: mean(sums.criticGradNorm),
    explainedVariance: explainedVariance(batch.values, batch.returns),
  };
}

function rowBuffers(maxRows: number): Rows {
  return {
    obs: new Float32Array(maxRows * OBSERVATION_SIZE),
    act: new Float32Array(maxRows * ACTION_SIZE),
    mask: new Float32Array(maxRows * ACTION_SIZE),
    oldLogp: new Float32Array(maxRows),
    adv: new Float32Array(maxRows),
    ret: new Float32Array(maxRows),
    oldV: new Float32Array(maxRows),
  };
}

/** Copies batch rows order[start .. start + n) into `rows`. */
function gatherRows(batch: Batch, order: ArrayLike<number>, start: number, n: number, rows: Rows): void {
  for (let r = 0; r < n; r++) {
    const i = order[start + r]!;
    rows.obs.set(batch.observations.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE), r * OBSERVATION_SIZE);
    rows.act.set(batch.actions.subarray(i * ACTION_SIZE, (i + 1) * ACTION_SIZE), r * ACTION_SIZE);
    rows.mask.set(batch.masks.subarray(i * ACTION_SIZE, (i + 1) * ACTION_SIZE), r * ACTION_SIZE);
    rows.oldLogp[r] = batch.logProbs[i]!;
    rows.adv[r] = batch.advantages[i]!;
    rows.ret[r] = batch.returns[i]!;
    rows.oldV[r] = batch.values[i]!;
  }
}

/** One gradient step of both networks on the first `n` rows; the losses and gradient norms it saw. */
function minibatchStep(learner: Learner, rows: Rows, n: number, config: PpoConfig, factor: number): StepStats {
  const { model, actorOptimizer, criticOptimizer } = learner;
  const actorVars = model.actorVariables();
  const criticVars = model.criticVariables();
  return tf.tidy(() => {
    const x = tf.tensor2d(rows.obs.subarray(0, n * OBSERVATION_SIZE), [n, OBSERVATION_SIZE]);
    const a = tf.tensor2d(rows.act.subarray(0, n * ACTION_SIZE), [n, ACTION_SIZE]);
    const m = tf.tensor2d(rows.mask.subarray(0, n * ACTION_SIZE), [n, ACTION_SIZE]);
    const lp0 = tf.tensor1d(rows.oldLogp.subarray(0, n)), A = tf.tensor1d(rows.adv.subarray(0, n));
    const R = tf.tensor1d(rows.ret.subarray(0, n)), V0 = tf.tensor1d(rows.oldV.subarray(0, n));
    let terms: tf.Tensor[] = [];
    // The networks share nothing, so one gradient pass over the summed loss gives each its own gradients.
    const { grads } = tf.variableGrads(() => {
      const mean = actorMeanTf(model.actor, x);
      const logStd = expandLogStdTf(model.logStd as tf.Tensor1D);
      const logp = gaussianLogProbTf(a, mean, logStd, m);
      const s = clippedSurrogate(logp, lp0, A, config.clipRatio);
      const entropy = tf.mean(gaussianEntropyTf(logStd, m));
      const v = criticValueTf(model.critic, x);
      const vLoss = valueLoss(v, V0, R, config.valueClip);
      terms = [s.loss, vLoss, entropy, s.approxKl, s.clipFraction].map((t) => tf.keep(t));
      return tf.add(tf.sub(s.loss, tf.mul(entropy, config.entropyCoef)), vLoss) as tf.Scalar;
    }, [...actorVars, ...criticVars]);
    const actorNorm = actorOptimizer.apply(actorVars.map((v) => grads[v.name]!), config.learningRate * factor);
    const criticNorm = criticOptimizer.apply(criticVars.map((v) => grads[v.name]!), config.valueLearningRate * factor);
    const [policyLoss, vLoss, entropy, approxKl, clipFraction] = terms.map((t) => t.dataSync()[0]!);
    tf.dispose(terms); // kept tensors outlive every tidy scope
    return { policyLoss: policyLoss!, valueLoss: vLoss!, entropy: entropy!, approxKl: approxKl!, clipFraction: clipFraction!, actorNorm, criticNorm };
  });
}

function explainedVariance(values: Float32Array, returns: Float32Array): number {
  const n = returns.length;
  if (n < 2) return 0;
  let mr = 0, md = 0;
  for (let i = 0; i < n; i++) {
    mr += returns[i]!;
    md += returns[i]! - values[i]!;
  }
  mr /= n;
  md /= n;
  let vr = 0, vd = 0;
  for (let i = 0; i < n; i++) {
    vr += (returns[i]! - mr) ** 2;
    vd += (returns[i]! - values[i]! - md) ** 2;
  }
  return vr > 0 ? 1 - vd / vr : 0;
}
