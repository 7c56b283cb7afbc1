// Which regions may take traffic at a decision: failing ones (health, or measured errors, unless
// draining them would cascade an overload), remote ones when failover is off, and the priority
// groups open to traffic (serving-group.ts); and which of the allowed ones the floor holds.
import { othersCanTake, OVERLOADED } from './capacity.ts';
import type { GuardSpec } from './guard-spec.ts';
import { groupView, priorities, type GroupView } from './serving-group.ts';
import type { RouteObservation } from './observation.ts';

/**
 * A region whose fresh telemetry shows at least this share of failed requests is failing,
 * whatever its health check says yet: health checks lag (the detection delay), while the
 * errors are measured now. Outlier detection reasons the same way.
 */
export const FAILING_ERROR_RATE = 0.25;

export interface Eligibility {
  allowed: boolean[];
  /** Kept at the floor: allowed, not failing, not on probation, in the serving group, and not too slow by itself. */
  floored: boolean[];
  failing: boolean[];
  ineligible: boolean[];
  healthyExists: boolean;
  groups: GroupView;
}

/**
 * Failing: its health check fails, or its fresh error rate is FAILING_ERROR_RATE or more
 * (health checks lag; the errors are measured now). A region erring because it is past its
 * capacity is failing too when the others have the headroom to take its load at once; when
 * they do not, draining it would move the overload onto them and they would fail next (a
 * cascade), so it stays and the capacity rule takes load off it step by step instead.
 */
export function failingRegions(o: RouteObservation, served: readonly number[]): boolean[] {
  const erring = o.regions.map((r) => r.fresh && (r.errorRate ?? 0) >= FAILING_ERROR_RATE);
  const broken = o.regions.map((r, i) => r.healthy === false || (erring[i]! && !(r.saturation !== null && r.saturation >= OVERLOADED)));
  const usable = broken.map((b) => !b);
  // Only a region carrying traffic is held: one without any is no place to send traffic to.
  return o.regions.map((_, i) => broken[i]! || (erring[i]! && ((served[i] ?? 0) <= 0 || othersCanTake(o, served, usable, i, served[i]!))));
}

export function eligibility(o: RouteObservation, spec: Pick<GuardSpec, 'failoverEnabled' | 'destinations'>, failing: readonly boolean[], probation: readonly boolean[]): Eligibility {
  const anyHome = o.regions.some((r) => !r.remote);
  const ineligible = o.regions.map((r) => r.remote && !spec.failoverEnabled && anyHome);
  const healthyExists = o.regions.some((_, i) => !ineligible[i] && !failing[i]);
  const allowed = o.regions.map((_, i) => !ineligible[i] && (!failing[i] || !healthyExists));
  const groups = groupView(o, priorities(o, spec.destinations), allowed, failing);
  const floored = allowed.map((a, i) => a && !failing[i] && !probation[i] && groups.priority[i] === groups.serving && !groups.tooSlow[i]);
  return { allowed, floored, failing: [...failing], ineligible, healthyExists, groups };
}
