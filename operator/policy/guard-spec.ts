// What the spec tells the guard: its bounds (step, floor, failover, decision interval, return
// to spec) and the spec's own weights, which static mode serves and the evidence and return
// rules steer back towards.
import { primaryGroupWeights } from '../api/priority-groups.ts';
import type { AdaptiveRoute, PolicyMode } from '../api/types.ts';
import { parseDuration } from '../base/duration.ts';
import { largestRemainder } from '../base/percent.ts';

/** The bounds the spec sets on the guard. */
export interface GuardSpec {
  mode: PolicyMode;
  /** Percentage points. */
  maxWeightStep: number;
  /** Percent. */
  minWeight: number;
  failoverEnabled: boolean;
  decisionIntervalMs: number;
  /** Calm decisions in a row after which the guard returns to the spec's weights; undefined: never. */
  returnAfterDecisions?: number;
  /** The spec's destinations (weights relative), for static mode. */
  destinations: { region: string; weight: number; priority: number }[];
}

/** The guard's bounds from a validated, defaulted route. Throws ConfigError for an unparsable decision interval. */
export function guardSpecFrom(route: AdaptiveRoute): GuardSpec {
  const { policy, failover, destinations } = route.spec;
  return {
    mode: policy.mode,
    maxWeightStep: policy.maxWeightStep,
    minWeight: policy.minWeight,
    failoverEnabled: failover.enabled,
    decisionIntervalMs: parseDuration(policy.decisionInterval),
    ...(policy.returnToSpecAfter ? { returnAfterDecisions: Math.max(1, Math.ceil(parseDuration(policy.returnToSpecAfter) / parseDuration(policy.decisionInterval))) } : {}),
    destinations: destinations.map((d) => ({ region: d.region, weight: d.weight, priority: d.priority })),
  };
}

/** The spec's weights as served by a static policy: percent over the primary (lowest weighted) priority group. */
export function staticWeights(spec: GuardSpec, regions: readonly string[]): number[] {
  const inPrimary = primaryGroupWeights(spec.destinations);
  const byRegion = new Map(spec.destinations.map((d, i) => [d.region, inPrimary[i]!]));
  const raw = regions.map((r) => byRegion.get(r) ?? 0);
  return raw.some((w) => w > 0) ? largestRemainder(raw) : largestRemainder(regions.map(() => 1));
}
