// The policy serving falls back to when a route has no model, or its model is refused or fails:
// Linkerd's idea at the region level. Each region's share is proportional to 1 / its latency
// (p99, else p90, else p50), cut by failure accrual (errors over the budget divide the share
// by how far over they are; failing health or half the requests failing takes it to 0) and by
// queueing (saturation above 1). Home regions (priority 0) carry the traffic while one of them
// is within the objectives; only then do remote regions take a share, discounted by the
// route's cross-region cost weight. A region whose p99 alone breaks the latency objective gets
// no share while the regions within it have the headroom for its load (a route's p99 is its
// slowest percent). Weights move halfway to that target per decision (an EWMA
// over decisions), retries stay within the retry budget (1% of requests while a region
// saturates: retries amplify load) and rise by one when errors are over budget with capacity
// to spare; the per-try timeout
// follows 1.5 × the route's p99, never below the latency objective. The guard still bounds
// every step. Deterministic: the action's probability is 1.
import { formatMs, weightList } from './explain.ts';
import { errorAfterRetries, retryBudget } from './retry-budget.ts';
import { sloStatus } from './slo.ts';
import type { PolicyAction, RegionObservation, RouteObservation } from './observation.ts';
import { largestRemainder } from '../base/percent.ts';
import { normalise } from './weights.ts';

export interface HeuristicDecision {
  action: PolicyAction;
  /** What the heuristic saw and what it aims for, in words. */
  reason: string;
}

/** A region failing this share of its requests takes no traffic (failure accrual's "dead"). */
const DEAD_ERROR_RATE = 0.5;
/** The share an unmeasured region is given to be measured (a probe), while a measured region is usable. */
const PROBE_SHARE = 0.05;
/** Fraction of the way to the target per decision. */
const DAMPING = 0.5;
/** Saturation at which retries go to the minimum. */
const SATURATED = 0.9;
/** The per-try timeout is kept between these multiples of the route's p99, else reset to the middle one. */
const PER_TRY_BAND = { low: 1.2, target: 1.5, high: 3 } as const;

const known = (v: number | null): v is number => v !== null && Number.isFinite(v);

function latencyOf(r: RegionObservation): number | null {
  for (const v of [r.latencyP99Ms, r.latencyP90Ms, r.latencyP50Ms]) if (known(v) && v > 0) return v;
  return null;
}

const clampInt = (v: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, v)));

function usable(r: RegionObservation): boolean {
  return r.healthy !== false && !(known(r.errorRate) && r.errorRate >= DEAD_ERROR_RATE);
}

/** The region's error rate as requests see it after the retries in force (telemetry counts tries). */
const requestErrors = (r: RegionObservation, attempts: number) => (known(r.errorRate) ? errorAfterRetries(r.errorRate, attempts) : null);

function score(r: RegionObservation, latency: number, budget: number, attempts: number): number {
  let s = 1 / Math.max(latency, 1);
  const e = requestErrors(r, attempts);
  if (e !== null && e > budget) s *= budget > 0 ? budget / e : 0;
  if (known(r.saturation) && r.saturation > 1) s /= r.saturation;
  return s;
}

function hold(o: RouteObservation, why: string): HeuristicDecision {
  const current = normalise(o.regions.map((r) => r.weightPercent), 1);
  const weights = current.some((w) => w > 0) ? current : o.regions.map(() => 1 / o.regions.length);
  return {
    action: { weights, retryAttempts: clampInt(o.retryAttempts, o.retryBounds.min, o.retryBounds.max), perTryTimeoutMs: clampInt(o.perTryTimeoutMs, o.perTryBoundsMs.min, o.perTryBoundsMs.max) },
    reason: `heuristic holds: ${why}`,
  };
}

function retries(o: RouteObservation, errorRate: number | null): { attempts: number; note?: string } {
  const { min, max } = o.retryBounds;
  const current = clampInt(o.retryAttempts, min, max);
  const budget = retryBudget(o, o.regions.map((r) => r.weightPercent));
  if (current > budget.maxAttempts) return { attempts: budget.maxAttempts, note: `retries ${current}→${budget.maxAttempts}: ${budget.why}` };
  const saturated = o.regions.some((r) => r.weightPercent > 0 && known(r.saturation) && r.saturation >= SATURATED);
  if (!saturated && errorRate !== null && errorRate > o.objectives.maxErrorRate && current < budget.maxAttempts) {
    return { attempts: current + 1, note: `retries ${current}→${current + 1}: errors over budget with capacity to spare` };
  }
  return { attempts: current };
}

function perTry(o: RouteObservation, p99Ms: number | null): { ms: number; note?: string } {
  const { min, max } = o.perTryBoundsMs;
  // Never below the latency objective: the guard would raise it anyway (its per-try floor).
  const floor = Math.min(max, Math.max(min, o.objectives.latencyP99Ms));
  const current = clampInt(Math.max(o.perTryTimeoutMs, floor), min, max);
  if (p99Ms === null || (current >= PER_TRY_BAND.low * p99Ms && current <= PER_TRY_BAND.high * p99Ms)) return { ms: current };
  const next = clampInt(Math.max(PER_TRY_BAND.target * p99Ms, floor), min, max);
  return next === current ? { ms: current } : { ms: next, note: `per-try timeout ${formatMs(current)}→${formatMs(next)} (1.5 × p99, not below the objective)` };
}

/**
 * A route's p99 is its slowest percent: a region whose p99 alone breaks the objective breaks
 * the route's while it carries more than a percent of the traffic, whatever the others do. So
 * while measured regions within the latency objective have the headroom (up to 90% saturation, by
 * their saturation) to take the slow regions' load, the slow ones get no share (their scores go
 * to 0, in place). Returns the regions drained.
 */
function drainSlow(o: RouteObservation, scores: number[], latencies: (number | null)[]): string[] {
  const objective = o.objectives.latencyP99Ms;
  const fast = scores.map((s, i) => s > 0 && latencies[i] !== null && latencies[i]! <= objective);
  const slow = scores.map((s, i) => s > 0 && latencies[i] !== null && latencies[i]! > objective);
  if (!fast.some((f) => f) || !slow.some((f) => f)) return [];
  let spare = 0, load = 0;
  o.regions.forEach((r, i) => {
    const rate = known(r.requestRate) ? r.requestRate : 0;
    if (slow[i]) load += rate;
    if (fast[i]) spare += known(r.saturation) && r.saturation > 0 ? Math.max(0, rate * (SATURATED / r.saturation - 1)) : 0;
  });
  if (spare < load) return [];
  const drained: string[] = [];
  slow.forEach((s, i) => {
    if (!s) return;
    scores[i] = 0;
    drained.push(o.regions[i]!.region);
  });
  return drained;
}

/** The heuristic's action for `o`. Pure and deterministic; non-finite values count as unknown. */
export function heuristicAction(o: RouteObservation): HeuristicDecision {
  const latencies = o.regions.map(latencyOf);
  const knownLatencies = latencies.filter((l): l is number => l !== null);
  if (knownLatencies.length === 0) return hold(o, 'no latency data');
  const budget = o.objectives.maxErrorRate;
  // An unmeasured region is assumed as slow as the worst measured one (or the objective): probing it is the floor's job.
  const pessimistic = Math.max(o.objectives.latencyP99Ms, ...knownLatencies);
  const within = (r: RegionObservation, i: number) =>
    usable(r) && (latencies[i] ?? pessimistic) <= o.objectives.latencyP99Ms && !((requestErrors(r, o.retryAttempts) ?? 0) > budget);
  const homeOk = o.regions.some((r, i) => !r.remote && within(r, i));
  const costDiscount = 1 - 0.5 * o.objectives.crossRegionCostWeight;
  const scores = o.regions.map((r, i) => {
    if (!usable(r) || (homeOk && r.remote)) return 0;
    const s = score(r, latencies[i] ?? pessimistic, budget, o.retryAttempts);
    return r.remote ? s * costDiscount : s;
  });
  if (scores.every((s) => s <= 0)) return hold(o, 'no region is usable (health failing or half the requests failing everywhere)');
  const slow = drainSlow(o, scores, latencies);
  // A region never measured is an unknown, not a region without errors: while a measured one
  // is usable, an unmeasured one gets only a probe's share until it has shown how it does.
  const measuredUsable = scores.some((s, i) => s > 0 && latencies[i] !== null);
  const probes = scores.map((s, i) => s > 0 && latencies[i] === null && measuredUsable);
  const probed = probes.filter((p) => p).length;
  const probeShare = Math.min(PROBE_SHARE * probed, 0.5);
  // In percent, like `current` below.
  const target = probed > 0 ? normalise(scores.map((s, i) => (probes[i] ? 0 : s)), 100 * (1 - probeShare)).map((t, i) => (probes[i] ? (100 * probeShare) / probed : t)) : normalise(scores);
  const currentRaw = o.regions.map((r) => (Number.isFinite(r.weightPercent) ? r.weightPercent : 0));
  const current = currentRaw.some((w) => w > 0) ? normalise(currentRaw) : target;
  const next = current.map((c, i) => c + DAMPING * ((target[i] ?? 0) - c));
  const slo = sloStatus(o);
  const r = retries(o, slo.errorRate);
  const t = perTry(o, slo.p99Ms);
  const regions = o.regions.map((x) => x.region);
  const notes = [
    `weights toward ${weightList(regions, largestRemainder(target))} (∝ 1/latency with failure accrual${homeOk ? ', home regions first' : ', spilling to remote regions'}${slow.length > 0 ? `; none to ${slow.join(', ')}: p99 over the objective while regions within it have the headroom` : ''})`,
    ...(r.note ? [r.note] : []),
    ...(t.note ? [t.note] : []),
  ];
  return {
    action: { weights: normalise(next, 1), retryAttempts: r.attempts, perTryTimeoutMs: t.ms },
    reason: notes.join('; '),
  };
}
