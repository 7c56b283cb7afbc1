// The bridge between the decision log and the estimators of ope.ts: replayed steps become
// samples (observation, action, logged log-propensity, outcome reward), policies become
// targets with a log density over the same raw action encoding serving logs its propensities
// in (operator/policy/policy.ts actionLogDensity), and (observation, action) pairs become the
// reward model's features.
import { actionLogDensity } from '../../operator/policy/policy.ts';
import type { LoadedModel } from '../../operator/policy/model/loaded-model.ts';
import { ACTION_SIZE, MAX_REGIONS, OBSERVATION_SIZE, decodeAction, encodeAction, encodeObservation, type PolicyAction, type RouteObservation } from '../../operator/policy/features.ts';
import type { ReplayResult } from '../sim/replay.ts';
import type { OpeSample, TargetPolicy } from './ope.ts';
import { outcomeReward } from './ope-reward.ts';

export type RouteSample = OpeSample<RouteObservation, PolicyAction>;
export type RouteTarget = TargetPolicy<RouteObservation, PolicyAction>;

/** Why logged steps could not be used, with counts. */
export interface SkippedSteps {
  /** The outcome record is missing (a gap in the log). */
  noOutcome: number;
  /** Shadow mode or a guard hold: the outcome is not the consequence of the logged action. */
  notApplied: number;
  /** No (or zero) action probability recorded. */
  noPropensity: number;
  /** Decided by the heuristic or the spec: deterministic, so its "probability" 1 is a point mass, not a density to divide by. */
  deterministic: number;
}

/**
 * The usable samples of a replayed log, in route then time order, and why the rest were left
 * out. Rewards are outcomeReward of each step's outcome. Pure.
 */
export function samplesFromReplay(replay: ReplayResult): { samples: RouteSample[]; skipped: SkippedSteps } {
  const skipped: SkippedSteps = { noOutcome: 0, notApplied: 0, noPropensity: 0, deterministic: 0 };
  const samples: RouteSample[] = [];
  for (const steps of replay.routes.values()) {
    for (const s of steps) {
      if (s.outcome === null) skipped.noOutcome++;
      else if (!s.applied) skipped.notApplied++;
      else if (s.policy !== 'model') skipped.deterministic++;
      else if (s.actionProbability === null || !(s.actionProbability > 0)) skipped.noPropensity++;
      else samples.push({ x: s.observation, a: s.action, logPropensity: Math.log(s.actionProbability), reward: outcomeReward(s.outcome) });
    }
  }
  return { samples, skipped };
}

/**
 * Reward-model features of (observation, action): the encoded observation, the action's
 * weights padded to MAX_REGIONS, its retry and per-try positions within their bounds, and two
 * interactions a linear model cannot form itself: the traffic-weighted p99 and error rate
 * relative to the objectives under the action's weights.
 */
export function routeFeatures(o: RouteObservation, a: PolicyAction): number[] {
  const f = Array.from(encodeObservation(o));
  for (let i = 0; i < MAX_REGIONS; i++) f.push(a.weights[i] ?? 0);
  const position = (v: number, b: { min: number; max: number }) => (b.max > b.min ? (v - b.min) / (b.max - b.min) : 0);
  f.push(position(a.retryAttempts, o.retryBounds), position(a.perTryTimeoutMs, o.perTryBoundsMs));
  let latency = 0, errors = 0;
  o.regions.forEach((r, i) => {
    latency += (a.weights[i] ?? 0) * ((r.latencyP99Ms ?? o.objectives.latencyP99Ms) / o.objectives.latencyP99Ms);
    errors += (a.weights[i] ?? 0) * ((r.errorRate ?? 0) / Math.max(o.objectives.maxErrorRate, 1e-4));
  });
  f.push(Math.min(latency, 16), Math.min(errors, 16));
  return f;
}

function gaussian(random: () => number): number {
  const u = 1 - random(), v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A Gaussian policy over the raw action encoding, given its mean per observation. */
function gaussianTarget(name: string, meanOf: (o: RouteObservation) => ArrayLike<number>, std: readonly number[]): RouteTarget {
  if (std.length !== ACTION_SIZE || std.some((s) => !(s > 0))) throw new RangeError(`${name}: action std needs ${ACTION_SIZE} positive entries`);
  return {
    name,
    logDensity: (o, a) => actionLogDensity(a, meanOf(o), std, o),
    sample: (o, random) => {
      const mean = meanOf(o);
      return decodeAction(Array.from({ length: ACTION_SIZE }, (_, i) => mean[i]! + std[i]! * gaussian(random)), o);
    },
  };
}

/**
 * `model` as a target: N(model mean, metadata.actionStd) over the raw action encoding, as
 * serving logs it. The means of `observations` are computed in one forward pass; others on
 * demand, one by one. The caller keeps ownership of the model.
 */
export function modelTarget(model: LoadedModel, observations: readonly RouteObservation[] = []): RouteTarget {
  const means = new Map<RouteObservation, Float32Array>();
  if (observations.length > 0) {
    const batch = new Float32Array(observations.length * OBSERVATION_SIZE);
    observations.forEach((o, k) => encodeObservation(o, batch, k * OBSERVATION_SIZE));
    const out = model.predict(batch, observations.length);
    observations.forEach((o, k) => means.set(o, out.slice(k * ACTION_SIZE, (k + 1) * ACTION_SIZE)));
  }
  const meanOf = (o: RouteObservation) => {
    let m = means.get(o);
    if (!m) means.set(o, (m = model.predict(encodeObservation(o), 1)));
    return m;
  };
  return gaussianTarget(`model ${model.metadata.version}`, meanOf, model.metadata.actionStd);
}

/**
 * A deterministic policy (a heuristic) as a target: a Gaussian kernel of `bandwidth` (one
 * value for every entry, or ACTION_SIZE values) around the raw encoding of its action. A
 * deterministic policy has no density; the bandwidth is the user's choice of how close a
 * logged action must be to count as "what it would have done".
 */
export function kernelTarget(name: string, decide: (o: RouteObservation) => PolicyAction, bandwidth: number | readonly number[]): RouteTarget {
  const std = typeof bandwidth === 'number' ? new Array<number>(ACTION_SIZE).fill(bandwidth) : bandwidth;
  const means = new Map<RouteObservation, Float32Array>();
  const meanOf = (o: RouteObservation) => {
    let m = means.get(o);
    if (!m) means.set(o, (m = encodeAction(decide(o), o)));
    return m;
  };
  return gaussianTarget(name, meanOf, std);
}
