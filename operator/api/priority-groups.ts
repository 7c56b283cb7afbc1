// The spec's priority groups: destinations are grouped by `priority`; the lowest priority that
// carries weight (the primary group) serves, and the others wait for failover in priority
// order. The static intent, the guard's static mode, the xDS clusters and the simulator all
// read the spec's groups through here.

/** What this needs of a destination (the spec's, the guard's or the simulator's view of it). */
export interface WeightedDestination {
  weight: number;
  priority: number;
}

/** The primary group's priority: the lowest among destinations with a positive weight; undefined when none has weight. */
export function primaryPriority(destinations: readonly WeightedDestination[]): number | undefined {
  let best: number | undefined;
  for (const d of destinations) {
    if (d.weight > 0 && (best === undefined || d.priority < best)) best = d.priority;
  }
  return best;
}

/** Each destination's spec weight if it is in the primary group, else 0, in spec order; all zeros when none has weight. */
export function primaryGroupWeights(destinations: readonly WeightedDestination[]): number[] {
  const primary = primaryPriority(destinations);
  return destinations.map((d) => (d.priority === primary ? d.weight : 0));
}

/** `destinations` in failover order: lower priority first, then spec order. */
export function failoverOrder<D extends { priority: number }>(destinations: readonly D[]): D[] {
  return destinations
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.priority - b.d.priority || a.i - b.i)
    .map(({ d }) => d);
}
