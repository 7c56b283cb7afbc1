// Priority failover as data planes do it, shared by the baselines that fail over: traffic stays
// on the lowest priority group that still has an available region, split by the spec's weights
// (evenly when that group has none), and falls back to the spec's weights when nothing is
// available (Envoy's panic mode: sending somewhere beats sending nowhere). With
// spec.failover.enabled false only the primary group is ever considered.
import type { RouteView } from '../policy.ts';
import { specWeights } from '../sim/route-view.ts';

/**
 * Weights (fractions, destination order) over the first priority group with an available
 * region, each available region getting `score(i)` × its spec weight (or × 1 when its group
 * has no spec weight). Pure.
 */
export function failoverWeights(route: RouteView, available: readonly boolean[], score: (i: number) => number = () => 1): number[] {
  const all = [...new Set(route.destinations.map((d) => d.priority))].sort((a, b) => a - b);
  // With failover disabled the data plane knows only the primary group (the lowest weighted one).
  const primary = Math.min(...route.destinations.filter((d) => d.weight > 0).map((d) => d.priority));
  const priorities = route.failoverEnabled ? all : [primary];
  for (const p of priorities) {
    const members = route.destinations.map((d, i) => (d.priority === p && available[i] ? i : -1)).filter((i) => i >= 0);
    if (members.length === 0) continue;
    const anyWeight = members.some((i) => route.destinations[i]!.weight > 0);
    const raw = route.destinations.map((d, i) => (members.includes(i) ? (anyWeight ? d.weight : 1) * score(i) : 0));
    const sum = raw.reduce((a, b) => a + b, 0);
    if (sum > 0) return raw.map((w) => w / sum);
  }
  return specWeights(route);
}
