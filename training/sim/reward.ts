// The reward of one decision interval, in "SLO seconds": what the route lost, so that the
// return of an episode reads like the evaluation table it will be judged by.
//
//   reward = −( sloViolationSec                                  seconds the p99 or error SLO was broken
//             + error      × errorRate × intervalSec             failed requests after retries
//             + pressure   × sloPressureSec                      running close to the SLO (dense, see below)
//             + cost       × crossRegionCostWeight × crossRegionCost × intervalSec
//             + churn      × churn )                             percentage points of weight moved
//
// Why these terms and weights:
// - SLO-violation seconds are what evaluation counts, so they carry weight 1 and dominate: a
//   policy can never buy a lower cost or a calmer weight vector with SLO seconds (at the
//   defaults, sending every request cross-region at crossRegionCostWeight 1 costs 0.25 s per
//   second, moving all traffic at once 1 s), so "no worse than the baselines on SLO seconds"
//   is what maximising the return asks for first.
// - The error term separates "just over budget" from "everything fails": both are violation
//   seconds, and without it a policy would see no gradient between them.
// - SLO pressure (the share of requests above the objective relative to the 1 % the p99 allows,
//   capped at 1 per second) is small and dense: it turns red before the SLO breaks, which is what
//   lets a policy learn to act ahead of a violation instead of only after one.
// - The cost term uses the route's own crossRegionCostWeight, as the operator's objective does.
// - The churn term is small: it only breaks ties in favour of steady weights.
import type { StepMetrics } from '../env.ts';

export interface RewardWeights {
  error: number;
  pressure: number;
  cost: number;
  churn: number;
}

export const DEFAULT_REWARD_WEIGHTS: Readonly<RewardWeights> = Object.freeze({ error: 2, pressure: 0.25, cost: 0.25, churn: 0.01 });

export interface RewardInput {
  metrics: StepMetrics;
  intervalSec: number;
  sloPressureSec: number;
  crossRegionCostWeight: number;
}

/** The reward of one step (≤ 0). Pure. */
export function reward(input: RewardInput, w: RewardWeights = DEFAULT_REWARD_WEIGHTS): number {
  const m = input.metrics;
  return -(
    m.sloViolationSec +
    w.error * m.errorRate * input.intervalSec +
    w.pressure * input.sloPressureSec +
    w.cost * input.crossRegionCostWeight * m.crossRegionCost * input.intervalSec +
    w.churn * m.churn
  );
}
