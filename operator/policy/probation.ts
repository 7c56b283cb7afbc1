// Probation for regions that failed their health check: the minimum-weight floor exists so
// that a recovered region is probed, but a region that keeps failing (a crash loop, a flaky
// dependency) must not be force-fed traffic every time it looks healthy for a moment. After a
// failing spell a region is on probation for a number of decisions that doubles with every
// new spell (as Envoy's outlier ejection backs off), and is forgiven after staying healthy for
// several probation periods. On probation the floor does not apply; the policy may still send
// traffic there, within the step bound, if it wants to.

/** One region's record, persisted in the guard state. */
export interface ProbationEntry {
  region: string;
  /** The floor applies again from this decision step on. */
  untilStep: number;
  /** The probation length of the last spell, in decisions. */
  backoff: number;
  /** It was failing at the last decision. */
  failing: boolean;
}

export const PROBATION_BASE_DECISIONS = 6;
export const PROBATION_MAX_DECISIONS = 96;
/** Healthy for this many probation periods after the last one ends: the record is dropped. */
const FORGIVE_PERIODS = 4;

/** The records after decision `step`, given which regions fail now. Pure. */
export function nextProbation(before: readonly ProbationEntry[] | undefined, regions: readonly string[], failing: readonly boolean[], step: number): ProbationEntry[] {
  const byRegion = new Map((before ?? []).map((e) => [e.region, e]));
  const out: ProbationEntry[] = [];
  regions.forEach((region, i) => {
    const e = byRegion.get(region);
    if (failing[i]) {
      const backoff = !e ? PROBATION_BASE_DECISIONS : e.failing ? e.backoff : Math.min(e.backoff * 2, PROBATION_MAX_DECISIONS);
      out.push({ region, untilStep: step + backoff, backoff, failing: true });
    } else if (e && step < e.untilStep + FORGIVE_PERIODS * e.backoff) {
      out.push({ ...e, failing: false });
    }
  });
  return out;
}

/** Whether each region is on probation at decision `step`. */
export function onProbation(entries: readonly ProbationEntry[], regions: readonly string[], step: number): boolean[] {
  const byRegion = new Map(entries.map((e) => [e.region, e]));
  return regions.map((r) => {
    const e = byRegion.get(r);
    return e !== undefined && step < e.untilStep;
  });
}

/**
 * Which regions probation holds back now. It protects a route that works from a region that
 * may relapse. With every region failing (`healthyExists` false), holding each at its share
 * would keep the traffic concentrated where it is; and while no region carrying traffic
 * serves well (`servingWell` false: failed over to far regions whose round trip alone breaks
 * the objective), trying a region back costs nothing the route is not paying already. In both
 * cases probation gives way.
 */
export function probationHolds(probation: readonly boolean[], healthyExists: boolean, servingWell: boolean): boolean[] {
  return healthyExists && servingWell ? [...probation] : probation.map(() => false);
}

/** Whether each region failed recently enough that probation still keeps its record. */
export function recentlyFailed(entries: readonly ProbationEntry[], regions: readonly string[]): boolean[] {
  const failed = new Set(entries.map((e) => e.region));
  return regions.map((r) => failed.has(r));
}
