// The learner's side of the v2 contract (operator/policy/features.ts): the actor and the critic are
// each one network applied to every region row of a route, their outputs pooled per route. The
// actor pools as serving does (poolRegionOutputs: a region's logit is its row's, the retry and
// per-try entries average the votes of the route's rows); the critic averages its rows' values.
// One standard deviation is shared by every region slot, so that no slot is special.
import * as tf from '@tensorflow/tfjs';
import { ACTION_SIZE, MAX_REGIONS, MODEL_OUTPUT_SIZE, OBSERVATION_SIZE, ROW_SIZE, poolRegionOutputs } from '../../operator/policy/features.ts';
import { mlpForward, type MlpWeights } from './mlp-weights.ts';
import { tfMlpApply, type TfMlp } from './tf-mlp.ts';

/** Learnable log standard deviations: region weight logits (shared), retries, per-try timeout. */
export const LOG_STD_SIZE = 3;
const LOG_STD_OF_ACTION = Int32Array.from({ length: ACTION_SIZE }, (_, i) => (i < MAX_REGIONS ? 0 : 1 + i - MAX_REGIONS));

/** The per-entry log standard deviations of the raw action (ACTION_SIZE) from the learner's LOG_STD_SIZE. */
export function expandLogStd(logStd: ArrayLike<number>): Float32Array {
  return Float32Array.from(LOG_STD_OF_ACTION, (k) => logStd[k]!);
}

/** [LOG_STD_SIZE, ACTION_SIZE]: 1 where an action entry takes a learned log std. */
const EXPAND = Float32Array.from({ length: LOG_STD_SIZE * ACTION_SIZE }, (_, k) => (LOG_STD_OF_ACTION[k % ACTION_SIZE] === Math.floor(k / ACTION_SIZE) ? 1 : 0));

/** expandLogStd on tensors (differentiable; a product, since gather has no gradient on the wasm backend). Call inside tf.tidy. */
export function expandLogStdTf(logStd: tf.Tensor1D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.reshape(logStd, [1, LOG_STD_SIZE]), tf.tensor2d(EXPAND, [LOG_STD_SIZE, ACTION_SIZE])), [ACTION_SIZE]) as tf.Tensor1D;
}

/** [B, MAX_REGIONS] of 1 for the route's regions, 0 for absent slots; and the rows as [B·MAX_REGIONS, ROW_SIZE]. */
function rowsOf(x: tf.Tensor2D): { present: tf.Tensor2D; rows: tf.Tensor2D; count: tf.Tensor2D } {
  const b = x.shape[0];
  const cube = tf.reshape(x, [b, MAX_REGIONS, ROW_SIZE]);
  const present = tf.reshape(tf.slice(cube, [0, 0, 0], [b, MAX_REGIONS, 1]), [b, MAX_REGIONS]) as tf.Tensor2D;
  const count = tf.maximum(tf.sum(present, 1, true), 1) as tf.Tensor2D;
  return { present, rows: tf.reshape(x, [b * MAX_REGIONS, ROW_SIZE]) as tf.Tensor2D, count };
}

/** The actor's mean raw actions, [B, ACTION_SIZE], for encoded observations [B, OBSERVATION_SIZE]. Call inside tf.tidy. */
export function actorMeanTf(actor: TfMlp, x: tf.Tensor2D): tf.Tensor2D {
  const b = x.shape[0];
  const { present, rows, count } = rowsOf(x);
  const y = tf.reshape(tfMlpApply(actor, rows), [b, MAX_REGIONS, MODEL_OUTPUT_SIZE]);
  const output = (k: number) => tf.mul(tf.reshape(tf.slice(y, [0, 0, k], [b, MAX_REGIONS, 1]), [b, MAX_REGIONS]), present) as tf.Tensor2D;
  const vote = (k: number) => tf.div(tf.sum(output(k), 1, true), count);
  return tf.concat([output(0), vote(1), vote(2)], 1) as tf.Tensor2D;
}

/** The critic's value per observation, [B]: the mean over the route's rows. Call inside tf.tidy. */
export function criticValueTf(critic: TfMlp, x: tf.Tensor2D): tf.Tensor1D {
  const b = x.shape[0];
  const { present, rows, count } = rowsOf(x);
  const v = tf.mul(tf.reshape(tfMlpApply(critic, rows), [b, MAX_REGIONS]), present);
  return tf.reshape(tf.div(tf.sum(v, 1, true), count), [b]) as tf.Tensor1D;
}

/** The actor's mean raw action for one encoded observation, in plain JS (rollout workers). */
export function actorMeanJs(actor: MlpWeights, observation: ArrayLike<number>, out: Float32Array<ArrayBufferLike>): Float32Array<ArrayBufferLike> {
  if (observation.length < OBSERVATION_SIZE) throw new RangeError(`observation: ${observation.length} floats; the policy spec has ${OBSERVATION_SIZE}`);
  const outputs = new Float32Array(MAX_REGIONS * MODEL_OUTPUT_SIZE);
  const y = new Float64Array(MODEL_OUTPUT_SIZE);
  for (let i = 0; i < MAX_REGIONS; i++) {
    const row = observation instanceof Float32Array ? observation.subarray(i * ROW_SIZE, (i + 1) * ROW_SIZE) : Array.prototype.slice.call(observation, i * ROW_SIZE, (i + 1) * ROW_SIZE);
    if (row[0] !== 1) continue;
    mlpForward(actor, row, y);
    outputs.set(y, i * MODEL_OUTPUT_SIZE);
  }
  return poolRegionOutputs(outputs, observation, 1, out);
}
