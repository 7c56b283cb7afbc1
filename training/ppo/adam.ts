// Adam with global-norm gradient clipping over a fixed list of variables. Written out rather
// than taken from tf.train.adam because its whole state (step count and moments) must round-trip
// through a checkpoint bit for bit: tfjs's Adam rebuilds its β-powers with pow() on restore,
// which differs in the last bits from the running product, and keys its moments by variable
// order under global names.
import * as tf from '@tensorflow/tfjs';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Gradients are scaled down together when their global L2 norm exceeds this (Infinity: never). */
  maxGradNorm: number;
}

export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly variables: tf.Variable[];
  readonly options: AdamOptions;
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(variables: tf.Variable[], options: AdamOptions) {
    this.variables = variables;
    this.options = options;
    this.m = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  get step(): number {
    return this.t;
  }

  /**
   * One update with learning rate `lr` from `grads` (same order as the variables; not
   * disposed here). Returns the global gradient norm before clipping.
   */
  apply(grads: tf.Tensor[], lr: number): number {
    if (grads.length !== this.variables.length) throw new RangeError(`Adam: ${grads.length} gradients for ${this.variables.length} variables`);
    const { beta1, beta2, epsilon, maxGradNorm } = this.options;
    this.t++;
    // Bias correction folded into the step size, computed in float64 from the step count.
    const stepSize = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
    const scale = Number.isFinite(maxGradNorm) && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;
    tf.tidy(() => {
      grads.forEach((g0, i) => {
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        this.variables[i]!.assign(tf.sub(this.variables[i]!, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), stepSize)));
      });
    });
    return norm;
  }

  state(): AdamState {
    return {
      step: this.t,
      m: this.m.map((x) => Float32Array.from(x.dataSync() as Float32Array)),
      v: this.v.map((x) => Float32Array.from(x.dataSync() as Float32Array)),
    };
  }

  /** Restores a state taken from an Adam over variables of the same shapes. */
  load(state: AdamState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new RangeError(`Adam state: ${state.m.length} moments for ${this.m.length} variables`);
    }
    this.t = state.step;
    tf.tidy(() => {
      this.m.forEach((x, i) => x.assign(tf.tensor(state.m[i]!, x.shape)));
      this.v.forEach((x, i) => x.assign(tf.tensor(state.v[i]!, x.shape)));
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
