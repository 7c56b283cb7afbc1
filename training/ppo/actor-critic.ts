// The learner's networks: a Gaussian policy (an MLP applied to every region row, pooled into
// the mean of the raw action vector, and state-independent learnable log standard deviations,
// one shared by the region slots) and a separate value MLP, also per row and pooled
// (region-rows.ts).
import * as tf from '@tensorflow/tfjs';
import { MODEL_OUTPUT_SIZE, OBSERVATION_SIZE, ROW_SIZE } from '../../operator/policy/features.ts';
import type { ActorSnapshot } from './episode.ts';
import { normalSampler } from './gaussian.ts';
import { cloneMlpWeights, initMlpWeights, type MlpWeights } from './mlp-weights.ts';
import { criticValueTf, expandLogStd, LOG_STD_SIZE } from './region-rows.ts';
import { assignTfMlp, disposeTfMlp, readTfMlp, tfMlpFrom, tfMlpVariables, type TfMlp } from './tf-mlp.ts';
import { streamOf } from './seeds.ts';

/** The networks as plain arrays: what checkpoints hold. */
export interface ActorCriticWeights {
  actor: MlpWeights;
  logStd: Float32Array;
  critic: MlpWeights;
}

/** Rows per forward pass when evaluating the critic over a whole batch. */
const VALUE_CHUNK = 4096;

export class ActorCritic {
  readonly actor: TfMlp;
  readonly logStd: tf.Variable;
  readonly critic: TfMlp;

  constructor(w: ActorCriticWeights) {
    this.actor = tfMlpFrom(w.actor);
    this.logStd = tf.tidy(() => tf.variable(tf.tensor1d(w.logStd), true));
    this.critic = tfMlpFrom(w.critic);
  }

  /** Fresh weights for `hidden` layer widths, drawn from the run seed's 'init' stream. */
  static initialWeights(seed: number, hidden: number[], initLogStd: number): ActorCriticWeights {
    const normal = normalSampler(streamOf(seed, 'init'));
    // A small last actor layer: every route starts near the zero action, the heuristic's.
    const actor = initMlpWeights([ROW_SIZE, ...hidden, MODEL_OUTPUT_SIZE], normal, 0.01);
    const critic = initMlpWeights([ROW_SIZE, ...hidden, 1], normal, 1);
    return { actor, logStd: new Float32Array(LOG_STD_SIZE).fill(initLogStd), critic };
  }

  actorVariables(): tf.Variable[] {
    return [...tfMlpVariables(this.actor), this.logStd];
  }

  criticVariables(): tf.Variable[] {
    return tfMlpVariables(this.critic);
  }

  weights(): ActorCriticWeights {
    return {
      actor: readTfMlp(this.actor),
      logStd: Float32Array.from(this.logStd.dataSync() as Float32Array),
      critic: readTfMlp(this.critic),
    };
  }

  load(w: ActorCriticWeights): void {
    assignTfMlp(this.actor, w.actor);
    assignTfMlp(this.critic, w.critic);
    tf.tidy(() => this.logStd.assign(tf.tensor1d(w.logStd)));
  }

  /** The actor as rollout workers hold it (copies). */
  snapshot(): ActorSnapshot {
    const w = this.weights();
    return { mean: cloneMlpWeights(w.actor), logStd: expandLogStd(w.logStd) };
  }

  /** V(s) for `count` encoded observations laid end to end. */
  values(observations: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count);
    for (let start = 0; start < count; start += VALUE_CHUNK) {
      const n = Math.min(VALUE_CHUNK, count - start);
      const chunk = observations.subarray(start * OBSERVATION_SIZE, (start + n) * OBSERVATION_SIZE);
      const v = tf.tidy(() => criticValueTf(this.critic, tf.tensor2d(chunk, [n, OBSERVATION_SIZE])).dataSync());
      out.set(v, start);
    }
    return out;
  }

  dispose(): void {
    disposeTfMlp(this.actor);
    disposeTfMlp(this.critic);
    this.logStd.dispose();
  }
}
