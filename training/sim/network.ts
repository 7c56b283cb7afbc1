// The scenario's network as matrices per (home h, region r) at h * n + r: the round trip
// between regions and the cost of sending a request across, the scenario's defaults where no
// link names the pair; zero within a region.
import type { ScenarioSpec } from './scenario-schema.ts';

export function networkMatrices(s: ScenarioSpec, regionIndex: ReadonlyMap<string, number>): { rtt: Float64Array; cost: Float64Array } {
  const n = s.regions.length;
  const rtt = new Float64Array(n * n);
  const cost = new Float64Array(n * n);
  for (let h = 0; h < n; h++) {
    for (let r = 0; r < n; r++) {
      if (h === r) continue;
      rtt[h * n + r] = s.network.defaultRttMs;
      cost[h * n + r] = s.network.defaultCost;
    }
  }
  for (const l of s.network.links) {
    const a = regionIndex.get(l.between[0])!, b = regionIndex.get(l.between[1])!;
    rtt[a * n + b] = rtt[b * n + a] = l.rttMs;
    cost[a * n + b] = cost[b * n + a] = l.cost;
  }
  return { rtt, cost };
}
