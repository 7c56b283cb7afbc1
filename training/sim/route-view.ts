// What policies know of a route besides telemetry: its AdaptiveRoute spec, compactly.
import { parseDuration } from '../../operator/base/duration.ts';
import { primaryGroupWeights } from '../../operator/api/priority-groups.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import type { RouteView } from '../policy.ts';
import { namespacedKey } from '../../operator/base/object-key.ts';

/** The view of a validated, defaulted route. Throws ConfigError for a duration that does not parse. */
export function routeViewOf(route: AdaptiveRoute): RouteView {
  const { spec, metadata } = route;
  return {
    key: namespacedKey(metadata),
    destinations: spec.destinations.map((d) => ({ region: d.region, weight: d.weight, priority: d.priority })),
    objectives: {
      latencyP99Ms: parseDuration(spec.objectives.latencyP99),
      maxErrorRate: spec.objectives.maxErrorRate,
      crossRegionCostWeight: spec.objectives.crossRegionCostWeight,
    },
    retryBounds: { ...spec.retries.attempts },
    perTryBoundsMs: { min: parseDuration(spec.retries.perTryTimeout.min), max: parseDuration(spec.retries.perTryTimeout.max) },
    timeoutBoundsMs: { min: parseDuration(spec.timeout.min), max: parseDuration(spec.timeout.max) },
    decisionIntervalMs: parseDuration(spec.policy.decisionInterval),
    guard: { maxWeightStep: spec.policy.maxWeightStep, minWeight: spec.policy.minWeight },
    failoverEnabled: spec.failover.enabled,
  };
}

/** The spec's weights as fractions over the primary (lowest weighted) priority group, as serving's static intent has them. */
export function specWeights(route: RouteView): number[] {
  const raw = primaryGroupWeights(route.destinations);
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

/**
 * Retries as serving's static intent (intentFromSpec) sets them: the most attempts the spec
 * allows, and a per-try timeout giving each try an equal share of the longest request
 * timeout, clamped into the per-try bounds.
 */
export function specRetries(route: RouteView): { retryAttempts: number; perTryTimeoutMs: number } {
  const attempts = route.retryBounds.max;
  const share = Math.floor(route.timeoutBoundsMs.max / (attempts + 1));
  const perTry = Math.min(route.perTryBoundsMs.max, Math.max(route.perTryBoundsMs.min, share));
  return { retryAttempts: attempts, perTryTimeoutMs: perTry };
}
