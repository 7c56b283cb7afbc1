// Failover by priority group, as spec.failover declares it: the route is served by its
// lowest-priority group that has a region not failing (the serving group), and a group of a
// higher priority number is opened to traffic only while the groups before it cannot meet the
// objectives. The floor that keeps recovering regions probed applies inside the serving group
// only: a failover region held at minWeight in a calm mesh pays cross-region cost for
// nothing, and one whose round trip alone breaks the latency objective breaks the SLO every
// second with those few percent.
import { EVIDENCE_HEADROOM, EVIDENCE_SATURATION, rising } from './evidence.ts';
import { errorAfterRetries } from './retry-budget.ts';
import type { RegionObservation, RouteObservation } from './observation.ts';

export interface GroupView {
  /** Each region's priority, in the observation's order (from the spec's destinations). */
  priority: number[];
  /** The serving group's priority. */
  serving: number;
  /** Whether each region's group may take traffic. */
  open: boolean[];
  /** Whether each region's measured latency alone breaks the objective (not load: it is not saturated). */
  tooSlow: boolean[];
  /** Priorities of the groups opened because those before them cannot meet the objectives. */
  openedFor: number[];
}

const past = (v: number | null, limit: number) => v !== null && v > limit;

/** A region whose p99 is over the objective while it is not near capacity: its latency (a far round trip, a slow service) breaks the objective whatever load it gets. */
export function tooSlow(r: RegionObservation, objectiveP99Ms: number): boolean {
  return r.fresh && past(r.latencyP99Ms, objectiveP99Ms) && !past(r.saturation, EVIDENCE_SATURATION);
}

/**
 * Whether the regions `inGroup` cannot be relied on to meet the objectives: none of them is
 * usable and measured within the objective, or one carrying traffic is past the evidence
 * headroom of an objective, saturated, or rising towards trouble.
 */
function inTrouble(o: RouteObservation, inGroup: readonly boolean[], usable: readonly boolean[]): boolean {
  const { latencyP99Ms, maxErrorRate } = o.objectives;
  const members = o.regions.filter((_, i) => inGroup[i]);
  const anyGood = o.regions.some((r, i) => inGroup[i] && usable[i] && r.latencyP99Ms !== null && r.latencyP99Ms <= latencyP99Ms);
  if (!anyGood) return true;
  const strained = members.some(
    (r) =>
      r.weightPercent > 0 &&
      (!r.fresh ||
        past(r.latencyP99Ms, EVIDENCE_HEADROOM * latencyP99Ms) ||
        past(r.errorRate === null ? null : errorAfterRetries(r.errorRate, o.retryAttempts), EVIDENCE_HEADROOM * maxErrorRate) ||
        past(r.saturation, EVIDENCE_SATURATION)),
  );
  return strained || rising({ ...o, regions: members });
}

/**
 * The groups of `o` given each region's `priority`, which regions are `allowed` (eligible) and
 * which are `failing`. Pure.
 */
export function groupView(o: RouteObservation, priority: readonly number[], allowed: readonly boolean[], failing: readonly boolean[]): GroupView {
  const slow = o.regions.map((r) => tooSlow(r, o.objectives.latencyP99Ms));
  const usable = allowed.map((a, i) => a && !failing[i]);
  const candidates = priority.filter((_, i) => usable[i]);
  const levels = [...new Set(priority.filter((_, i) => allowed[i]))].sort((a, b) => a - b);
  const serving = candidates.length > 0 ? Math.min(...candidates) : (levels[0] ?? 0);
  const openLevels = new Set<number>();
  const openedFor: number[] = [];
  for (const level of levels) {
    if (level <= serving) {
      openLevels.add(level);
      continue;
    }
    const before = priority.map((p) => p < level);
    if (!inTrouble(o, before, usable)) break;
    openLevels.add(level);
    openedFor.push(level);
  }
  return { priority: [...priority], serving, open: priority.map((p) => openLevels.has(p)), tooSlow: slow, openedFor };
}

/** Each region's priority in the observation's order, from the spec's destinations (absent: 0). */
export function priorities(o: RouteObservation, destinations: readonly { region: string; priority: number }[]): number[] {
  const byRegion = new Map(destinations.map((d) => [d.region, d.priority]));
  return o.regions.map((r) => byRegion.get(r.region) ?? 0);
}
