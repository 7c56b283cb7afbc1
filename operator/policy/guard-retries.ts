// The guard's rules on retries: the proposal's attempts and per-try timeout clamped into the
// spec's bounds, the per-try floor (never below the latency objective), and the retry budget.
import type { GuardRule } from './guard-rules.ts';
import { GUARD_RULES } from './guard-rules.ts';
import { formatMs } from './explain.ts';
import type { CurrentIntent } from './observe.ts';
import type { RouteObservation } from './observation.ts';
import { retryBudget } from './retry-budget.ts';

const clampInt = (v: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo)));

/** Retry attempts within the spec's bounds (a whole number). */
export function clampRetries(o: RouteObservation, n: number): number {
  return clampInt(n, o.retryBounds.min, o.retryBounds.max);
}

/** A per-try timeout within the spec's bounds (whole milliseconds). */
export function clampPerTry(o: RouteObservation, ms: number): number {
  return clampInt(ms, o.perTryBoundsMs.min, o.perTryBoundsMs.max);
}

export interface RetryChoice {
  attempts: number;
  perTryMs: number;
}

/**
 * What the guard serves of a proposal's retries, given the `weights` it serves: within the
 * spec's bounds, the per-try timeout not below the objective, attempts within the budget.
 * Records the rules that acted in `rules` and says why in `notes`.
 */
export function guardRetries(o: RouteObservation, proposed: { retryAttempts: number; perTryTimeoutMs: number }, weights: readonly number[], rules: Set<GuardRule>, notes: string[]): RetryChoice {
  let attempts = clampRetries(o, proposed.retryAttempts);
  let perTryMs = clampPerTry(o, proposed.perTryTimeoutMs);
  if (attempts !== Math.round(proposed.retryAttempts) || perTryMs !== Math.round(proposed.perTryTimeoutMs)) {
    rules.add(GUARD_RULES.retriesClamped);
    notes.push('retries clamped into the spec bounds');
  }
  const floorMs = clampPerTry(o, o.objectives.latencyP99Ms);
  if (perTryMs < floorMs) {
    // A try cut before the latency objective would have been a good answer; and a region
    // whose round trip alone exceeds the timeout fails every try it gets.
    rules.add(GUARD_RULES.perTryFloor);
    notes.push(`per-try timeout ${formatMs(perTryMs)}→${formatMs(floorMs)} (not below the ${formatMs(o.objectives.latencyP99Ms)} objective)`);
    perTryMs = floorMs;
  }
  const budget = retryBudget(o, weights);
  if (attempts > budget.maxAttempts) {
    rules.add(GUARD_RULES.retryBudget);
    notes.push(`retry budget: ${attempts}→${budget.maxAttempts} attempts (${budget.why})`);
    attempts = budget.maxAttempts;
  }
  return { attempts, perTryMs };
}

/** The retry changes from `before`, in words. */
export function retryNotes(before: CurrentIntent, attempts: number, perTryMs: number): string[] {
  const notes: string[] = [];
  if (attempts !== before.retryAttempts) notes.push(`retries ${before.retryAttempts}→${attempts}`);
  if (perTryMs !== before.perTryTimeoutMs) notes.push(`per-try timeout ${formatMs(before.perTryTimeoutMs)}→${formatMs(perTryMs)}`);
  return notes;
}
