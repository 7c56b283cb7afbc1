// The environment interface the trainer and the evaluation drive: one route in a simulated
// multi-region mesh, observed and acted on through the serving contract (operator/policy/
// features.ts), so that what is learned here is what the operator will see and do.
import type { PolicyAction, RouteObservation } from '../operator/policy/features.ts';

/** What one decision interval cost, for rewards and evaluation tables. */
export interface StepMetrics {
  /** Simulated time at the end of the step, ms since the scenario start. */
  timeMs: number;
  /** Seconds of this step during which the route broke its SLO (p99 above objective or errors above budget). */
  sloViolationSec: number;
  /** Route p99 over the step, ms (as clients saw it, retries included). */
  p99Ms: number;
  /** Fraction of client requests that failed after retries. */
  errorRate: number;
  /** Cross-region cost of the step (share of requests served cross-region × cost per request). */
  crossRegionCost: number;
  /** Total absolute weight change of the step, in percentage points / 2 (0..100). */
  churn: number;
  /** Weights in force during the step, percent per region, in observation order. */
  weights: number[];
}

export interface StepResult {
  observation: RouteObservation;
  reward: number;
  done: boolean;
  metrics: StepMetrics;
}

export interface PolicyEnv {
  /** Starts an episode from a seed; same seed, same episode. */
  reset(seed: number): RouteObservation;
  /** Applies `action` for one decision interval. */
  step(action: PolicyAction): StepResult;
}
