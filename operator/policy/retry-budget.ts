// The retry budget (api/retry-budget.ts): retries may add at most RETRY_BUDGET_RATIO of the
// route's requests, plus RETRY_BUDGET_MIN_RPS so that a quiet route can still retry. Envoy
// enforces it per request; proxyless gRPC is told only a number of attempts. So the guard
// keeps the number at which the expected retries fit: with a share e of tries failing, n attempts add
// e + e² + … + eⁿ tries per request. And none beyond the spec's minimum while a region
// carrying traffic is saturated: there a retry is more load on what is already drowning,
// which is how a retry storm starts.
import { RETRY_BUDGET_MIN_RPS, RETRY_BUDGET_RATIO } from '../api/retry-budget.ts';
import type { RouteObservation } from './observation.ts';

/** Saturation at which retries go to the spec's minimum. */
export const RETRY_SATURATED = 0.9;

export interface RetryBudget {
  /** The most retry attempts the budget allows (at least the spec's minimum). */
  maxAttempts: number;
  /** Why the budget binds, in words. */
  why: string;
}

/**
 * The share of requests that still fail after `attempts` retries when a share `e` of tries
 * fails (independent tries): what a client sees, and what an error objective is about.
 * Telemetry counts tries, so a region failing 0.2% of tries with 3 retries fails almost no
 * requests.
 */
export function errorAfterRetries(e: number, attempts: number): number {
  return Math.min(1, Math.max(0, e)) ** (1 + Math.max(0, attempts));
}

/** Expected extra tries per request with `n` attempts when a share `e` of tries fails. */
export function expectedRetries(e: number, n: number): number {
  let sum = 0;
  for (let k = 1, p = e; k <= n; k++, p *= e) sum += p;
  return sum;
}

/** The budget for `o` served at `weights` (percent per region). Pure. */
export function retryBudget(o: RouteObservation, weights: readonly number[]): RetryBudget {
  const { min, max } = o.retryBounds;
  const saturated = o.regions.filter((r, i) => (weights[i] ?? 0) > 0 && r.saturation !== null && r.saturation >= RETRY_SATURATED).map((r) => r.region);
  if (saturated.length > 0) return { maxAttempts: min, why: `${saturated.join(', ')} saturated: retries would add load` };
  let failing = 0, known = 0, rate = 0;
  o.regions.forEach((r, i) => {
    const w = weights[i] ?? 0;
    rate += r.requestRate ?? 0;
    if (w > 0 && r.errorRate !== null) {
      failing += w * Math.min(1, r.errorRate);
      known += w;
    }
  });
  if (known === 0) return { maxAttempts: max, why: '' };
  const e = failing / known;
  const budget = RETRY_BUDGET_RATIO + (rate > 0 ? RETRY_BUDGET_MIN_RPS / rate : Infinity);
  let n = max;
  while (n > min && expectedRetries(e, n) > budget) n--;
  return { maxAttempts: n, why: n < max ? `${Math.round(100 * e)}% of tries failing: ${n} attempt(s) keep retries within ${Math.round(100 * RETRY_BUDGET_RATIO)}% of requests + ${RETRY_BUDGET_MIN_RPS}/s` : '' };
}
