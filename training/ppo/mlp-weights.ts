// The plain-array form of a tanh MLP: what workers receive each iteration, what checkpoints
// and saved models hold, and what the plain-JS forward pass reads. Kernels are row-major
// [in, out], as tfjs dense layers store them.

export interface DenseWeights {
  inSize: number;
  outSize: number;
  /** in × out, row-major. */
  kernel: Float32Array;
  bias: Float32Array;
}

/** Hidden layers use tanh; the last layer is linear. */
export interface MlpWeights {
  layers: DenseWeights[];
}

/** Layer sizes from input to output, e.g. [122, 64, 64, 10]. */
export function mlpSizes(w: MlpWeights): number[] {
  return w.layers.length === 0 ? [] : [w.layers[0]!.inSize, ...w.layers.map((l) => l.outSize)];
}

/**
 * Initial weights drawn from `normal`: scaled-normal kernels (std gain/sqrt(fanIn)), zero
 * biases, and a small last layer (`outputGain`) so a new policy starts near the zero action and
 * a new critic near zero value.
 */
export function initMlpWeights(sizes: number[], normal: () => number, outputGain: number): MlpWeights {
  const layers: DenseWeights[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inSize = sizes[l]!, outSize = sizes[l + 1]!;
    const last = l + 2 === sizes.length;
    const std = (last ? outputGain : 1) / Math.sqrt(inSize);
    const kernel = new Float32Array(inSize * outSize);
    for (let i = 0; i < kernel.length; i++) kernel[i] = normal() * std;
    layers.push({ inSize, outSize, kernel, bias: new Float32Array(outSize) });
  }
  return { layers };
}

export function cloneMlpWeights(w: MlpWeights): MlpWeights {
  return { layers: w.layers.map((l) => ({ ...l, kernel: l.kernel.slice(), bias: l.bias.slice() })) };
}

/** The forward pass without tensors, for one input (rollout workers act one step at a time). */
export function mlpForward(w: MlpWeights, input: ArrayLike<number>, out: Float64Array): Float64Array {
  let x: ArrayLike<number> = input;
  w.layers.forEach((layer, l) => {
    const last = l + 1 === w.layers.length;
    const h = last ? out : new Float64Array(layer.outSize);
    const { kernel, bias, inSize, outSize } = layer;
    for (let j = 0; j < outSize; j++) h[j] = bias[j]!;
    for (let i = 0; i < inSize; i++) {
      const xi = x[i]!;
      if (xi === 0) continue; // absent region slots are all zeros
      const row = i * outSize;
      for (let j = 0; j < outSize; j++) h[j] = h[j]! + xi * kernel[row + j]!;
    }
    if (!last) for (let j = 0; j < outSize; j++) h[j] = Math.tanh(h[j]!);
    x = h;
  });
  return out;
}
