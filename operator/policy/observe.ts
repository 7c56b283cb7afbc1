// From what telemetry delivers (a RouteSnapshot) and what the route serves now to what the
// policy reads (a RouteObservation): regions in the spec's order; in a live region each value
// is what is known of now (a reading past staleAfter, or an idle region's error rate and
// latency, is null: unknown), in a stale region the last known one (fail-static keeps the
// weights then); never-seen data is null, never 0; bounds and objectives from the spec.
import { parseDuration } from '../base/duration.ts';
import { ConfigError } from '../base/errors.ts';
import type { AdaptiveRoute, RegionWeight } from '../api/types.ts';
import type { Reading, RegionSnapshot, RouteSnapshot } from '../telemetry/types.ts';
import type { RegionObservation, RouteObservation } from './observation.ts';
import { namespacedKey } from '../base/object-key.ts';

/** What the route serves now: the weights in force (percent) and the retry settings. */
export interface CurrentIntent {
  weights: RegionWeight[];
  retryAttempts: number;
  perTryTimeoutMs: number;
}

function absentRegion(region: string, weightPercent: number, remote: boolean): RegionObservation {
  return {
    region,
    latencyP50Ms: null,
    latencyP90Ms: null,
    latencyP99Ms: null,
    errorRate: null,
    requestRate: null,
    saturation: null,
    weightPercent,
    healthy: null,
    remote,
    fresh: false,
    requestRateTrend: null,
    latencyP99Trend: null,
  };
}

/**
 * A reading as the present: in a live region a value that is no longer fresh says nothing about
 * now (a drained region keeps its last error rate for ever otherwise, and is never given
 * traffic back), so it is unknown; a stale region keeps its last values, which only fail-static
 * reads.
 */
const present = (r: Reading, regionFresh: boolean) => (!regionFresh || r.fresh ? r.value : null);

function fromSnapshot(s: RegionSnapshot, weightPercent: number, remote: boolean): RegionObservation {
  const now = (r: Reading) => present(r, s.fresh);
  const requestRate = now(s.signals.requestRate);
  // No requests, no error rate and no latency: what the region measured while it had traffic
  // is history (it was drained for a reason), not its condition now.
  const idle = s.fresh && requestRate === 0;
  const served = (r: Reading) => (idle ? null : now(r));
  return {
    region: s.region,
    latencyP50Ms: served(s.signals.latencyP50),
    latencyP90Ms: served(s.signals.latencyP90),
    latencyP99Ms: served(s.signals.latencyP99),
    errorRate: served(s.signals.errorRate),
    requestRate,
    saturation: now(s.signals.saturation),
    weightPercent,
    healthy: s.health.healthy,
    remote,
    fresh: s.fresh,
    requestRateTrend: idle ? null : s.trends.requestRate,
    latencyP99Trend: idle ? null : s.trends.latencyP99,
  };
}

/**
 * The observation of `route` (validated and defaulted) given its telemetry `snapshot`
 * (undefined: none yet, every region stale with no values) and the `current` intent. A
 * region is remote when its destination priority is above 0 (priority-0 regions are the
 * route's home). Regions the snapshot lacks are absent (null values, not fresh); snapshot
 * regions the spec does not list are ignored. Pure. Throws ConfigError naming the field when
 * a spec duration does not parse or the snapshot belongs to another route.
 */
export function observationFromSnapshot(route: AdaptiveRoute, snapshot: RouteSnapshot | undefined, current: CurrentIntent): RouteObservation {
  const { spec, metadata } = route;
  const key = namespacedKey(metadata);
  if (snapshot && snapshot.route !== key) {
    throw new ConfigError(`snapshot route: "${snapshot.route}" is not the route being decided ("${key}")`);
  }
  const byRegion = new Map<string, RegionSnapshot>();
  for (const r of snapshot?.regions ?? []) byRegion.set(r.region, r);
  const weightOf = new Map(current.weights.map((w) => [w.region, w.weight]));
  const regions = spec.destinations.map((d) => {
    const weight = weightOf.get(d.region) ?? 0;
    const s = byRegion.get(d.region);
    return s ? fromSnapshot(s, weight, d.priority > 0) : absentRegion(d.region, weight, d.priority > 0);
  });
  return {
    regions,
    objectives: {
      latencyP99Ms: parseDuration(spec.objectives.latencyP99, 'spec.objectives.latencyP99'),
      maxErrorRate: spec.objectives.maxErrorRate,
      crossRegionCostWeight: spec.objectives.crossRegionCostWeight,
    },
    retryAttempts: current.retryAttempts,
    retryBounds: { min: spec.retries.attempts.min, max: spec.retries.attempts.max },
    perTryTimeoutMs: current.perTryTimeoutMs,
    perTryBoundsMs: {
      min: parseDuration(spec.retries.perTryTimeout.min, 'spec.retries.perTryTimeout.min'),
      max: parseDuration(spec.retries.perTryTimeout.max, 'spec.retries.perTryTimeout.max'),
    },
  };
}
