// meshpilot's own fallback (operator/policy/heuristic.ts) as an evaluation policy: what a
// route without a model gets from the operator. Not one of the baselines users run today;
// evaluation can add it to see what a model adds over the fallback.
import { heuristicAction } from '../../operator/policy/heuristic.ts';
import type { Baseline } from '../policy.ts';

export const heuristicPolicy: Baseline<null> = {
  name: 'heuristic',
  start: () => null,
  decide: (observation) => heuristicAction(observation).action,
};

export const GUARDED_HEURISTIC = 'heuristic-guarded';

/** The fallback as the operator serves it: behind the safety guard, like a model. */
export const guardedHeuristicPolicy: Baseline<null> = { ...heuristicPolicy, name: GUARDED_HEURISTIC, guarded: true };
