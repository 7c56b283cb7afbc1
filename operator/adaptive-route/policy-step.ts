// The policy's part of a reconcile: decide when a decision is due (once per decision interval,
// and at once when the spec changed), and say what to serve. Between decisions the route
// serves what status records as decided, so a restarted or newly elected operator serves
// the same thing and decides again on the same schedule. What the guard remembers between
// decisions lives in status too (status.policy.guard): nothing is kept only in memory.
import { parseDuration } from '../base/duration.ts';
import type { AdaptiveRoute, AdaptiveRouteStatus, Condition, RegionWeight, ShadowPolicyStatus } from '../api/types.ts';
import type { CurrentIntent } from '../policy/observe.ts';
import { parseGuardState } from '../policy/guard-state.ts';
import type { Decision } from '../policy/policy.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import type { RouteSnapshot } from '../telemetry/types.ts';
import type { Decide } from './decision-batcher.ts';
import { largestRemainder } from '../base/percent.ts';
import { CONDITION_TYPES, POLICY_REASONS } from '../api/condition-types.ts';


/** status.lastDecisionReason's limit in the CRD. */
const MAX_REASON = 1024;

export interface PolicyStepInput {
  key: string;
  /** Validated and defaulted. */
  route: AdaptiveRoute;
  /** The spec's intent (spec weights, retries and timeouts at their upper bounds). */
  base: RouteIntent;
  before: AdaptiveRouteStatus;
  nowMs: number;
  snapshot: RouteSnapshot | undefined;
  decide: Decide;
}

export interface PolicyStep {
  /** What to serve now. */
  intent: RouteIntent;
  /** The decision made in this reconcile (none when one was not due). */
  decision?: Decision;
  /** When the next decision is due. */
  requeueAfterMs: number;
}

/** `base` serving `chosen`'s weights, retries and per-try timeout. */
function serving(base: RouteIntent, chosen: CurrentIntent, decidedBy: RouteIntent['source']['decidedBy']): RouteIntent {
  const weights = new Map(chosen.weights.map((w) => [w.region, w.weight]));
  return {
    ...base,
    destinations: base.destinations.map((d) => ({ ...d, weight: weights.get(d.region) ?? 0 })),
    retries: { ...base.retries, attempts: chosen.retryAttempts, perTryTimeoutMs: chosen.perTryTimeoutMs },
    source: { ...base.source, decidedBy },
  };
}

/** What the route serves now according to status, when status covers the spec's regions; else the spec's intent. */
export function currentIntent(base: RouteIntent, before: AdaptiveRouteStatus): CurrentIntent {
  const fromSpec: CurrentIntent = {
    weights: base.destinations.map((d) => ({ region: d.region, weight: d.weight })),
    retryAttempts: base.retries.attempts,
    perTryTimeoutMs: base.retries.perTryTimeoutMs,
  };
  const recorded = new Map((before.weights ?? []).map((w) => [w.region, w.weight]));
  if (!base.destinations.every((d) => recorded.has(d.region))) return fromSpec;
  let perTry = fromSpec.perTryTimeoutMs;
  try {
    if (before.perTryTimeout !== undefined) perTry = parseDuration(before.perTryTimeout);
  } catch {
    // A malformed duration in status (never written by us): the spec's value stands.
  }
  return {
    weights: base.destinations.map((d) => ({ region: d.region, weight: recorded.get(d.region)! })),
    retryAttempts: before.retryAttempts ?? fromSpec.retryAttempts,
    perTryTimeoutMs: perTry,
  };
}

export async function policyStep(input: PolicyStepInput): Promise<PolicyStep> {
  const { route, base, before, nowMs } = input;
  const intervalMs = parseDuration(route.spec.policy.decisionInterval);
  const current = currentIntent(base, before);
  const guard = parseGuardState(before.policy?.guard);
  const last = guard.state.lastDecisionTime ? Date.parse(guard.state.lastDecisionTime) : undefined;
  const specChanged = before.observedGeneration !== route.metadata.generation;
  const dueIn = last === undefined || specChanged ? 0 : last + intervalMs - nowMs;
  if (dueIn > 0) {
    const decidedBy = before.policy?.decidedBy ?? 'spec';
    return { intent: route.spec.policy.mode === 'shadow' ? base : serving(base, current, decidedBy), requeueAfterMs: dueIn };
  }
  const shadowGuard = route.spec.policy.shadowModelRef ? parseGuardState(before.policy?.shadow?.guard, 'status.policy.shadow.guard') : undefined;
  const decision = await input.decide({ key: input.key, route, snapshot: input.snapshot, current, state: guard.state, ...(shadowGuard ? { shadowState: shadowGuard.state } : {}) });
  let intent: RouteIntent;
  if (decision.applied) intent = serving(base, { weights: decision.weights, retryAttempts: decision.retryAttempts, perTryTimeoutMs: decision.perTryTimeoutMs }, decision.decidedBy);
  else if (route.spec.policy.mode === 'shadow') intent = base;
  else intent = serving(base, current, before.policy?.decidedBy ?? decision.decidedBy);
  return { intent, decision, requeueAfterMs: intervalMs };
}

/** Proposal shares (fractions) as whole percents on `regions`. */
const percent = (weights: readonly number[], regions: readonly RegionWeight[]): RegionWeight[] => {
  const whole = largestRemainder(weights);
  return regions.map((r, i) => ({ region: r.region, weight: whole[i] ?? 0 }));
};

/** Writes what `decision` says into status (decision fields, guard state, model version). */
export function recordDecisionInStatus(status: AdaptiveRouteStatus, decision: Decision, nowIso: string): void {
  status.lastDecisionTime = nowIso;
  status.lastDecisionReason = clip(decision.reason);
  if (decision.model) status.modelVersion = decision.model.version;
  else delete status.modelVersion;
  status.policy = {
    decidedBy: decision.decidedBy,
    applied: decision.applied,
    rules: [...decision.rules],
    ...(decision.proposal ? { proposedWeights: percent(decision.proposal.weights, decision.weights) } : {}),
    ...(decision.fallback ? { fallbackReason: decision.fallback.reason.slice(0, MAX_REASON) } : {}),
    guard: decision.state as unknown as Record<string, unknown>,
    ...(decision.shadow ? { shadow: shadowStatus(decision.shadow) } : {}),
  };
}

const clip = (text: string) => (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text);

/** status.policy.shadow from the shadow model's decision. */
function shadowStatus(d: Decision): ShadowPolicyStatus {
  return {
    ...(d.model ? { modelVersion: d.model.version } : {}),
    weights: d.weights.map((w) => ({ ...w })),
    retryAttempts: d.retryAttempts,
    reason: clip(d.reason),
    rules: [...d.rules],
    ...(d.fallback ? { fallbackReason: clip(d.fallback.reason) } : {}),
    guard: d.state as unknown as Record<string, unknown>,
  };
}

/**
 * The PolicyModel condition for a route that references a model (modelRef, else
 * shadowModelRef); undefined when it references none.
 */
export function policyModelCondition(route: AdaptiveRoute, decision: Decision): Pick<Condition, 'type' | 'status' | 'reason' | 'message'> | undefined {
  if (route.spec.policy.mode === 'static') return undefined;
  const ref = route.spec.policy.modelRef?.name;
  if (ref === undefined) {
    const shadow = route.spec.policy.shadowModelRef?.name;
    const d = decision.shadow;
    if (shadow === undefined || !d) return undefined;
    if (d.fallback) return { type: CONDITION_TYPES.policyModel, status: 'False', reason: POLICY_REASONS.refused, message: `shadow ${d.fallback.reason}; the heuristic serves` };
    if (d.model) return { type: CONDITION_TYPES.policyModel, status: 'True', reason: POLICY_REASONS.loaded, message: `model "${shadow}" version ${d.model.version} decides in shadow (status.policy.shadow, never served); the heuristic serves` };
    return undefined;
  }
  if (decision.fallback) {
    return { type: CONDITION_TYPES.policyModel, status: 'False', reason: POLICY_REASONS.refused, message: `${decision.fallback.reason}; the heuristic decides instead` };
  }
  if (decision.model) {
    return { type: CONDITION_TYPES.policyModel, status: 'True', reason: POLICY_REASONS.loaded, message: `model "${ref}" version ${decision.model.version} decides` };
  }
  return undefined;
}
