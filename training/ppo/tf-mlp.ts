// A tanh MLP as tfjs variables, for the learner: raw variables rather than a layers model, so
// the optimiser state is ours to checkpoint and no global layer-name counter leaks into
// results. Converts to and from MlpWeights (plain arrays) exactly.
import * as tf from '@tensorflow/tfjs';
import type { MlpWeights } from './mlp-weights.ts';

export interface TfMlp {
  kernels: tf.Variable[];
  biases: tf.Variable[];
}

export function tfMlpFrom(w: MlpWeights): TfMlp {
  // tidy: a variable shares its initial tensor's data but not its bookkeeping; the tensor must go.
  return {
    kernels: w.layers.map((l) => tf.tidy(() => tf.variable(tf.tensor2d(l.kernel, [l.inSize, l.outSize]), true))),
    biases: w.layers.map((l) => tf.tidy(() => tf.variable(tf.tensor1d(l.bias), true))),
  };
}

/** Variables in a fixed order (kernel, bias per layer): the optimiser's and checkpoint's order. */
export function tfMlpVariables(m: TfMlp): tf.Variable[] {
  return m.kernels.flatMap((k, i) => [k, m.biases[i]!]);
}

/** x: [batch, in] → [batch, out]. Call inside tf.tidy. */
export function tfMlpApply(m: TfMlp, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  m.kernels.forEach((k, i) => {
    const z = tf.add(tf.matMul(h, k as tf.Tensor2D), m.biases[i]!) as tf.Tensor2D;
    h = i + 1 < m.kernels.length ? tf.tanh(z) : z;
  });
  return h;
}

export function readTfMlp(m: TfMlp): MlpWeights {
  return {
    layers: m.kernels.map((k, i) => ({
      inSize: k.shape[0]!,
      outSize: k.shape[1]!,
      kernel: Float32Array.from(k.dataSync() as Float32Array),
      bias: Float32Array.from(m.biases[i]!.dataSync() as Float32Array),
    })),
  };
}

export function assignTfMlp(m: TfMlp, w: MlpWeights): void {
  w.layers.forEach((l, i) => {
    tf.tidy(() => {
      m.kernels[i]!.assign(tf.tensor2d(l.kernel, [l.inSize, l.outSize]));
      m.biases[i]!.assign(tf.tensor1d(l.bias));
    });
  });
}

export function disposeTfMlp(m: TfMlp): void {
  tf.dispose([...m.kernels, ...m.biases]);
}
