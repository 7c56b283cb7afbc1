import { describe, expect, it } from '@jest/globals';
import { heuristicAction } from '../../../operator/policy/heuristic.ts';
import { regionObs, routeObs } from './fixtures.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('heuristicAction', () => {
  it('moves weight halfway toward shares proportional to 1 / latency', () => {
    const o = routeObs([regionObs('eu-west', 50, { latencyP99Ms: 100 }), regionObs('us-east', 50, { latencyP99Ms: 200 })]);
    const { action, reason } = heuristicAction(o);
    // Target 2/3 : 1/3, half the way from 1/2 : 1/2.
    expect(action.weights[0]).toBeCloseTo((0.5 + 2 / 3) / 2, 6);
    expect(sum(action.weights)).toBeCloseTo(1, 9);
    expect(reason).toContain('weights toward eu-west=67,us-east=33 (∝ 1/latency with failure accrual, home regions first)');
  });

  it('cuts a region over the error budget by how far over it is, and gives none to one failing half its requests', () => {
    // Without retries a try's error is the request's: same latency, us-east at 5x the 1% budget scores 1/5, target 5/6 : 1/6.
    const accrual = heuristicAction(routeObs([regionObs('eu-west', 50), regionObs('us-east', 50, { errorRate: 0.05 })], { retryAttempts: 0 }));
    expect(accrual.action.weights[0]).toBeCloseTo((0.5 + 5 / 6) / 2, 6);
    // With two retries in force only 0.05³ of requests fail: within the budget, nothing to cut.
    const retried = heuristicAction(routeObs([regionObs('eu-west', 50), regionObs('us-east', 50, { errorRate: 0.05 })]));
    expect(retried.action.weights[0]).toBeCloseTo(0.5, 6);
    const dead = heuristicAction(routeObs([regionObs('eu-west', 50), regionObs('us-east', 50, { errorRate: 0.6 })]));
    expect(dead.action.weights[1]).toBeCloseTo(0.25, 6);
    const unhealthy = heuristicAction(routeObs([regionObs('eu-west', 50), regionObs('us-east', 50, { healthy: false })]));
    expect(unhealthy.action.weights[1]).toBeCloseTo(0.25, 6);
  });

  it('gives no share to a region whose p99 alone breaks the objective while the regions within it have the headroom, and spreads when they have not', () => {
    // Objective 250 ms: us-east at 320 ms would make the route's p99 break it with any share over a percent.
    const slow = (saturation: number) =>
      heuristicAction(routeObs([regionObs('eu-west', 60, { latencyP99Ms: 100, saturation }), regionObs('us-east', 40, { latencyP99Ms: 320 })]));
    // eu-west at 40% saturation serving 600 rps can take 600 × (0.9 / 0.4 − 1) = 750 more: us-east's 400 fit.
    const drained = slow(0.4);
    expect(drained.action.weights[1]).toBeCloseTo(0.2, 6); // halfway from 40% to 0
    expect(drained.reason).toContain('none to us-east: p99 over the objective while regions within it have the headroom');
    // At 80% it can take 600 × (0.9 / 0.8 − 1) = 75: not enough, so shares stay ∝ 1/latency.
    const spread = slow(0.8);
    expect(spread.action.weights[1]).toBeCloseTo((0.4 + 100 / 420) / 2, 6);
    expect(spread.reason).not.toContain('none to');
  });

  it('gives a region never measured only a probe share while a measured one is usable, and keeps the per-try timeout at the objective or above', () => {
    const unknown = { latencyP50Ms: null, latencyP90Ms: null, latencyP99Ms: null, errorRate: null };
    const o = routeObs([regionObs('eu-west', 100, { latencyP99Ms: 300 }), regionObs('us-east', 0, unknown)], { perTryTimeoutMs: 150 });
    const { action } = heuristicAction(o);
    // Target 95 : 5, half way from 100 : 0.
    expect(action.weights[1]).toBeCloseTo(0.025, 6);
    expect(action.perTryTimeoutMs).toBe(450);
    const fast = routeObs([regionObs('eu-west', 100, { latencyP99Ms: 40 })], { perTryTimeoutMs: 150 });
    expect(heuristicAction(fast).action.perTryTimeoutMs).toBe(250);
  });

  it('keeps traffic home while a home region meets the objectives, and spills to remote regions only when none does', () => {
    const calm = routeObs([regionObs('eu-west', 100, { latencyP99Ms: 200 }), regionObs('us-east', 0, { latencyP99Ms: 50, remote: true })]);
    expect(heuristicAction(calm).action.weights).toEqual([1, 0]);
    const slow = routeObs([regionObs('eu-west', 100, { latencyP99Ms: 500 }), regionObs('us-east', 0, { latencyP99Ms: 100, remote: true })]);
    const { action, reason } = heuristicAction(slow);
    expect(action.weights[1]).toBeGreaterThan(0.3);
    expect(reason).toContain('spilling to remote regions');
  });

  it('holds the current weights without latency data, or when no region is usable', () => {
    const blind = routeObs([regionObs('eu-west', 70, { latencyP50Ms: null, latencyP90Ms: null, latencyP99Ms: null }), regionObs('us-east', 30, { latencyP50Ms: null, latencyP90Ms: null, latencyP99Ms: null })]);
    expect(heuristicAction(blind)).toEqual({ action: { weights: [0.7, 0.3], retryAttempts: 2, perTryTimeoutMs: 500 }, reason: 'heuristic holds: no latency data' });
    const down = routeObs([regionObs('eu-west', 70, { healthy: false }), regionObs('us-east', 30, { healthy: false })]);
    expect(heuristicAction(down).reason).toMatch(/^heuristic holds: no region is usable/);
  });

  it('keeps retries within the budget (1% of requests while a serving region saturates), and adds one when errors are over budget with capacity to spare', () => {
    const saturated = heuristicAction(routeObs([regionObs('eu-west', 100, { saturation: 0.95, errorRate: 0.05 })]));
    expect(saturated.action.retryAttempts).toBe(0);
    expect(saturated.reason).toContain('retries 2→0: 5% of tries failing: 0 attempt(s) keep retries within 1% of requests while eu-west saturated');
    expect(heuristicAction(routeObs([regionObs('eu-west', 100, { saturation: 0.95, errorRate: 0.001 })])).action.retryAttempts).toBe(2);
    const erring = heuristicAction(routeObs([regionObs('eu-west', 100, { errorRate: 0.03 })]));
    expect(erring.action.retryAttempts).toBe(3);
  });

  it('resets the per-try timeout to 1.5 × p99 when it is outside 1.2–3 × p99, within the bounds', () => {
    const tight = heuristicAction(routeObs([regionObs('eu-west', 100, { latencyP99Ms: 450 })]));
    expect(tight.action.perTryTimeoutMs).toBe(675);
    const fine = heuristicAction(routeObs([regionObs('eu-west', 100, { latencyP99Ms: 300 })]));
    expect(fine.action.perTryTimeoutMs).toBe(500);
  });

  it('is deterministic and treats non-finite values as unknown', () => {
    const o = routeObs([regionObs('eu-west', 50, { latencyP99Ms: Number.NaN }), regionObs('us-east', 50)]);
    const a = heuristicAction(o), b = heuristicAction(o);
    expect(a).toEqual(b);
    expect(a.action.weights.every(Number.isFinite)).toBe(true);
  });
});
