// The safety guard's memory between decisions, small enough to live in the route's status
// (the reconciler never keeps the only copy in memory): the step counter, whether the SLO was
// met when the last decision was made and whether that decision moved anything (rollback's
// trigger), the last weights under which the SLO was met (rollback's target), the hold after
// a rollback, how long the route has been calm (return to spec), probation, and shadow mode's
// own trajectory. JSON-safe as it stands.
import { isDuration } from '../base/duration.ts';
import type { Duration, RegionWeight } from '../api/types.ts';
import type { ProbationEntry } from './probation.ts';
import { SLO_STATES, type SloState } from './slo.ts';
import { isObject } from '../base/plain-value.ts';

export interface LastGood {
  /** Percent per region, summing to 100. */
  weights: RegionWeight[];
  retryAttempts: number;
  perTryTimeout: Duration;
}

export interface GuardState {
  /** Decisions made so far for the route. */
  step: number;
  /** When the last decision was made (RFC 3339). */
  lastDecisionTime?: string;
  /** The route's SLO status when the last decision was made, before it took effect. */
  sloBefore?: SloState;
  /** The last decision changed what is served (weights, retries or the per-try timeout). */
  moved?: boolean;
  /** What was in force the last time a decision found the SLO met: what a rollback restores. */
  lastGood?: LastGood;
  /** After a rollback the proposals are not followed before this step. */
  holdUntilStep?: number;
  /** Shadow mode: the previous shadow decision, the base of the next (nothing is served from it). */
  shadowWeights?: RegionWeight[];
  /** Calm decisions in a row (return-to-spec.ts); absent: none. */
  calm?: number;
  /** Calm decisions needed before the next return to spec, when backed off from CALM_DECISIONS. */
  calmNeeded?: number;
  /** The last decision was a return step towards the spec's weights. */
  returning?: boolean;
  /** Regions that failed their health check recently (probation.ts). */
  probation?: ProbationEntry[];
}

export const INITIAL_GUARD_STATE: GuardState = Object.freeze({ step: 0 }) as GuardState;

export interface ParsedGuardState {
  state: GuardState;
  /** Why a persisted state was discarded (the guard then starts afresh), naming the field. */
  problem?: string;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function weightsProblem(v: unknown, field: string): string | undefined {
  if (!Array.isArray(v)) return `${field}: not a list`;
  for (let i = 0; i < v.length; i++) {
    const w: unknown = v[i];
    if (!isObject(w) || typeof w.region !== 'string' || !isCount(w.weight) || w.weight > 100) {
      return `${field}[${i}]: expected { region, weight } with an integer weight 0..100`;
    }
  }
  return undefined;
}

function problemOf(v: Record<string, unknown>, field: string): string | undefined {
  if (!isCount(v.step)) return `${field}.step: expected a non-negative integer`;
  if (v.lastDecisionTime !== undefined && (typeof v.lastDecisionTime !== 'string' || Number.isNaN(Date.parse(v.lastDecisionTime)))) {
    return `${field}.lastDecisionTime: expected an RFC 3339 time`;
  }
  if (v.sloBefore !== undefined && !(SLO_STATES as readonly unknown[]).includes(v.sloBefore)) return `${field}.sloBefore: expected one of ${SLO_STATES.join(', ')}`;
  if (v.moved !== undefined && typeof v.moved !== 'boolean') return `${field}.moved: expected a boolean`;
  if (v.holdUntilStep !== undefined && !isCount(v.holdUntilStep)) return `${field}.holdUntilStep: expected a non-negative integer`;
  if (v.calm !== undefined && !isCount(v.calm)) return `${field}.calm: expected a non-negative integer`;
  if (v.calmNeeded !== undefined && !isCount(v.calmNeeded)) return `${field}.calmNeeded: expected a non-negative integer`;
  if (v.returning !== undefined && typeof v.returning !== 'boolean') return `${field}.returning: expected a boolean`;
  if (v.shadowWeights !== undefined) {
    const p = weightsProblem(v.shadowWeights, `${field}.shadowWeights`);
    if (p) return p;
  }
  if (v.probation !== undefined) {
    if (!Array.isArray(v.probation)) return `${field}.probation: not a list`;
    for (let i = 0; i < v.probation.length; i++) {
      const e: unknown = v.probation[i];
      if (!isObject(e) || typeof e.region !== 'string' || !isCount(e.untilStep) || !isCount(e.backoff) || typeof e.failing !== 'boolean') {
        return `${field}.probation[${i}]: expected { region, untilStep, backoff, failing }`;
      }
    }
  }
  if (v.lastGood !== undefined) {
    const g = v.lastGood;
    if (!isObject(g)) return `${field}.lastGood: expected an object`;
    const p = weightsProblem(g.weights, `${field}.lastGood.weights`);
    if (p) return p;
    if (!isCount(g.retryAttempts)) return `${field}.lastGood.retryAttempts: expected a non-negative integer`;
    if (typeof g.perTryTimeout !== 'string' || !isDuration(g.perTryTimeout)) return `${field}.lastGood.perTryTimeout: expected a duration such as "500ms"`;
  }
  return undefined;
}

/**
 * Reads a persisted guard state (as the reconciler stored it). Absent: the initial state.
 * Malformed: the initial state and a problem naming the field — the guard starting afresh
 * only forgets rollback's memory, which is safer than acting on a state it cannot trust.
 * Unknown fields are dropped.
 */
export function parseGuardState(value: unknown, field = 'status.policy.guard'): ParsedGuardState {
  if (value === undefined || value === null) return { state: { step: 0 } };
  if (!isObject(value)) return { state: { step: 0 }, problem: `${field}: expected an object` };
  const problem = problemOf(value, field);
  if (problem) return { state: { step: 0 }, problem };
  const v = value as unknown as GuardState;
  const state: GuardState = { step: v.step };
  if (v.lastDecisionTime !== undefined) state.lastDecisionTime = v.lastDecisionTime;
  if (v.sloBefore !== undefined) state.sloBefore = v.sloBefore;
  if (v.moved !== undefined) state.moved = v.moved;
  if (v.holdUntilStep !== undefined) state.holdUntilStep = v.holdUntilStep;
  if (v.calm !== undefined) state.calm = v.calm;
  if (v.calmNeeded !== undefined) state.calmNeeded = v.calmNeeded;
  if (v.returning !== undefined) state.returning = v.returning;
  if (v.shadowWeights !== undefined) state.shadowWeights = v.shadowWeights.map((w) => ({ region: w.region, weight: w.weight }));
  if (v.probation !== undefined) state.probation = v.probation.map((e) => ({ region: e.region, untilStep: e.untilStep, backoff: e.backoff, failing: e.failing }));
  if (v.lastGood !== undefined) {
    state.lastGood = {
      weights: v.lastGood.weights.map((w) => ({ region: w.region, weight: w.weight })),
      retryAttempts: v.lastGood.retryAttempts,
      perTryTimeout: v.lastGood.perTryTimeout,
    };
  }
  return { state };
}
