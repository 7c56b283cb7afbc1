// Evidence before moves: the guard follows a policy's proposal only when the telemetry gives a
// reason to change what is served. With every region fresh, well within its objectives, not
// saturated, not failing or on probation, and nothing rising fast towards trouble, a move is a
// guess, and a guess that puts 75-98% of a route on one region overloads it.
import type { RouteObservation } from './observation.ts';
import { isCalm } from './return-to-spec.ts';

/**
 * Evidence before moves: the policy is followed only when some region is failing, on
 * probation, past EVIDENCE_HEADROOM of an objective or EVIDENCE_SATURATION saturated, or
 * rising() towards that. Tuned on the named scenario suite (0.8 cost mixture-peak-brownout
 * 33% against istio; 0.6 never held the suite's busy regions); to be checked on held-out meshes.
 */
export const EVIDENCE_HEADROOM = 0.7;
export const EVIDENCE_SATURATION = 0.7;
/**
 * Trouble on its way, though every region is still within the headroom: a region carrying
 * traffic whose p99 climbs RISING_TREND over a window while already past RISING_FROM of the
 * objective, or whose load climbs as fast while it is past RISING_FROM saturated. A policy may
 * move ahead of such trouble; that is evidence too.
 */
export const RISING_TREND = 0.25;
export const RISING_FROM = 0.5;
export function rising(o: RouteObservation): boolean {
  return o.regions.some(
    (r) =>
      r.weightPercent > 0 &&
      ((r.latencyP99Trend !== null && r.latencyP99Trend >= RISING_TREND && r.latencyP99Ms !== null && r.latencyP99Ms >= RISING_FROM * o.objectives.latencyP99Ms) ||
        (r.requestRateTrend !== null && r.requestRateTrend >= RISING_TREND && r.saturation !== null && r.saturation >= RISING_FROM)),
  );
}


/** Whether `o` gives a reason to move: the negation of "quiet" described above. Pure. */
export function evidenceToMove(o: RouteObservation, failing: readonly boolean[], probation: readonly boolean[]): boolean {
  return probation.some((p) => p) || !isCalm(o, failing, EVIDENCE_HEADROOM, EVIDENCE_SATURATION, false) || rising(o);
}
