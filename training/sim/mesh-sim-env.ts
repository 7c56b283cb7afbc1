// One scenario as a PolicyEnv: the simulator underneath, the operator's view on top. Each step
// puts the action into force the way the data plane would (whole-percent weights, retries and
// per-try timeout within the spec's bounds), runs one decision interval, and observes the
// route through the same telemetry rules and the same snapshot → observation conversion that
// serving uses. Before the episode clock starts the route runs one telemetry window under the
// spec's intent, so the first observation has data, as a route that was already serving would.
import { ConfigError } from '../../operator/base/errors.ts';
import { hashString, prng } from '../../operator/base/random.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { guard } from '../../operator/policy/guard.ts';
import { guardSpecFrom, type GuardSpec } from '../../operator/policy/guard-spec.ts';
import type { GuardState } from '../../operator/policy/guard-state.ts';
import { observationFromSnapshot } from '../../operator/policy/observe.ts';
import type { PolicyAction, RouteObservation } from '../../operator/policy/features.ts';
import type { PolicyEnv, StepMetrics, StepResult } from '../env.ts';
import type { RouteView } from '../policy.ts';
import { GRID_SIZE, gridQuantile, normalSampler } from './math.ts';
import type { RouteInterval } from './interval-summary.ts';
import { MeshSim } from './mesh-sim.ts';
import { DEFAULT_REWARD_WEIGHTS, reward, type RewardWeights } from './reward.ts';
import { routeViewOf, specRetries, specWeights } from './route-view.ts';
import { adaptiveRouteOf } from './scenario-route.ts';
import type { ScenarioSpec } from './scenario-schema.ts';
import { TelemetryView, type TelemetryDelivery } from './telemetry-view.ts';
import { largestRemainder } from '../../operator/base/percent.ts';

export interface MeshSimEnvOptions {
  reward?: Partial<RewardWeights>;
  /**
   * 'serving': every action passes serving's safety guard (operator/policy/guard.ts, enforce
   * mode, the scenario's maxWeightStep and minWeight) before it takes effect, as it would in
   * the operator. 'none' (the default): the action takes effect as given.
   */
  guard?: 'none' | 'serving';
  /**
   * Called with what telemetry delivered at the end of every interval, the warm-up window's
   * included, before the route is observed: for tests that feed serving's window store the
   * same data (test/unit/policy/cross-path-golden.test.ts). Never for policies.
   */
  onTelemetry?: (delivery: TelemetryDelivery) => void;
}

/** Totals of the episode so far, for evaluation. */
export interface EpisodeTotals {
  steps: number;
  requests: number;
  failedRequests: number;
  sloViolationSec: number;
  /** Σ cross-region requests × link cost (divide by requests for the cost per request). */
  crossRegionCostSum: number;
  churn: number;
  /** Cumulative counts of client latency over the episode on the latency grid (sums to `requests`). */
  latencyCdf: Float64Array;
}

export class MeshSimEnv implements PolicyEnv {
  readonly scenario: ScenarioSpec;
  /** The AdaptiveRoute the scenario stands for (validated and defaulted). */
  readonly adaptiveRoute: AdaptiveRoute;
  readonly route: RouteView;
  readonly #sim: MeshSim;
  readonly #weights: RewardWeights;
  readonly #guardSpec: GuardSpec | undefined;
  readonly #onTelemetry: ((delivery: TelemetryDelivery) => void) | undefined;
  #guardState: GuardState | undefined;
  readonly #intervalMs: number;
  readonly #durationMs: number;
  #view!: TelemetryView;
  #percents: number[] = [];
  #fractions = new Float64Array(0);
  #retryAttempts = 0;
  #perTryTimeoutMs = 0;
  #observation: RouteObservation | null = null;
  #last: RouteInterval | null = null;
  #totals!: EpisodeTotals;
  #done = true;

  constructor(scenario: ScenarioSpec, options: MeshSimEnvOptions = {}) {
    this.scenario = scenario;
    this.adaptiveRoute = adaptiveRouteOf(scenario, 'file' in scenario && typeof scenario.file === 'string' ? scenario.file : scenario.name);
    this.route = routeViewOf(this.adaptiveRoute);
    this.#sim = new MeshSim(scenario);
    this.#weights = { ...DEFAULT_REWARD_WEIGHTS, ...options.reward };
    this.#guardSpec = options.guard === 'serving' ? guardSpecFrom(this.adaptiveRoute) : undefined;
    this.#onTelemetry = options.onTelemetry;
    this.#intervalMs = scenario.episode.decisionIntervalSec * 1000;
    this.#durationMs = scenario.episode.durationSec * 1000;
  }

  /** Steps in an episode. */
  get episodeSteps(): number {
    return Math.round(this.#durationMs / this.#intervalMs);
  }

  /** Simulated time, ms since the episode start. */
  get timeMs(): number {
    return this.#sim.nowMs;
  }

  /** The last interval in full (per-region ground truth included), valid until the next step: for tests and plots, never for policies. */
  get lastInterval(): RouteInterval | null {
    return this.#last;
  }

  get totals(): EpisodeTotals {
    return this.#totals;
  }

  /** Event start times of this episode after jitter, ms. */
  get eventStartsMs(): number[] {
    return this.#sim.eventStartsMs;
  }

  reset(seed: number): RouteObservation {
    const s = this.scenario;
    // The scenario's name is mixed in so that seed 1 of two scenarios are unrelated worlds.
    const mixed = (seed ^ hashString(s.name)) >>> 0;
    const windowMs = s.telemetry.windowSec * 1000;
    this.#sim.reset(mixed, -windowMs);
    this.#view = new TelemetryView({
      route: this.route.key,
      regions: s.regions.map((r) => r.name),
      slots: Math.round(windowMs / this.#intervalMs),
      intervalMs: this.#intervalMs,
      staleAfterMs: s.telemetry.staleAfterSec * 1000,
      noise: s.telemetry.noise,
      normal: normalSampler(prng(mixed ^ 0x9e3779b9)),
      healthChecks: s.telemetry.healthChecks,
      conditions: s.regions.map((r) => {
        const c = s.telemetry.regions.find((t) => t.region === r.name);
        return c && { delayIntervals: Math.round((c.delaySec * 1000) / this.#intervalMs), latencyBias: c.latencyBias, errorBias: c.errorBias, lossRate: c.lossRate };
      }),
      // Its own stream: losses do not shift the measurement noise of anything else.
      uniform: prng(mixed ^ 0x85ebca6b),
    });
    this.#percents = largestRemainder(specWeights(this.route));
    this.#fractions = Float64Array.from(this.#percents, (p) => p / 100);
    const spec = specRetries(this.route);
    this.#retryAttempts = spec.retryAttempts;
    this.#perTryTimeoutMs = spec.perTryTimeoutMs;
    while (this.#sim.nowMs < 0) this.#record(this.#run());
    this.#totals = { steps: 0, requests: 0, failedRequests: 0, sloViolationSec: 0, crossRegionCostSum: 0, churn: 0, latencyCdf: new Float64Array(GRID_SIZE) };
    this.#last = null;
    this.#guardState = undefined;
    this.#done = false;
    return (this.#observation = this.#observe());
  }

  step(action: PolicyAction): StepResult {
    if (this.#done || !this.#observation) throw new ConfigError('MeshSimEnv.step: the episode is over or was never started; call reset(seed)');
    const before = this.#percents;
    this.#apply(this.#guardSpec ? this.#guarded(action, this.#observation, this.#guardSpec) : action);
    let churn = 0;
    for (let i = 0; i < before.length; i++) churn += Math.abs(this.#percents[i]! - before[i]!);
    churn /= 2;
    const interval = this.#run();
    this.#record(interval);
    this.#last = interval;
    const t = this.#totals;
    t.steps++;
    t.requests += interval.requests;
    t.failedRequests += interval.failedRequests;
    t.sloViolationSec += interval.sloViolationSec;
    t.crossRegionCostSum += interval.crossRegionCostSum;
    t.churn += churn;
    for (let i = 0; i < GRID_SIZE; i++) t.latencyCdf[i]! += interval.latencyCdf[i]!;
    const metrics: StepMetrics = {
      timeMs: interval.endMs,
      sloViolationSec: interval.sloViolationSec,
      p99Ms: interval.p99Ms ?? 0,
      errorRate: interval.requests > 0 ? interval.failedRequests / interval.requests : 0,
      crossRegionCost: interval.requests > 0 ? interval.crossRegionCostSum / interval.requests : 0,
      churn,
      weights: [...this.#percents],
    };
    const r = reward(
      { metrics, intervalSec: this.#intervalMs / 1000, sloPressureSec: interval.sloPressureSec, crossRegionCostWeight: this.route.objectives.crossRegionCostWeight },
      this.#weights,
    );
    this.#done = this.#sim.nowMs >= this.#durationMs;
    this.#observation = this.#observe();
    return { observation: this.#observation, reward: r, done: this.#done, metrics };
  }

  /** Episode p99 over every client request so far, ms (null before any request). */
  episodeP99Ms(): number | null {
    return gridQuantile(this.#totals.latencyCdf, this.#totals.requests, 0.99);
  }

  #run(): RouteInterval {
    return this.#sim.runInterval(this.#intervalMs, { weights: this.#fractions, retryAttempts: this.#retryAttempts, perTryTimeoutMs: this.#perTryTimeoutMs });
  }

  /** Takes the interval into the telemetry view, and tells the onTelemetry listener what it delivered. */
  #record(interval: RouteInterval): void {
    this.#view.record(interval);
    if (this.#onTelemetry) this.#onTelemetry(this.#view.lastDelivery()!);
  }

  #current() {
    return {
      weights: this.route.destinations.map((d, i) => ({ region: d.region, weight: this.#percents[i]! })),
      retryAttempts: this.#retryAttempts,
      perTryTimeoutMs: this.#perTryTimeoutMs,
    };
  }

  /** Serving's observation of the route: its own snapshot → observation conversion. */
  #observe(): RouteObservation {
    return observationFromSnapshot(this.adaptiveRoute, this.#view.snapshot(this.#sim.nowMs), this.#current());
  }

  /** What serving's guard makes of `action`; a held decision keeps what is in force. */
  #guarded(action: PolicyAction, observation: RouteObservation, spec: GuardSpec): PolicyAction {
    this.#validate(action);
    const result = guard({ proposal: { action, by: 'policy' }, observation, current: this.#current(), spec, state: this.#guardState, nowMs: this.#sim.nowMs });
    this.#guardState = result.state;
    if (!result.applied) return { weights: this.#percents.map((p) => p / 100), retryAttempts: this.#retryAttempts, perTryTimeoutMs: this.#perTryTimeoutMs };
    return { weights: result.weights.map((w) => w.weight / 100), retryAttempts: result.retryAttempts, perTryTimeoutMs: result.perTryTimeoutMs };
  }

  /** Puts `a` into force as the data plane would: whole percents, settings clamped into the spec's bounds. */
  #apply(a: PolicyAction): void {
    this.#validate(a);
    this.#percents = largestRemainder(a.weights);
    this.#fractions = Float64Array.from(this.#percents, (p) => p / 100);
    const rb = this.route.retryBounds, tb = this.route.perTryBoundsMs;
    this.#retryAttempts = Math.min(rb.max, Math.max(rb.min, Math.round(a.retryAttempts)));
    this.#perTryTimeoutMs = Math.min(tb.max, Math.max(tb.min, Math.round(a.perTryTimeoutMs)));
  }

  /** Throws ConfigError naming the field for an action no data plane could take. */
  #validate(a: PolicyAction): void {
    const n = this.route.destinations.length;
    if (!Array.isArray(a.weights) || a.weights.length !== n) {
      throw new ConfigError(`action weights: ${Array.isArray(a.weights) ? a.weights.length : typeof a.weights} values for a route with ${n} regions`);
    }
    a.weights.forEach((w, i) => {
      if (!Number.isFinite(w) || w < 0) throw new ConfigError(`action weights[${i}]: ${w} is not a finite number >= 0`);
    });
    if (!(a.weights.reduce((x, y) => x + y, 0) > 0)) throw new ConfigError('action weights: all zero; at least one region must take traffic');
    for (const [field, v] of [['retryAttempts', a.retryAttempts], ['perTryTimeoutMs', a.perTryTimeoutMs]] as const) {
      if (!Number.isFinite(v)) throw new ConfigError(`action ${field}: ${v} is not a finite number`);
    }
  }
}
