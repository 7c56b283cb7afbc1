// The Linkerd-like baseline: weights inversely proportional to an EWMA of each region's
// latency (Linkerd's balancer prefers the endpoint with the lowest latency EWMA, decay 10 s),
// with failure accrual: a region failing its health check or whose error rate crosses the
// threshold is taken out for a backoff that doubles while it keeps failing (from one decision
// interval up to 60 s) and is probed again when the backoff ends. It balances within the
// primary priority group and fails over to the next one only when every primary is out.
// Retries follow a retry budget: the spec's most while the route's error rate is within
// the budget (20 % extra load), none beyond it, which is what keeps a budget out of a storm.
import type { PolicyAction, RouteObservation } from '../../operator/policy/features.ts';
import type { Baseline, RouteView } from '../policy.ts';
import { specRetries } from '../sim/route-view.ts';
import { failoverWeights } from './failover-groups.ts';

export interface LinkerdOptions {
  /** EWMA decay time, ms (default 10 s). */
  decayMs?: number;
  /** Error rate at which failure accrual takes a region out (default 0.2). */
  accrualErrorRate?: number;
  /** Longest backoff, ms (default 60 s). */
  maxBackoffMs?: number;
  /** Extra load retries may add, as a fraction of requests (default 0.2). */
  retryBudget?: number;
}

export interface LinkerdState {
  route: RouteView;
  nowMs: number;
  /** Latency EWMA per region, ms (null: never measured). */
  ewmaMs: (number | null)[];
  outUntilMs: number[];
  backoffMs: number[];
}

export function linkerdPolicy(options: LinkerdOptions = {}): Baseline<LinkerdState> {
  const decayMs = options.decayMs ?? 10_000;
  const threshold = options.accrualErrorRate ?? 0.2;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const budget = options.retryBudget ?? 0.2;
  return {
    name: 'linkerd',
    start(route: RouteView): LinkerdState {
      const n = route.destinations.length;
      return { route, nowMs: 0, ewmaMs: new Array<number | null>(n).fill(null), outUntilMs: new Array<number>(n).fill(-Infinity), backoffMs: new Array<number>(n).fill(0) };
    },
    decide(o: RouteObservation, s: LinkerdState): PolicyAction {
      const step = s.route.decisionIntervalMs;
      s.nowMs += step;
      const alpha = 1 - Math.exp(-step / decayMs);
      o.regions.forEach((r, i) => {
        // Linkerd weighs the latency it measures; the p50 stands in for its mean.
        if (r.latencyP50Ms !== null) s.ewmaMs[i] = s.ewmaMs[i] === null ? r.latencyP50Ms : s.ewmaMs[i]! + alpha * (r.latencyP50Ms - s.ewmaMs[i]!);
      });
      const available = o.regions.map((r, i) => {
        if (s.nowMs < s.outUntilMs[i]!) return false;
        const failing = r.healthy === false || (r.errorRate !== null && r.errorRate >= threshold && r.weightPercent > 0);
        if (failing) {
          s.backoffMs[i] = Math.min(maxBackoffMs, s.backoffMs[i]! > 0 ? s.backoffMs[i]! * 2 : step);
          s.outUntilMs[i] = s.nowMs + s.backoffMs[i]!;
          return false;
        }
        if (r.errorRate !== null && r.weightPercent > 0) s.backoffMs[i] = 0;
        return true;
      });
      const known = s.ewmaMs.filter((v): v is number => v !== null);
      const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
      const weights = failoverWeights(s.route, available, (i) => 1 / Math.max(0.1, s.ewmaMs[i] ?? fallback));
      let requests = 0, errors = 0;
      for (const r of o.regions) {
        if (r.requestRate === null || r.errorRate === null) continue;
        requests += r.requestRate;
        errors += r.requestRate * r.errorRate;
      }
      const routeErrorRate = requests > 0 ? errors / requests : 0;
      const spec = specRetries(s.route);
      const withinBudget = routeErrorRate / Math.max(1e-9, 1 - routeErrorRate) <= budget;
      return { weights, retryAttempts: withinBudget ? spec.retryAttempts : s.route.retryBounds.min, perTryTimeoutMs: spec.perTryTimeoutMs };
    },
  };
}
