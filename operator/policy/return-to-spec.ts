// When the route has been comfortably within its objectives for a while, the spec's weights
// are where it goes back to. A policy moves weight away from a region to protect the SLO; once
// every region is well within its objectives again, nothing in the reward says the move should
// be undone, so a learned policy (or the heuristic) may leave a recovered region at the floor
// for good. The spec's weights are the user's declared intent (capacity plans, locality,
// residency): a route that sets spec.policy.returnToSpecAfter is steered back towards them
// after that many calm decisions in a row, by the same bounded steps as any move. It is
// opt-in: holding the spec's weights whenever calm takes away the margin a learned policy
// keeps ahead of trouble (on the scenario suite the shipped model then loses SLO seconds on
// brownouts), which is a trade only the route's owner can make. A move back that hurts ends
// the calm (the region leaves its headroom or fills up), so the policy and, if the SLO
// breaks, rollback take over again; and the next return waits twice as long (calmNeeded).
import type { RouteObservation } from './observation.ts';

/**
 * A return step after which the calm ended (the region could not take the traffic back, e.g.
 * it is still short of capacity) doubles the calm needed before the next return, up to this
 * many times returnToSpecAfter: the same backoff as probation, so a region that is only
 * healthy while idle is not refilled every few decisions.
 */
export const MAX_CALM_BACKOFF = 16;
/** Calm means every region's p99 and error rate are within this share of their objectives. */
export const CALM_HEADROOM = 0.8;
/**
 * ... and its saturation, where measured, at most this: queueing delay grows steeply near
 * capacity, so a return that fills a region stops while the region still has room.
 */
export const CALM_SATURATION = 0.75;

/**
 * Whether `o` shows a calm route: fresh telemetry everywhere, no region failing or more
 * than CALM_SATURATION saturated, and every region carrying traffic measured with its p99
 * and error rate within CALM_HEADROOM of the objectives. A region with no latency data while
 * it carries traffic is not known to be calm; one without traffic is calm unless measured out
 * of the headroom (`judgeIdle`, off for the evidence rule: an idle far region is no reason to
 * move). `headroom` and `saturation` tighten or loosen those shares (the guard's evidence rule
 * asks for more room). Pure.
 */
export function isCalm(o: RouteObservation, failing: readonly boolean[], headroom = CALM_HEADROOM, saturation = CALM_SATURATION, judgeIdle = true): boolean {
  const { latencyP99Ms, maxErrorRate } = o.objectives;
  return o.regions.every((r, i) => {
    if (!r.fresh || failing[i]) return false;
    if (r.saturation !== null && r.saturation > saturation) return false;
    // A region without traffic is calm unless it is measured and out of its headroom: a return
    // to the spec must not refill a region whose readings still show it bad.
    if (r.weightPercent <= 0 && (!judgeIdle || (r.latencyP99Ms === null && r.errorRate === null))) return true;
    if (r.weightPercent <= 0) return (r.latencyP99Ms === null || r.latencyP99Ms <= headroom * latencyP99Ms) && (r.errorRate === null || r.errorRate <= headroom * maxErrorRate);
    if (r.latencyP99Ms === null || r.latencyP99Ms > headroom * latencyP99Ms) return false;
    return r.errorRate === null || r.errorRate <= headroom * maxErrorRate;
  });
}

/**
 * Calm decisions needed before the next return: doubled (to MAX_CALM_BACKOFF times `after`)
 * when the previous decision was a return step and the route is no longer calm, back to
 * `after` once the spec's weights are reached. Pure.
 */
export function calmNeeded(after: number, previous: number | undefined, wasReturning: boolean, calmNow: boolean, atHome: boolean): number {
  const needed = previous ?? after;
  if (atHome) return after;
  if (wasReturning && !calmNow) return Math.min(MAX_CALM_BACKOFF * after, needed * 2);
  return needed;
}
