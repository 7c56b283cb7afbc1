// What the scenario fixes about each region for a whole episode, as arrays the simulator's
// inner loops index: capacity, service time, base errors, its clients and their daily phase,
// and the concurrency that follows from them.
import type { ScenarioSpec } from './scenario-schema.ts';

export interface RegionProfiles {
  capacity: Float64Array;
  median: Float64Array;
  sigma: Float64Array;
  baseError: Float64Array;
  clients: Float64Array;
  loadPhase: Float64Array;
  /** Each home's share of all clients: how a recorded total load is spread. */
  clientShare: Float64Array;
  servers: Float64Array;
}

export function regionProfiles(s: ScenarioSpec): RegionProfiles {
  const clients = s.regions.reduce((sum, r) => sum + r.clientRps, 0);
  return {
    capacity: Float64Array.from(s.regions, (r) => r.capacityRps),
    median: Float64Array.from(s.regions, (r) => r.medianLatencyMs),
    sigma: Float64Array.from(s.regions, (r) => r.latencySigma),
    baseError: Float64Array.from(s.regions, (r) => r.baseErrorRate),
    clients: Float64Array.from(s.regions, (r) => r.clientRps),
    loadPhase: Float64Array.from(s.regions, (r) => r.loadPhaseSec),
    clientShare: Float64Array.from(s.regions, (r) => r.clientRps / clients),
    // Concurrency follows from capacity and mean service time (Little's law at full load).
    servers: Float64Array.from(s.regions, (r) => Math.max(1, (r.capacityRps * r.medianLatencyMs * Math.exp((r.latencySigma * r.latencySigma) / 2)) / 1000)),
  };
}
