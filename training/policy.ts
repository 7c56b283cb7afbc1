// What evaluation runs: a policy reads the serving observation of one route and returns an
// action, keeping whatever memory it needs in a per-episode state it creates itself. The
// baselines are policies; the learned model plugs in the same way (state unused).
import type { IntBounds, PolicyAction, RouteObservation } from '../operator/policy/features.ts';

/** What the AdaptiveRoute spec says about the route: what serving knows besides telemetry. */
export interface RouteView {
  /** "namespace/name" (simulated routes are "sim/<scenario>"). */
  key: string;
  /** In the spec's order, which is the observation's order. */
  destinations: { region: string; weight: number; priority: number }[];
  objectives: { latencyP99Ms: number; maxErrorRate: number; crossRegionCostWeight: number };
  retryBounds: IntBounds;
  perTryBoundsMs: IntBounds;
  timeoutBoundsMs: IntBounds;
  decisionIntervalMs: number;
  /** The serving guard's settings (spec.policy.maxWeightStep, minWeight). */
  guard: { maxWeightStep: number; minWeight: number };
  /** spec.failover.enabled: without it, traffic never leaves the primary priority group. */
  failoverEnabled: boolean;
}

/**
 * A policy under evaluation. `start` is called once per episode and must not share mutable
 * state between episodes; `decide` is called once per decision interval with that state.
 * A policy that infers faster in batches (a model) may also offer `decideBatch`: evaluation
 * then runs its seeds in lockstep and asks once per interval for all of them.
 */
export interface EvalPolicy<S = unknown> {
  readonly name: string;
  start(route: RouteView): S;
  decide(observation: RouteObservation, state: S): PolicyAction | Promise<PolicyAction>;
  decideBatch?(observations: RouteObservation[], states: S[]): PolicyAction[] | Promise<PolicyAction[]>;
  /**
   * Runs behind the operator's safety guard, as it is served (the learned model); baselines
   * run bare, as their users run them.
   */
  readonly guarded?: boolean;
}

/** A policy that decides synchronously, from the observation alone (the baselines). */
export interface Baseline<S = unknown> extends EvalPolicy<S> {
  decide(observation: RouteObservation, state: S): PolicyAction;
}
