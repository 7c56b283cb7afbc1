// Whether a route meets its objectives right now, as far as its observation tells: the guard's
// rollback rule and the explanations read it. The route's p99 is the weight-weighted mean of
// the regions' p99s, the same estimate the observation spec encodes (weightedLatencyP99), so
// what the guard judges is what the model saw.
import type { RegionObservation, RouteObservation } from './observation.ts';
import { errorAfterRetries } from './retry-budget.ts';

export const SLO_STATES = ['met', 'breached', 'unknown'] as const;
export type SloState = (typeof SLO_STATES)[number];

export interface SloStatus {
  /** breached: a known value is over its objective; met: p99 known and within (errors within or unknown); else unknown. */
  state: SloState;
  p99Ms: number | null;
  errorRate: number | null;
  objectiveP99Ms: number;
  maxErrorRate: number;
}

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

/**
 * Whether region `r` alone breaks an objective of `o` as far as it is measured: its p99 over
 * the latency objective, or its requests failing over the budget after the retries in force
 * (telemetry counts tries). Unknown values break nothing. Pure.
 */
export function breaksObjective(r: RegionObservation, o: RouteObservation): boolean {
  return (r.latencyP99Ms !== null && r.latencyP99Ms > o.objectives.latencyP99Ms) || (r.errorRate !== null && errorAfterRetries(r.errorRate, o.retryAttempts) > o.objectives.maxErrorRate);
}

/** The route's SLO status from `o`. Pure; never throws. */
export function sloStatus(o: RouteObservation): SloStatus {
  let p99 = 0, p99Weight = 0, errors = 0, requests = 0, errWeighted = 0, errWeight = 0;
  for (const r of o.regions) {
    const w = Number.isFinite(r.weightPercent) ? Math.max(0, r.weightPercent) : 0;
    if (w > 0 && finite(r.latencyP99Ms)) {
      p99 += r.latencyP99Ms * w;
      p99Weight += w;
    }
    if (finite(r.errorRate)) {
      if (finite(r.requestRate) && r.requestRate > 0) {
        errors += r.errorRate * r.requestRate;
        requests += r.requestRate;
      }
      if (w > 0) {
        errWeighted += r.errorRate * w;
        errWeight += w;
      }
    }
  }
  const p99Ms = p99Weight > 0 ? p99 / p99Weight : null;
  // Request-weighted when rates are known; weight-weighted otherwise (no traffic yet).
  const errorRate = requests > 0 ? errors / requests : errWeight > 0 ? errWeighted / errWeight : null;
  const { latencyP99Ms: objectiveP99Ms, maxErrorRate } = o.objectives;
  const over = (p99Ms !== null && p99Ms > objectiveP99Ms) || (errorRate !== null && errorRate > maxErrorRate);
  const state: SloState = over ? 'breached' : p99Ms !== null ? 'met' : 'unknown';
  return { state, p99Ms, errorRate, objectiveP99Ms, maxErrorRate };
}
