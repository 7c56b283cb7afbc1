// The policy as the reconciler calls it: many routes decided together. Per route: observe
// (snapshot → observation), propose (the route's model, in one batched forward pass per model;
// else the heuristic), guard, explain. A route whose model is missing, refused, or fails on its
// input falls back to the heuristic, and its Decision says so.
//
// actionProbability: for a model decision, the density of the action actually decided (after
// the guard) under the model's Gaussian policy N(mean, metadata.actionStd): the decided action
// is re-encoded with encodeAction, its weight logits shifted to the mean of the model's logits
// (a softmax ignores a common shift, so this is the raw action closest to the mean that
// decodes to the same weights), and the density is taken over the entries that matter for the
// route (its regions' logits; the retry and per-try entries when their bounds leave a choice).
// A density, not a probability: it can exceed 1; logActionProbability is its logarithm, which
// off-policy estimators should prefer (the density underflows when the guard moved far from
// the mean). For the heuristic and static mode, which are deterministic, it is 1.
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { toMeshpilotError } from '../base/errors.ts';
import type { AdaptiveRoute, PolicyMode, RegionWeight } from '../api/types.ts';
import type { RouteSnapshot } from '../telemetry/types.ts';
import { guard, type GuardResult, type Proposal } from './guard.ts';
import { GUARD_RULES, type GuardRule } from './guard-rules.ts';
import { guardSpecFrom, type GuardSpec } from './guard-spec.ts';
import type { GuardState } from './guard-state.ts';
import { heuristicAction, type HeuristicDecision } from './heuristic.ts';
import type { LoadedModel } from './model/loaded-model.ts';
import type { PolicyMetrics } from './metrics.ts';
import type { ModelLookup, ModelRegistry } from './model/registry.ts';
import { observationFromSnapshot, type CurrentIntent } from './observe.ts';
import type { SloStatus } from './slo.ts';
import {
  ACTION_PER_TRY_INDEX,
  ACTION_RETRY_INDEX,
  ACTION_SIZE,
  OBSERVATION_SIZE,
  decodeAction,
  encodeAction,
  encodeObservation,
  type PolicyAction,
  type RouteObservation,
} from './features.ts';

export interface DecisionRequest {
  /** "namespace/name". */
  key: string;
  /** Validated and defaulted. */
  route: AdaptiveRoute;
  /** Telemetry for the route (undefined: none yet; the guard then holds). */
  snapshot: RouteSnapshot | undefined;
  /** What the route serves now. */
  current: CurrentIntent;
  /** What the previous decision returned as `state` (undefined: the first decision). */
  state?: GuardState;
  /** With spec.policy.shadowModelRef: what the previous shadow decision returned as `state`. */
  shadowState?: GuardState;
}

/** What proposed the action: a model, the heuristic, or nothing (static mode serves the spec). */
export const DECIDERS = ['model', 'heuristic', 'spec'] as const;
export type Decider = (typeof DECIDERS)[number];

export interface Decision {
  key: string;
  mode: PolicyMode;
  decidedBy: Decider;
  /** Set when a model decided. */
  model?: { name: string; version: string };
  /** Set when the route references a model that could not decide: why, in words. The heuristic decided instead. */
  fallback?: { model: string; reason: string };
  /** Percent per region in spec order, integers summing to 100. */
  weights: RegionWeight[];
  retryAttempts: number;
  perTryTimeoutMs: number;
  /** Whether this goes to the data plane (false in shadow mode and when the guard held). */
  applied: boolean;
  reason: string;
  rules: GuardRule[];
  slo: SloStatus;
  /** Persist, and pass back as `state` next time. */
  state: GuardState;
  /** What the policy saw. Absent only when no observation could be built (see `reason`). */
  observation?: RouteObservation;
  /** The proposal before the guard (absent in static mode). */
  proposal?: PolicyAction;
  /** The encoded observation and the model's raw action mean, when a model decided. */
  features?: number[];
  rawAction?: number[];
  /** See the module comment. */
  actionProbability: number;
  logActionProbability: number;
  /** With spec.policy.shadowModelRef: the shadow model's decision (mode shadow, never applied). */
  shadow?: Decision;
}

export interface PolicyServiceOptions {
  models: ModelRegistry;
  clock?: Clock;
  /** Where decisions, guard interventions, fallbacks and forward passes are counted. */
  metrics?: Omit<PolicyMetrics, 'loads' | 'info'>;
}

interface Pending {
  request: DecisionRequest;
  observation: RouteObservation;
  spec: GuardSpec;
  proposal?: Proposal;
  fallback?: string;
  model?: LoadedModel;
  features?: Float32Array;
  raw?: Float32Array;
  /** The heuristic's decision a model's action is a residual on (spec v2), computed once per decision. */
  base?: HeuristicDecision;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Gaussian log density of the decided action; see the module comment. */
export function actionLogDensity(decided: PolicyAction, mean: ArrayLike<number>, std: readonly number[], o: RouteObservation, base?: PolicyAction): number {
  const raw = encodeAction(decided, o, base);
  const n = o.regions.length;
  let shift = 0;
  for (let i = 0; i < n; i++) shift += (mean[i]! - raw[i]!) / n;
  const dims: number[] = [];
  for (let i = 0; i < n; i++) dims.push(i);
  if (o.retryBounds.max > o.retryBounds.min) dims.push(ACTION_RETRY_INDEX);
  if (o.perTryBoundsMs.max > o.perTryBoundsMs.min) dims.push(ACTION_PER_TRY_INDEX);
  let log = 0;
  for (const i of dims) {
    const x = i < n ? raw[i]! + shift : raw[i]!;
    const z = (x - mean[i]!) / std[i]!;
    log += -0.5 * z * z - Math.log(std[i]!) - LOG_SQRT_2PI;
  }
  return log;
}

export class PolicyService {
  readonly #models: ModelRegistry;
  readonly #clock: Clock;
  readonly #metrics: Omit<PolicyMetrics, 'loads' | 'info'> | undefined;

  constructor(options: PolicyServiceOptions) {
    this.#models = options.models;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
  }

  /**
   * Decides every request, in order. Routes that reference the same model share one forward
   * pass. Never rejects for a route's input: a route that cannot be observed holds what it
   * serves, and one whose model cannot decide gets the heuristic (see Decision.fallback).
   * Leaves no tensors behind.
   */
  async decide(requests: readonly DecisionRequest[]): Promise<Decision[]> {
    // A shadow model decides as a route of its own in shadow mode, from its own shadow
    // trajectory, in the same batch as everything else; its decision rides on the route's.
    const shadows = requests.map((r) => shadowRequest(r));
    const all = [...requests, ...shadows.filter((r): r is DecisionRequest => r !== undefined)];
    const decisions = await this.#decideAll(all);
    let k = requests.length;
    return requests.map((_, i) => {
      const d = decisions[i]!;
      if (shadows[i]) d.shadow = decisions[k++]!;
      return d;
    });
  }

  async #decideAll(requests: readonly DecisionRequest[]): Promise<Decision[]> {
    const nowMs = this.#clock.now();
    const names = new Set<string>();
    for (const r of requests) {
      const ref = r.route.spec.policy.modelRef?.name;
      if (ref !== undefined && r.route.spec.policy.mode !== 'static') names.add(ref);
    }
    const lookups = new Map<string, ModelLookup>();
    await Promise.all([...names].map(async (name) => lookups.set(name, await this.#models.get(name))));

    const pending: (Pending | Decision)[] = requests.map((request) => {
      try {
        return { request, spec: guardSpecFrom(request.route), observation: observationFromSnapshot(request.route, request.snapshot, request.current) };
      } catch (e) {
        return cannotObserve(request, toMeshpilotError(e).message, nowMs);
      }
    });
    const byModel = new Map<string, Pending[]>();
    for (const p of pending) {
      if (!('request' in p)) continue;
      const policy = p.request.route.spec.policy;
      if (policy.mode === 'static') continue;
      const ref = policy.modelRef?.name;
      if (ref === undefined) continue;
      const lookup = lookups.get(ref)!;
      if (!lookup.ok) {
        p.fallback = `model "${ref}" refused: ${lookup.error.message}`;
        continue;
      }
      p.model = lookup.model;
      const group = byModel.get(ref) ?? [];
      group.push(p);
      byModel.set(ref, group);
    }
    for (const [name, group] of byModel) runModel(name, group, this.#metrics);

    const decisions = pending.map((p) => ('request' in p ? finish(p, nowMs) : p));
    if (this.#metrics) count(this.#metrics, decisions);
    return decisions;
  }
}

/** The request of `r`'s shadow model, as a route in shadow mode whose model is the shadow one; undefined without one. */
function shadowRequest(r: DecisionRequest): DecisionRequest | undefined {
  const policy = r.route.spec.policy;
  if (policy.shadowModelRef === undefined || policy.mode === 'static') return undefined;
  const { shadowModelRef, ...rest } = policy;
  const route = { ...r.route, spec: { ...r.route.spec, policy: { ...rest, mode: 'shadow' as const, modelRef: shadowModelRef } } };
  return { key: r.key, route, snapshot: r.snapshot, current: r.current, ...(r.shadowState ? { state: r.shadowState } : {}) };
}

/** Encodes the group's observations into one batch, runs the model once and decodes each row; failures become fallbacks. */
function runModel(name: string, group: Pending[], metrics: Pick<PolicyMetrics, 'inference' | 'batch'> | undefined): void {
  const rows: Pending[] = [];
  const batch = new Float32Array(group.length * OBSERVATION_SIZE);
  for (const p of group) {
    try {
      p.base = heuristicAction(p.observation);
      encodeObservation(p.observation, batch, rows.length * OBSERVATION_SIZE, p.base.action);
      rows.push(p);
    } catch (e) {
      p.fallback = `model "${name}" cannot read this route's observation: ${toMeshpilotError(e).message}`;
    }
  }
  if (rows.length === 0) return;
  const model = rows[0]!.model!;
  let out: Float32Array;
  const started = performance.now();
  try {
    out = model.predict(batch, rows.length);
    metrics?.inference.observe({ model: name }, (performance.now() - started) / 1000);
    metrics?.batch.observe({ model: name }, rows.length);
  } catch (e) {
    for (const p of rows) p.fallback = `model "${name}" failed: ${toMeshpilotError(e).message}`;
    return;
  }
  const by = `model ${name}@${model.metadata.version}`;
  rows.forEach((p, i) => {
    const raw = out.subarray(i * ACTION_SIZE, (i + 1) * ACTION_SIZE);
    try {
      p.proposal = { action: decodeAction(raw, p.observation, p.base!.action), by, note: `a residual on the heuristic, whose proposal was: ${p.base!.reason}` };
      p.features = batch.slice(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE);
      p.raw = Float32Array.from(raw);
    } catch (e) {
      p.fallback = `model "${name}" gave an unusable action: ${toMeshpilotError(e).message}`;
    }
  });
}

function finish(p: Pending, nowMs: number): Decision {
  const { request, observation, spec } = p;
  let proposal = p.proposal;
  if (!proposal && spec.mode !== 'static') {
    const h = heuristicAction(observation);
    const ref = request.route.spec.policy.modelRef?.name;
    proposal = { action: h.action, by: p.fallback ? `heuristic in place of model "${ref}"` : 'heuristic', note: h.reason };
  }
  const result: GuardResult = guard({ ...(proposal ? { proposal } : {}), observation, current: request.current, spec, ...(request.state ? { state: request.state } : {}), nowMs });
  const decidedBy: Decider = spec.mode === 'static' ? 'spec' : p.proposal ? 'model' : 'heuristic';
  let logP = 0;
  if (decidedBy === 'model' && p.raw && p.model) {
    const decided: PolicyAction = { weights: result.weights.map((w) => w.weight / 100), retryAttempts: result.retryAttempts, perTryTimeoutMs: result.perTryTimeoutMs };
    logP = actionLogDensity(decided, p.raw, p.model.metadata.actionStd, observation, p.base?.action);
  }
  const decision: Decision = {
    key: request.key,
    mode: spec.mode,
    decidedBy,
    weights: result.weights,
    retryAttempts: result.retryAttempts,
    perTryTimeoutMs: result.perTryTimeoutMs,
    applied: result.applied,
    reason: p.fallback ? `${result.reason}; fallback: ${p.fallback}` : result.reason,
    rules: result.rules,
    slo: result.slo,
    state: result.state,
    observation,
    actionProbability: Math.exp(logP),
    logActionProbability: logP,
  };
  if (proposal) decision.proposal = proposal.action;
  if (p.fallback) decision.fallback = { model: request.route.spec.policy.modelRef?.name ?? '', reason: p.fallback };
  if (decidedBy === 'model' && p.model) {
    decision.model = { name: request.route.spec.policy.modelRef!.name, version: p.model.metadata.version };
    if (p.features) decision.features = Array.from(p.features);
    if (p.raw) decision.rawAction = Array.from(p.raw);
  }
  return decision;
}

function count(metrics: Omit<PolicyMetrics, 'loads' | 'info'>, decisions: readonly Decision[]): void {
  for (const d of decisions) {
    metrics.decisions.inc({ mode: d.mode, decided_by: d.decidedBy, applied: String(d.applied) });
    for (const rule of d.rules) metrics.interventions.inc({ rule });
    if (d.fallback) metrics.fallbacks.inc({ model: d.fallback.model });
  }
}

/** A route that cannot be observed keeps what it serves (the guard's fail-static, without a guard to ask). */
function cannotObserve(request: DecisionRequest, problem: string, nowMs: number): Decision {
  const state = request.state ?? { step: 0 };
  return {
    key: request.key,
    mode: request.route.spec.policy.mode,
    decidedBy: request.route.spec.policy.mode === 'static' ? 'spec' : 'heuristic',
    weights: request.current.weights.map((w) => ({ ...w })),
    retryAttempts: request.current.retryAttempts,
    perTryTimeoutMs: request.current.perTryTimeoutMs,
    applied: false,
    reason: `cannot observe ${request.key}: ${problem}; holding the current intent`,
    rules: [GUARD_RULES.failStatic],
    slo: { state: 'unknown', p99Ms: null, errorRate: null, objectiveP99Ms: 0, maxErrorRate: 0 },
    state: { ...state, step: state.step + 1, lastDecisionTime: new Date(nowMs).toISOString() },
    actionProbability: 1,
    logActionProbability: 0,
  };
}
