// Capacity: a move never puts more load on a region than its observed headroom takes. A
// region's saturation is its load over its capacity, so the share it can carry at
// CAPACITY_TARGET is its measured share × CAPACITY_TARGET / saturation; a proposal above that
// (a guess that piles 75-98% onto one region) is cut to it, and a region whose p99 climbs
// towards the objective gets no more than it has, and so does one on probation (probation.ts).
// A region that failed recently and has no
// measurement since (it was drained) gets at most a trickle, minWeight, until it shows how it
// does: recovery is observed before it is trusted. Only adding load is capped: the policy may
// always take load away.
import { RISING_FROM, RISING_TREND } from './evidence.ts';
import type { RouteObservation } from './observation.ts';

/** The saturation a move may fill a region to: queueing delay grows steeply beyond it. */
export const CAPACITY_TARGET = 0.85;
/** At this saturation a region is past its capacity: load is taken off it, not only refused. */
export const OVERLOADED = 1;
/** Below this saturation the measurement is too small to extrapolate a capacity from. */
const MEASURABLE_SATURATION = 0.02;

export interface CapacityCaps {
  /** Per region, the most percent it may carry after this decision (never below what it carries). */
  cap: number[];
  /** Why each capped region is capped, in words (empty when it is not). */
  why: string[];
}

/** What probation knows of each region: on probation now, or failed recently (a record is kept). */
export interface Recovery {
  onProbation: readonly boolean[];
  recovering: readonly boolean[];
}

/**
 * Per region, the share (percent) it can carry at CAPACITY_TARGET, from its measured share of
 * the load and its saturation (Infinity where that cannot be measured), and the share it
 * carries. `base`: the weights served now, standing in for the load when rates are unknown.
 */
export function capacityShares(o: RouteObservation, base: readonly number[]): { limit: number[]; share: number[] } {
  const rates = o.regions.map((r) => r.requestRate);
  const total = rates.reduce<number>((a, r) => a + (r ?? 0), 0);
  const measuredShares = rates.every((r) => r !== null) && total > 0;
  const share = o.regions.map((_, i) => (measuredShares ? (100 * rates[i]!) / total : (base[i] ?? 0)));
  const limit = o.regions.map((r, i) => (r.saturation !== null && r.saturation >= MEASURABLE_SATURATION && share[i]! > 0 ? (share[i]! * CAPACITY_TARGET) / r.saturation : Infinity));
  return { limit, share };
}

/**
 * Whether the regions other than `from` have the headroom to take `load` percent: what a
 * region failing by its overload may be drained onto at once without overloading the rest.
 */
export function othersCanTake(o: RouteObservation, base: readonly number[], usable: readonly boolean[], from: number, load: number): boolean {
  const { limit, share } = capacityShares(o, base);
  let room = 0;
  for (let i = 0; i < limit.length; i++) if (i !== from && usable[i]) room += Math.max(0, limit[i]! - share[i]!);
  return room >= load;
}

/**
 * Caps per region for `o`, given the weights served now (`base`, percent), what probation
 * knows (a region on probation gets no more than it has) and the floor `minWeight`. Pure.
 */
export function capacityCaps(o: RouteObservation, base: readonly number[], recovery: Recovery, minWeight: number): CapacityCaps {
  const shares = capacityShares(o, base);
  const cap: number[] = [];
  const why: string[] = [];
  o.regions.forEach((r, i) => {
    const now = base[i] ?? 0;
    const share = shares.share[i]!;
    let limit = shares.limit[i]!;
    let reason = '';
    if (Number.isFinite(limit)) reason = `${Math.round(100 * r.saturation!)}% saturated at ${Math.round(share)}% of the load`;
    const climbing = r.latencyP99Trend !== null && r.latencyP99Trend >= RISING_TREND && r.latencyP99Ms !== null && r.latencyP99Ms >= RISING_FROM * o.objectives.latencyP99Ms;
    if (climbing && now > 0 && now < limit) {
      limit = now;
      reason = 'its p99 is climbing';
    }
    const unmeasured = r.latencyP99Ms === null && r.errorRate === null;
    if (recovery.onProbation[i] && now < limit) {
      limit = now;
      reason = 'on probation';
    } else if (recovery.recovering[i] && unmeasured && minWeight < limit) {
      limit = minWeight;
      reason = 'failed recently and not measured since: a trickle first';
    }
    // Past capacity, the region sheds load itself (errors, queueing): take load off it, down
    // to what it can carry (by bounded steps), rather than only refusing it more.
    const overloaded = r.saturation !== null && r.saturation >= OVERLOADED && Number.isFinite(limit) && limit < now;
    const c = overloaded ? limit : Math.max(now, limit);
    if (overloaded) reason = `overloaded: ${reason}`;
    cap.push(c);
    why.push(limit < 100 && c < 100 ? reason : '');
  });
  return { cap, why };
}
