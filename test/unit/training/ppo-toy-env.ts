// A small environment whose best policy is known, for the trainer's tests: 2 or 3 regions of
// random capacity c_i (drawn per episode), latency 20 ms · (1 + 4·(w_i/c_i)²), so the route's
// weighted latency is lowest with weights proportional to capacity. Retries only cost, so the
// best retry count is the minimum. The observation shows each region's latency and saturation
// under the weights in force, which is enough to infer the capacities after one step.
import { prng } from '../../../operator/base/random.ts';
import type { PolicyAction, RouteObservation } from '../../../operator/policy/features.ts';
import type { PolicyEnv, StepResult } from '../../../training/env.ts';
import type { EnvVariant } from '../../../training/ppo/env-source.ts';

export const TOY_SLO_MS = 60;
const BASE_MS = 20;
const INTERVAL_SEC = 10;

export interface ToyOptions {
  steps?: number;
  /** Region counts of the variants (default 2 and 3). */
  regions?: number[];
}

export class ToyEnv implements PolicyEnv {
  readonly regions: number;
  readonly steps: number;
  capacities: number[] = [];
  private weights: number[] = [];
  private retries = 0;
  private t = 0;

  constructor(regions: number, steps = 8) {
    this.regions = regions;
    this.steps = steps;
  }

  reset(seed: number): RouteObservation {
    const random = prng(seed);
    this.capacities = Array.from({ length: this.regions }, () => 0.2 + 1.3 * random());
    this.weights = Array.from({ length: this.regions }, () => 1 / this.regions);
    this.retries = 1;
    this.t = 0;
    return this.observe();
  }

  /** Route latency (ms) under `weights`. */
  latency(weights: number[]): number {
    return weights.reduce((sum, w, i) => sum + w * BASE_MS * (1 + 4 * (w / this.capacities[i]!) ** 2), 0);
  }

  /** Weights proportional to capacity: the optimum. */
  bestWeights(): number[] {
    const total = this.capacities.reduce((a, b) => a + b, 0);
    return this.capacities.map((c) => c / total);
  }

  step(action: PolicyAction): StepResult {
    this.weights = action.weights.slice();
    this.retries = action.retryAttempts;
    this.t++;
    const p99 = this.latency(this.weights);
    const reward = -p99 / TOY_SLO_MS - 0.1 * this.retries;
    return {
      observation: this.observe(),
      reward,
      done: this.t >= this.steps,
      metrics: {
        timeMs: this.t * INTERVAL_SEC * 1000,
        sloViolationSec: p99 > TOY_SLO_MS ? INTERVAL_SEC : 0,
        p99Ms: p99,
        errorRate: 0,
        crossRegionCost: 0,
        churn: 0,
        weights: this.weights.map((w) => w * 100),
      },
    };
  }

  private observe(): RouteObservation {
    return {
      regions: this.weights.map((w, i) => {
        const latency = BASE_MS * (1 + 4 * (w / this.capacities[i]!) ** 2);
        return {
          region: `r${i}`,
          latencyP50Ms: latency / 2,
          latencyP90Ms: latency * 0.8,
          latencyP99Ms: latency,
          errorRate: 0,
          requestRate: 1000 * w,
          saturation: w / this.capacities[i]!,
          weightPercent: w * 100,
          healthy: true,
          remote: i > 0,
          fresh: true,
          requestRateTrend: null,
          latencyP99Trend: null,
        };
      }),
      objectives: { latencyP99Ms: TOY_SLO_MS, maxErrorRate: 0.01, crossRegionCostWeight: 0 },
      retryAttempts: this.retries,
      retryBounds: { min: 0, max: 4 },
      perTryTimeoutMs: 500,
      perTryBoundsMs: { min: 100, max: 1000 },
    };
  }
}

/** The EnvFactory the trainer's workers import: by default a two-region and a three-region variant. */
export function createToyEnvs(options: ToyOptions = {}): EnvVariant[] {
  return (options.regions ?? [2, 3]).map((n) => ({ name: `toy-${n}`, env: new ToyEnv(n, options.steps) }));
}
