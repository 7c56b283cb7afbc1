// The PPO pieces that can be checked by hand: GAE, the clipped objective's gradient, the
// Gaussian log-density (plain JS in workers, tensors in the learner), the action mask.
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { ACTION_SIZE, MAX_REGIONS } from '../../../operator/policy/features.ts';
import { actionMask } from '../../../training/ppo/action-mask.ts';
import { useTrainingBackend } from '../../../training/ppo/backend.ts';
import { computeGae } from '../../../training/ppo/gae.ts';
import { gaussianLogProb, normalSampler, sampleGaussian } from '../../../training/ppo/gaussian.ts';
import { clippedSurrogate, gaussianEntropyTf, gaussianLogProbTf, valueLoss } from '../../../training/ppo/policy-loss.ts';
import { prng } from '../../../operator/base/random.ts';

function expectClose(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 5));
}

beforeAll(async () => {
  await useTrainingBackend('wasm');
});

describe('computeGae', () => {
  const rewards = [1, 0, 2];
  const values = [0.5, 1.0, 1.5];

  it('matches a hand-computed example of an episode cut off (bootstrapped from the critic)', () => {
    // γ = 0.9, λ = 0.8, V(after) = 2: δ = [1.4, 0.35, 2.3]; A2 = 2.3, A1 = 0.35 + 0.72·2.3, A0 = 1.4 + 0.72·A1.
    const { advantages, returns } = computeGae(rewards, values, 2.0, 0.9, 0.8);
    expectClose(advantages, [2.84432, 2.006, 2.3]);
    expectClose(returns, [3.34432, 3.006, 3.8]);
  });

  it('does not bootstrap a terminated episode', () => {
    const { advantages } = computeGae(rewards, values, 0, 0.9, 0.8);
    expectClose(advantages, [1.9112, 0.71, 0.5]);
  });

  it('gives the discounted return minus the value when λ = 1, and the one-step TD error when λ = 0', () => {
    const mc = computeGae(rewards, values, 0, 0.9, 1);
    expectClose(mc.returns, [2.62, 1.8, 2]);
    const td = computeGae(rewards, values, 0, 0.9, 0);
    expectClose(td.advantages, [1.4, 0.35, 0.5]);
  });

  it('refuses values of another length', () => {
    expect(() => computeGae([1, 2], [1], 0, 0.9, 0.9)).toThrow(RangeError);
  });
});

describe('clippedSurrogate', () => {
  /** d loss / d logπ(a|s) for one sample whose ratio is `ratio` and advantage `advantage`. */
  function gradient(ratio: number, advantage: number): number {
    return tf.tidy(() => {
      const oldLogp = tf.tensor1d([0]);
      const adv = tf.tensor1d([advantage]);
      const g = tf.grad((logp: tf.Tensor) => clippedSurrogate(logp as tf.Tensor1D, oldLogp, adv, 0.2).loss);
      return g(tf.tensor1d([Math.log(ratio)])).dataSync()[0]!;
    });
  }

  it('pushes the probability of a better-than-expected action up until the ratio reaches 1 + ε', () => {
    expect(gradient(1, 1)).toBeLessThan(0);
    expect(gradient(1.1, 1)).toBeLessThan(0);
    expect(gradient(1.3, 1)).toBe(0);
  });

  it('pushes the probability of a worse-than-expected action down until the ratio reaches 1 − ε', () => {
    expect(gradient(1, -1)).toBeGreaterThan(0);
    expect(gradient(0.9, -1)).toBeGreaterThan(0);
    expect(gradient(0.7, -1)).toBe(0);
  });

  it('keeps pulling a ratio back that moved the wrong way past the clip', () => {
    expect(gradient(0.5, 1)).toBeLessThan(0);
    expect(gradient(1.5, -1)).toBeGreaterThan(0);
  });

  it('reports KL 0 and no clipping when nothing changed, and the clipped share otherwise', () => {
    tf.tidy(() => {
      const same = clippedSurrogate(tf.tensor1d([-1, -2]), tf.tensor1d([-1, -2]), tf.tensor1d([1, -1]), 0.2);
      expect(same.approxKl.dataSync()[0]).toBeCloseTo(0, 7);
      expect(same.clipFraction.dataSync()[0]).toBe(0);
      const moved = clippedSurrogate(tf.tensor1d([Math.log(1.5), 0]), tf.tensor1d([0, 0]), tf.tensor1d([1, 1]), 0.2);
      expect(moved.clipFraction.dataSync()[0]).toBe(0.5);
      expect(moved.approxKl.dataSync()[0]).toBeGreaterThan(0);
    });
  });
});

describe('valueLoss', () => {
  it('is half the squared error, and with clipping never lets the new value escape the clip for free', () => {
    tf.tidy(() => {
      const plain = valueLoss(tf.tensor1d([1, 3]), tf.tensor1d([0, 0]), tf.tensor1d([2, 2]), null);
      expect(plain.dataSync()[0]).toBeCloseTo(0.5, 6);
      // V moved from 0 to 3 with a clip of 1: the clipped value 1 is 1 away from R = 2, the new one 1 away: max = 1.
      const clipped = valueLoss(tf.tensor1d([3]), tf.tensor1d([0]), tf.tensor1d([2]), 1);
      expect(clipped.dataSync()[0]).toBeCloseTo(0.5, 6);
      const farther = valueLoss(tf.tensor1d([3]), tf.tensor1d([0]), tf.tensor1d([5]), 1);
      expect(farther.dataSync()[0]).toBeCloseTo(0.5 * 16, 5);
    });
  });
});

describe('the Gaussian policy', () => {
  it('computes the same log-density in the rollouts (plain JS) as in the learner (tensors)', () => {
    const normal = normalSampler(prng(5));
    const mean = Array.from({ length: ACTION_SIZE }, (_, i) => 0.1 * i - 0.3);
    const logStd = Array.from({ length: ACTION_SIZE }, (_, i) => -0.5 + 0.05 * i);
    const mask = actionMask(3);
    const action = new Float32Array(ACTION_SIZE);
    const sampled = sampleGaussian(mean, logStd, mask, normal, action);
    const js = gaussianLogProb(action, mean, logStd, mask);
    expect(sampled).toBeCloseTo(js, 4);
    const fromTensors = tf.tidy(() =>
      gaussianLogProbTf(tf.tensor2d(action, [1, ACTION_SIZE]), tf.tensor2d(mean, [1, ACTION_SIZE]), tf.tensor1d(logStd), tf.tensor2d(mask, [1, ACTION_SIZE])).dataSync()[0]!,
    );
    expect(fromTensors).toBeCloseTo(js, 4);
  });

  it('has the entropy of a diagonal Gaussian over the unmasked entries', () => {
    const logStd = new Float32Array(ACTION_SIZE).fill(0);
    const h = tf.tidy(() => gaussianEntropyTf(tf.tensor1d(logStd), tf.tensor2d(actionMask(2), [1, ACTION_SIZE])).dataSync()[0]!);
    expect(h).toBeCloseTo(4 * 0.5 * Math.log(2 * Math.PI * Math.E), 5);
  });

  it('masks the logits of absent regions, and the single logit of a one-region route', () => {
    const three = Array.from(actionMask(3));
    expect(three.slice(0, MAX_REGIONS)).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(three.slice(MAX_REGIONS)).toEqual([1, 1]);
    expect(Array.from(actionMask(1))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(actionMask(MAX_REGIONS)).every((x) => x === 1)).toBe(true);
  });

  it('draws standard normals', () => {
    const normal = normalSampler(prng(11));
    const xs = Array.from({ length: 20000 }, normal);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
