// The shipped form of the actor: a tfjs layers model mapping one region row to its outputs
// (model/format.ts, features.ts), rebuilt from the learner's weights. Layer names are fixed
// so the same weights always give the same model.json.
import * as tf from '@tensorflow/tfjs';
import { MODEL_OUTPUT_SIZE, ROW_SIZE } from '../../operator/policy/features.ts';
import type { MlpWeights } from './mlp-weights.ts';

/** A sequential model with the actor's layers and weights. The caller disposes it. */
export function buildPolicyModel(actor: MlpWeights): tf.Sequential {
  const sizes = actor.layers.map((l) => l.outSize);
  if (actor.layers[0]?.inSize !== ROW_SIZE || sizes.at(-1) !== MODEL_OUTPUT_SIZE) {
    throw new RangeError(`actor maps ${actor.layers[0]?.inSize} → ${sizes.at(-1)}; the policy spec needs ${ROW_SIZE} → ${MODEL_OUTPUT_SIZE}`);
  }
  const model = tf.sequential({ name: 'meshpilot_policy' });
  actor.layers.forEach((l, i) => {
    const last = i + 1 === actor.layers.length;
    model.add(
      tf.layers.dense({
        name: last ? 'action_mean' : `hidden_${i + 1}`,
        units: l.outSize,
        activation: last ? 'linear' : 'tanh',
        ...(i === 0 ? { inputShape: [ROW_SIZE] } : {}),
      }),
    );
  });
  model.setWeights(actor.layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.inSize, l.outSize]), tf.tensor1d(l.bias)]));
  return model;
}
