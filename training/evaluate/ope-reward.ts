// The reward of a logged decision, from the observation one interval after it: training's
// reward (training/sim/reward.ts) rebuilt from what serving can observe, per second of
// interval so that decisions logged at different intervals compare.
//
// Approximations, because an observation has quantiles per region, not the route's latency
// distribution:
// - The share of the route's requests above the latency objective is the traffic-weighted sum
//   of each region's share above it, read off its p50/p90/p99 (tail shares 0.5/0.1/0.01)
//   with log-linear interpolation between them, extrapolated past p99 with the p90→p99 slope.
// - The interval counts as SLO-violating (1 s per s) when that share exceeds the 1 % a p99
//   allows or the traffic-weighted error rate exceeds the budget; SLO pressure is the share
//   over the objective relative to 1 %, capped at 1, as in training.
// - Traffic shares are the regions' request rates when all are known, else their weights.
// - Regions without latency (or error) readings are left out of that term, the others renormalised.
// - Churn is a property of the action, not of the outcome, and is left out.
import type { RouteObservation, RegionObservation } from '../../operator/policy/features.ts';
import { DEFAULT_REWARD_WEIGHTS, type RewardWeights } from '../sim/reward.ts';

export type Objectives = RouteObservation['objectives'];

/** The share of a region's requests slower than `limitMs`, from its quantiles; null without them. */
export function shareAbove(r: RegionObservation, limitMs: number): number | null {
  const points: [number, number][] = [];
  if (r.latencyP50Ms !== null) points.push([r.latencyP50Ms, 0.5]);
  if (r.latencyP90Ms !== null) points.push([r.latencyP90Ms, 0.1]);
  if (r.latencyP99Ms !== null) points.push([r.latencyP99Ms, 0.01]);
  if (points.length === 0) return null;
  points.sort((a, b) => a[0] - b[0]);
  const first = points[0]!;
  // Below the lowest known quantile: rise linearly to "everything is slower" at 0 ms.
  if (limitMs <= first[0]) return first[0] > 0 ? first[1] + (1 - first[1]) * (1 - limitMs / first[0]) : first[1];
  const logLerp = (a: [number, number], b: [number, number]) => {
    if (b[0] === a[0]) return Math.log(b[1]);
    return Math.log(a[1]) + ((Math.log(b[1]) - Math.log(a[1])) * (limitMs - a[0])) / (b[0] - a[0]);
  };
  for (let i = 1; i < points.length; i++) if (limitMs <= points[i]![0]) return Math.exp(logLerp(points[i - 1]!, points[i]!));
  if (points.length === 1) return 0;
  const last = points[points.length - 1]!, before = points[points.length - 2]!;
  return Math.exp(logLerp(before, last));
}

function trafficShares(o: RouteObservation): number[] {
  const rates = o.regions.map((r) => r.requestRate);
  const total = rates.reduce<number>((s, x) => s + (x ?? 0), 0);
  if (rates.every((x) => x !== null) && total > 0) return rates.map((x) => x! / total);
  const weights = o.regions.reduce((s, r) => s + r.weightPercent, 0);
  return o.regions.map((r) => (weights > 0 ? r.weightPercent / weights : 1 / o.regions.length));
}

const weighted = (shares: number[], values: (number | null)[]) => {
  let s = 0, mass = 0;
  values.forEach((v, i) => {
    if (v === null) return;
    s += shares[i]! * v;
    mass += shares[i]!;
  });
  return mass > 0 ? s / mass : 0;
};

/**
 * The reward per second (≤ 0) of the interval `outcome` observed, against `objectives`
 * (by default the outcome's own). See the module comment for what is approximated. Pure.
 */
export function outcomeReward(outcome: RouteObservation, objectives: Objectives = outcome.objectives, w: RewardWeights = DEFAULT_REWARD_WEIGHTS): number {
  const shares = trafficShares(outcome);
  const slow = weighted(shares, outcome.regions.map((r) => shareAbove(r, objectives.latencyP99Ms)));
  const errorRate = weighted(shares, outcome.regions.map((r) => r.errorRate));
  const crossRegion = outcome.regions.reduce((s, r, i) => s + (r.remote ? shares[i]! : 0), 0);
  const violated = slow > 0.01 || errorRate > objectives.maxErrorRate ? 1 : 0;
  const pressure = Math.min(1, slow / 0.01);
  return -(violated + w.error * errorRate + w.pressure * pressure + w.cost * objectives.crossRegionCostWeight * crossRegion);
}
