// The guard's do-no-harm rules (issue 12): floors and failover by priority group, capacity,
// the retry budget, and recovery that is observed before it is trusted.
import { describe, expect, it } from '@jest/globals';
import { guard } from '../../../operator/policy/guard.ts';
import { GUARD_RULES } from '../../../operator/policy/guard-rules.ts';
import type { GuardState } from '../../../operator/policy/guard-state.ts';
import { PROBATION_BASE_DECISIONS } from '../../../operator/policy/probation.ts';
import { expectedRetries, retryBudget } from '../../../operator/policy/retry-budget.ts';
import { groupView } from '../../../operator/policy/serving-group.ts';
import type { RegionObservation } from '../../../operator/policy/features.ts';
import { regionObs, routeObs } from './fixtures.ts';
import { input, spec, weightsOf } from './guard-fixtures.ts';

/** Home eu-west and us-east (priority 0), failover ap-south (priority 1): current and proposed percents. */
function withFailover(current: number[], proposed: number[], regions: Partial<RegionObservation>[] = []) {
  const i = input(current, proposed, { regions: [regions[0] ?? {}, regions[1] ?? {}, { remote: true, ...regions[2] }] });
  i.spec = spec(['eu-west', 'us-east', 'ap-south'], { destinations: [{ region: 'eu-west', weight: 50, priority: 0 }, { region: 'us-east', weight: 50, priority: 0 }, { region: 'ap-south', weight: 0, priority: 1 }] });
  return i;
}

describe('guard: floors and failover within priority groups', () => {
  it('keeps no failover region at the floor while the home group serves', () => {
    const r = guard(withFailover([50, 50, 0], [50, 50, 0]));
    expect(weightsOf(r)).toEqual([50, 50, 0]);
    expect(r.rules).not.toContain(GUARD_RULES.floor);
  });

  it('drains a failover region by bounded steps once the home group meets its objectives again, and says why', () => {
    const quiet = [{ latencyP99Ms: 100 }, { latencyP99Ms: 100 }, { latencyP99Ms: 140 }];
    const r = guard(withFailover([40, 30, 30], [40, 30, 30], quiet));
    expect(weightsOf(r)).toEqual([47, 33, 20]);
    expect(r.rules).toContain(GUARD_RULES.failoverClosed);
    expect(r.reason).toContain('no traffic to ap-south (failover group: the groups before it meet the objectives)');
  });

  it.each([
    ['a home region past 70% of the latency objective', [{ latencyP99Ms: 190 }, {}, {}]],
    ['a saturated home region', [{ saturation: 0.8 }, { saturation: 0.8 }, {}]],
    ['a failing home region', [{ healthy: false }, {}, {}]],
  ])('opens the failover group when the home group cannot be relied on: %s', (_what, regions) => {
    const r = guard(withFailover([50, 50, 0], [40, 40, 20], regions as Partial<RegionObservation>[]));
    expect(r.rules).not.toContain(GUARD_RULES.failoverClosed);
    expect(weightsOf(r)[2]).toBeGreaterThan(0);
  });

  it('serves from the failover group when every home region fails, and floors it there', () => {
    const r = guard(withFailover([0, 0, 100], [0, 0, 100], [{ healthy: false }, { healthy: false }, {}]));
    expect(weightsOf(r)).toEqual([0, 0, 100]);
    const view = groupView(routeObs([regionObs('a', 0, { healthy: false }), regionObs('b', 100, { remote: true })]), [0, 1], [false, true], [true, false]);
    expect(view.serving).toBe(1);
    expect(view.open).toEqual([false, true]);
  });

  it('keeps no region at the floor whose latency alone breaks the objective (not saturated)', () => {
    const r = guard(input([90, 10], [100, 0], { regions: [{}, { latencyP99Ms: 300, saturation: 0.1 }] }));
    expect(weightsOf(r)).toEqual([100, 0]);
    expect(r.rules).not.toContain(GUARD_RULES.floor);
    // The same region overloaded rather than far is still probed at the floor.
    const busy = guard(input([90, 10], [100, 0], { regions: [{}, { latencyP99Ms: 300, saturation: 0.95 }] }));
    expect(weightsOf(busy)).toEqual([95, 5]);
  });
});

describe('guard: when every region fails', () => {
  it('spreads by the share of requests each still answers: a dead region gets little', () => {
    const r = guard(input([50, 50], [100, 0], { spec: { maxWeightStep: 100 }, regions: [{ healthy: false, errorRate: 0.98 }, { healthy: false, errorRate: 0.4 }] }));
    // 0.02 : 0.6 of the traffic.
    expect(weightsOf(r)).toEqual([3, 97]);
    expect(r.rules).toContain(GUARD_RULES.spread);
  });
});

describe('guard: capacity', () => {
  it('puts no more load on a region than its headroom takes: share × 85% / saturation', () => {
    // us-east carries 40% of the load at 60% saturation: it can carry 40 × 0.85 / 0.6 ≈ 57%.
    const r = guard(input([60, 40], [0, 100], { spec: { maxWeightStep: 50 }, regions: [{}, { saturation: 0.6 }] }));
    expect(weightsOf(r)).toEqual([43, 57]);
    expect(r.rules).toContain(GUARD_RULES.capacity);
    expect(r.reason).toContain('capacity: us-east held to 57% (60% saturated at 40% of the load)');
  });

  it('gives no more traffic to a region whose p99 is climbing towards the objective', () => {
    const r = guard(input([50, 50], [20, 80], { regions: [{}, { latencyP99Ms: 150, latencyP99Trend: 0.4 }] }));
    expect(weightsOf(r)).toEqual([50, 50]);
    expect(r.reason).toContain('us-east held to 50% (its p99 is climbing)');
  });

  it('gives way when every region is near capacity: the traffic has to go somewhere', () => {
    const r = guard(input([50, 50], [0, 100], { regions: [{ healthy: false }, { saturation: 0.95 }] }));
    expect(weightsOf(r)).toEqual([0, 100]);
  });

  it('takes load off an overloaded region by bounded steps when the others cannot take its load at once', () => {
    // us-east sheds a third of its tries at 130% saturation; eu-west, 70% saturated at half the
    // load, has room for about 11 points more. Draining us-east at once would overload eu-west
    // (a cascade): us-east keeps traffic, 10 points come off it, and eu-west takes them.
    const overloaded = { saturation: 1.3, errorRate: 0.33 };
    const r = guard(input([50, 50], [50, 50], { regions: [{ saturation: 0.7 }, overloaded] }));
    expect(weightsOf(r)).toEqual([60, 40]);
    expect(r.rules).not.toContain(GUARD_RULES.healthOverride);
    expect(r.state.probation ?? []).toEqual([]);
    // When eu-west has the room (30% saturated), us-east is failing and drained at once.
    const roomy = guard(input([50, 50], [50, 50], { regions: [{ saturation: 0.3 }, overloaded] }));
    expect(weightsOf(roomy)).toEqual([100, 0]);
    expect(roomy.rules).toContain(GUARD_RULES.healthOverride);
  });

  it('always lets the policy take load away', () => {
    const r = guard(input([50, 50], [60, 40], { regions: [{}, { saturation: 0.99 }] }));
    expect(weightsOf(r)).toEqual([60, 40]);
  });
});

describe('guard: per-try timeout floor', () => {
  it('never lets the per-try timeout fall below the latency objective (within the spec bounds), and says so', () => {
    const r = guard(input([50, 50], [50, 50], { perTry: 120 }));
    expect(r.perTryTimeoutMs).toBe(250);
    expect(r.rules).toContain(GUARD_RULES.perTryFloor);
    expect(r.reason).toContain('per-try timeout 120ms→250ms (not below the 250ms objective)');
    expect(guard(input([50, 50], [50, 50], { perTry: 400 })).perTryTimeoutMs).toBe(400);
  });
});

describe('guard: where a step-capped move takes load from', () => {
  it('takes it off the regions that break an objective first', () => {
    // eu-west may gain only 10 points; us-east (p99 900 ms) gives them all, ap-south keeps its share.
    const r = guard(input([20, 40, 40], [100, 0, 0], { regions: [{}, { latencyP99Ms: 900 }, {}] }));
    expect(weightsOf(r)).toEqual([30, 30, 40]);
  });
});

describe('guard: retry budget', () => {
  it('counts the expected retries of n attempts: e + e² + … + eⁿ', () => {
    expect(expectedRetries(0.5, 3)).toBeCloseTo(0.875);
    expect(expectedRetries(0, 3)).toBe(0);
  });

  it('cuts the attempts to what fits 20% of requests + 10/s when many tries fail', () => {
    // 30% of tries fail on the busy route (1,000 rps): one retry adds 0.3 per request, over 0.21.
    const r = guard(input([50, 50], [60, 40], { retries: 3, regions: [{ errorRate: 0.3 }, { errorRate: 0.3 }] }));
    expect(r.retryAttempts).toBe(0);
    expect(r.rules).toContain(GUARD_RULES.retryBudget);
    expect(r.reason).toContain('retry budget: 3→0 attempts (30% of tries failing');
    // 10% failing: 0.1 + 0.01 + 0.001 fits.
    expect(guard(input([50, 50], [60, 40], { retries: 3, regions: [{ errorRate: 0.1 }, { errorRate: 0.1 }] })).retryAttempts).toBe(3);
  });

  it('shrinks to 1% of requests while a region carrying traffic is saturated: a storm is cut, the odd failure still retried', () => {
    const storm = routeObs([regionObs('a', 50, { saturation: 0.95, errorRate: 0.05 }), regionObs('b', 50, { errorRate: 0.05 })]);
    expect(retryBudget(storm, [50, 50])).toEqual({ maxAttempts: 0, why: '5% of tries failing: 0 attempt(s) keep retries within 1% of requests while a saturated' });
    expect(retryBudget(storm, [0, 100]).maxAttempts).toBe(3);
    // 0.2% of tries failing on a busy, healthy region: three attempts add 0.2% load and keep the errors within objective.
    const busy = routeObs([regionObs('a', 50, { saturation: 0.95, errorRate: 0.002 }), regionObs('b', 50, { errorRate: 0.002 })]);
    expect(retryBudget(busy, [50, 50]).maxAttempts).toBe(3);
    const blind = routeObs([regionObs('a', 50, { saturation: 0.95, errorRate: null }), regionObs('b', 50, { errorRate: null })]);
    expect(retryBudget(blind, [50, 50]).maxAttempts).toBe(0);
  });

  it('lets a quiet route retry: the 10/s floor', () => {
    const o = routeObs([regionObs('a', 100, { errorRate: 0.3, requestRate: 10 })]);
    expect(retryBudget(o, [100]).maxAttempts).toBe(3);
  });
});

describe('guard: recovery is observed', () => {
  it('puts a region failing by its error rate on probation: no floor, and no more traffic while on probation', () => {
    const first = guard(input([50, 50], [50, 50], { regions: [{}, { errorRate: 0.5 }] }));
    expect(weightsOf(first)).toEqual([100, 0]);
    expect(first.state.probation).toEqual([{ region: 'us-east', untilStep: 1 + PROBATION_BASE_DECISIONS, backoff: PROBATION_BASE_DECISIONS, failing: true }]);
    // Drained, its error rate is unknown now; on probation, the policy cannot put it back yet.
    let state: GuardState = first.state;
    const unknown = { errorRate: null, latencyP99Ms: null, latencyP90Ms: null, latencyP50Ms: null, requestRate: 0, saturation: 0 };
    for (let k = 0; k < PROBATION_BASE_DECISIONS - 1; k++) {
      const r = guard(input([100, 0], [50, 50], { state, regions: [{}, unknown] }));
      expect(weightsOf(r)).toEqual([100, 0]);
      state = r.state;
    }
    // Probation over: a trickle (the floor), not the 50% the policy asks for, until it is measured.
    const probe = guard(input([100, 0], [50, 50], { state, regions: [{}, unknown] }));
    expect(weightsOf(probe)).toEqual([95, 5]);
    expect(probe.reason).toContain('us-east held to 5% (failed recently and not measured since: a trickle first)');
    // Measured and well: it may take more, by steps.
    const well = guard(input([95, 5], [50, 50], { state: probe.state, regions: [{}, { saturation: 0.05 }] }));
    expect(weightsOf(well)).toEqual([85, 15]);
  });

  it('lets probation give way while every region carrying traffic breaks an objective: trying the other back costs nothing', () => {
    const first = guard(input([50, 50], [50, 50], { regions: [{}, { errorRate: 0.5 }] }));
    const unknown = { errorRate: null, latencyP99Ms: null, latencyP90Ms: null, latencyP50Ms: null, requestRate: 0, saturation: 0 };
    // eu-west, serving alone, is within its objectives: us-east stays out while on probation.
    expect(weightsOf(guard(input([100, 0], [50, 50], { state: first.state, regions: [{}, unknown] })))).toEqual([100, 0]);
    // eu-west breaks the latency objective: us-east gets its trickle at once.
    const slow = guard(input([100, 0], [50, 50], { state: first.state, regions: [{ latencyP99Ms: 900 }, unknown] }));
    expect(weightsOf(slow)).toEqual([95, 5]);
    expect(slow.reason).toContain('us-east held to 5% (failed recently and not measured since: a trickle first)');
  });
});
