// The static baseline: what a route without meshpilot serves. The spec's weights over the
// primary priority group, the most retries the spec allows and a per-try timeout that splits
// the longest request timeout evenly (serving's intentFromSpec); it never moves.
import type { PolicyAction } from '../../operator/policy/features.ts';
import type { Baseline, RouteView } from '../policy.ts';
import { specRetries, specWeights } from '../sim/route-view.ts';

export const staticPolicy: Baseline<PolicyAction> = {
  name: 'static',
  start(route: RouteView): PolicyAction {
    return { weights: specWeights(route), ...specRetries(route) };
  },
  decide(_observation, action): PolicyAction {
    return { ...action, weights: [...action.weights] };
  },
};
