// One episode of one environment under a frozen copy of the actor, in plain JS: what a rollout
// worker does between two weight updates. Features come from encodeObservation and actions go
// through decodeAction, exactly as in serving; the trainer never builds features itself.
import { heuristicAction } from '../../operator/policy/heuristic.ts';
import { ACTION_SIZE, OBSERVATION_SIZE, decodeAction, encodeObservation } from '../../operator/policy/features.ts';
import type { PolicyEnv } from '../env.ts';
import { writeActionMask } from './action-mask.ts';
import { normalSampler, sampleGaussian } from './gaussian.ts';
import type { MlpWeights } from './mlp-weights.ts';
import { actorMeanJs } from './region-rows.ts';
import { prng } from '../../operator/base/random.ts';

/** The actor as workers hold it. */
export interface ActorSnapshot {
  /** The per-row network. */
  mean: MlpWeights;
  /** Per entry of the raw action (ACTION_SIZE). */
  logStd: Float32Array;
}

/** Which episode to run: chosen by the learner from the run's seed, so any worker gives the same result. */
export interface EpisodeTask {
  /** Position in the iteration's batch. */
  index: number;
  variant: number;
  envSeed: number;
  actionSeed: number;
  maxSteps: number;
}

export interface Trajectory {
  index: number;
  variant: number;
  length: number;
  /** length × OBSERVATION_SIZE encoded observations. */
  observations: Float32Array;
  /** The observation after the last step (for the bootstrap value when the episode is cut). */
  finalObservation: Float32Array;
  /** length × ACTION_SIZE sampled raw actions. */
  actions: Float32Array;
  regionCounts: Uint8Array;
  /** Log-probability of each action under the snapshot that sampled it. */
  logProbs: Float32Array;
  rewards: Float32Array;
  /** The environment said done (rather than the step cap cutting the episode). */
  done: boolean;
  sloViolationSec: number;
  crossRegionCost: number;
  churn: number;
}

/** Runs `task` on `env`. Deterministic in (env, snapshot, task). Throws what the env throws. */
export function runEpisode(env: PolicyEnv, actor: ActorSnapshot, task: EpisodeTask): Trajectory {
  const cap = task.maxSteps;
  const observations = new Float32Array(cap * OBSERVATION_SIZE);
  const actions = new Float32Array(cap * ACTION_SIZE);
  const regionCounts = new Uint8Array(cap);
  const logProbs = new Float32Array(cap);
  const rewards = new Float32Array(cap);
  const mask = new Float32Array(ACTION_SIZE);
  const mean = new Float32Array(ACTION_SIZE);
  const raw = new Float32Array(ACTION_SIZE);
  const normal = normalSampler(prng(task.actionSeed));
  let observation = env.reset(task.envSeed);
  let length = 0, done = false, slo = 0, cost = 0, churn = 0;
  while (length < cap && !done) {
    // The heuristic's action, which the encoding shows and the action is a residual on: once per step.
    const base = heuristicAction(observation).action;
    const obs = encodeObservation(observation, observations, length * OBSERVATION_SIZE, base).subarray(
      length * OBSERVATION_SIZE,
      (length + 1) * OBSERVATION_SIZE,
    );
    actorMeanJs(actor.mean, obs, mean);
    writeActionMask(observation.regions.length, mask);
    logProbs[length] = sampleGaussian(mean, actor.logStd, mask, normal, raw);
    actions.set(raw, length * ACTION_SIZE);
    regionCounts[length] = observation.regions.length;
    const result = env.step(decodeAction(raw, observation, base));
    rewards[length] = result.reward;
    slo += result.metrics.sloViolationSec;
    cost += result.metrics.crossRegionCost;
    churn += result.metrics.churn;
    done = result.done;
    observation = result.observation;
    length++;
  }
  return {
    index: task.index,
    variant: task.variant,
    length,
    observations: observations.slice(0, length * OBSERVATION_SIZE),
    finalObservation: encodeObservation(observation),
    actions: actions.slice(0, length * ACTION_SIZE),
    regionCounts: regionCounts.slice(0, length),
    logProbs: logProbs.slice(0, length),
    rewards: rewards.slice(0, length),
    done,
    sloViolationSec: slo,
    crossRegionCost: cost,
    churn,
  };
}

/** The buffers of a trajectory, to transfer rather than copy between threads. */
export function trajectoryBuffers(t: Trajectory): ArrayBuffer[] {
  return [t.observations, t.finalObservation, t.actions, t.regionCounts, t.logProbs, t.rewards].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
