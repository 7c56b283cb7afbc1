// What a policy reads and what it proposes, as plain values: the situation of one route
// (built by observe.ts from telemetry, and by the simulator the same way) and a decoded
// action. Its own file so that the heuristic, the guard and the model contract (features.ts) can
// all speak of them without importing one another.

/** What the policy knows of one region. Absent measurements are null, never 0. */
export interface RegionObservation {
  region: string;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
  /** Fraction of failed requests, 0..1. */
  errorRate: number | null;
  /** Requests per second served by the region. */
  requestRate: number | null;
  /** 0..1 (above 1: queueing). */
  saturation: number | null;
  /** Share of the route's traffic the region has now, in percent. */
  weightPercent: number;
  /** null: no health verdict. */
  healthy: boolean | null;
  /** Sending traffic here crosses regions (the region is not one of the route's priority-0 home regions). */
  remote: boolean;
  /** Its telemetry is fresh. */
  fresh: boolean;
  requestRateTrend: number | null;
  latencyP99Trend: number | null;
}

export interface IntBounds {
  min: number;
  max: number;
}

/** What the policy knows of one route. */
export interface RouteObservation {
  /** 1..MAX_REGIONS (features.ts) regions, in the spec's order. */
  regions: RegionObservation[];
  objectives: { latencyP99Ms: number; maxErrorRate: number; crossRegionCostWeight: number };
  retryAttempts: number;
  retryBounds: IntBounds;
  perTryTimeoutMs: number;
  perTryBoundsMs: IntBounds;
}

/** A decoded action: what the route should do next, before the safety guard. */
export interface PolicyAction {
  /** Fractions per region of the observation (same order), summing to 1. */
  weights: number[];
  retryAttempts: number;
  perTryTimeoutMs: number;
}
