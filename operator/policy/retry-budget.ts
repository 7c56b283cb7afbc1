// The retry budget (api/retry-budget.ts): retries may add at most RETRY_BUDGET_RATIO of the
// route's requests, plus RETRY_BUDGET_MIN_RPS so that a quiet route can still retry. Envoy
// enforces it per request; proxyless gRPC is told only a number of attempts. So the guard
// keeps the number at which the expected retries fit: with a share e of tries failing, n
// attempts add e + e² + … + eⁿ tries per request. While a region carrying traffic is saturated the budget
// shrinks to RETRY_SATURATED_RATIO of requests: there a retry storm is more load on what is
// already drowning, but retrying the odd failure of a healthy, busy region costs nothing and
// keeps its errors within their objective (cutting retries to the spec's minimum there broke
// error objectives that static routing met).
import { RETRY_BUDGET_MIN_RPS, RETRY_BUDGET_RATIO } from '../api/retry-budget.ts';
import type { RouteObservation } from './observation.ts';

/** Saturation at which the budget shrinks to RETRY_SATURATED_RATIO. */
export const RETRY_SATURATED = 0.9;
/** The budget, as a share of requests, while a region carrying traffic is saturated. */
export const RETRY_SATURATED_RATIO = 0.01;

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
  let failing = 0, known = 0, rate = 0;
  o.regions.forEach((r, i) => {
    const w = weights[i] ?? 0;
    rate += r.requestRate ?? 0;
    if (w > 0 && r.errorRate !== null) {
      failing += w * Math.min(1, r.errorRate);
      known += w;
    }
  });
  if (known === 0) return saturated.length > 0 ? { maxAttempts: min, why: `${saturated.join(', ')} saturated and its errors unknown: retries would add load` } : { maxAttempts: max, why: '' };
  const e = failing / known;
  const budget = saturated.length > 0 ? RETRY_SATURATED_RATIO : RETRY_BUDGET_RATIO + (rate > 0 ? RETRY_BUDGET_MIN_RPS / rate : Infinity);
  let n = max;
  while (n > min && expectedRetries(e, n) > budget) n--;
  if (n === max) return { maxAttempts: n, why: '' };
  const within = saturated.length > 0 ? `${Math.round(100 * RETRY_SATURATED_RATIO)}% of requests while ${saturated.join(', ')} saturated` : `${Math.round(100 * RETRY_BUDGET_RATIO)}% of requests + ${RETRY_BUDGET_MIN_RPS}/s`;
  return { maxAttempts: n, why: `${Math.round(100 * e)}% of tries failing: ${n} attempt(s) keep retries within ${within}` };
}
