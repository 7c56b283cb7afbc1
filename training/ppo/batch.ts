// One iteration's experience laid out flat for the learner: trajectories concatenated, their
// values from the critic, advantages and λ-returns by GAE per episode, action masks per row.
import { ACTION_SIZE, OBSERVATION_SIZE } from '../../operator/policy/features.ts';
import { writeActionMask } from './action-mask.ts';
import type { Trajectory } from './episode.ts';
import { computeGae } from './gae.ts';

export interface Batch {
  size: number;
  observations: Float32Array;
  actions: Float32Array;
  masks: Float32Array;
  logProbs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

export interface BatchOptions {
  gamma: number;
  lambda: number;
  rewardScale: number;
  doneIsTimeLimit: boolean;
  normalizeAdvantages: boolean;
}

/** `valuesOf(observations, count)` is the critic over `count` observations laid end to end. */
export function buildBatch(
  trajectories: Trajectory[],
  valuesOf: (observations: Float32Array, count: number) => Float32Array,
  o: BatchOptions,
): Batch {
  const size = trajectories.reduce((n, t) => n + t.length, 0);
  const observations = new Float32Array(size * OBSERVATION_SIZE);
  const actions = new Float32Array(size * ACTION_SIZE);
  const masks = new Float32Array(size * ACTION_SIZE);
  const logProbs = new Float32Array(size);
  const rewards = new Float32Array(size);
  // One critic pass over every row plus each episode's final observation.
  const finals = new Float32Array(trajectories.length * OBSERVATION_SIZE);
  let row = 0;
  trajectories.forEach((t, k) => {
    observations.set(t.observations, row * OBSERVATION_SIZE);
    actions.set(t.actions, row * ACTION_SIZE);
    logProbs.set(t.logProbs, row);
    for (let i = 0; i < t.length; i++) {
      writeActionMask(t.regionCounts[i]!, masks, (row + i) * ACTION_SIZE);
      rewards[row + i] = t.rewards[i]! * o.rewardScale;
    }
    finals.set(t.finalObservation, k * OBSERVATION_SIZE);
    row += t.length;
  });
  const values = valuesOf(observations, size);
  const finalValues = valuesOf(finals, trajectories.length);
  const advantages = new Float32Array(size);
  const returns = new Float32Array(size);
  row = 0;
  trajectories.forEach((t, k) => {
    const terminal = t.done && !o.doneIsTimeLimit;
    const gae = computeGae(
      rewards.subarray(row, row + t.length),
      values.subarray(row, row + t.length),
      terminal ? 0 : finalValues[k]!,
      o.gamma,
      o.lambda,
    );
    advantages.set(gae.advantages, row);
    returns.set(gae.returns, row);
    row += t.length;
  });
  if (o.normalizeAdvantages && size > 1) normalizeInPlace(advantages);
  return { size, observations, actions, masks, logProbs, values, advantages, returns };
}

function normalizeInPlace(x: Float32Array): void {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / x.length) + 1e-8;
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - mean) / std;
}
