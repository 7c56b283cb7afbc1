import { describe, expect, it } from '@jest/globals';
import { sloStatus } from '../../../operator/policy/slo.ts';
import { fitToBounds, raiseToFloors } from '../../../operator/policy/weights.ts';
import { regionObs, routeObs } from './fixtures.ts';

describe('raiseToFloors', () => {
  it('lifts shares below their floor and scales the rest down proportionally', () => {
    // w = max(5, c·t) with c = 95/99: 9 stays above the floor, scaled like 90.
    const w = raiseToFloors([90, 9, 1], [5, 5, 5]);
    expect(w[0]).toBeCloseTo((90 * 95) / 99, 6);
    expect(w[1]).toBeCloseTo((9 * 95) / 99, 6);
    expect(w[2]).toBe(5);
    expect(raiseToFloors([60, 40], [5, 5])).toEqual([60, 40]);
  });
});

describe('fitToBounds', () => {
  it('finds the closest weights within the bounds that still sum to 100', () => {
    const w = fitToBounds([90, 10], [40, 30], [60, 50]);
    expect(w[0]).toBeCloseTo(60, 6);
    expect(w[1]).toBeCloseTo(40, 6);
  });
});

describe('sloStatus', () => {
  it('weighs region p99s by weight and errors by requests', () => {
    const o = routeObs([regionObs('a', 75, { latencyP99Ms: 200, errorRate: 0.02, requestRate: 100 }), regionObs('b', 25, { latencyP99Ms: 400, errorRate: 0, requestRate: 300 })]);
    expect(sloStatus(o)).toEqual({ state: 'met', p99Ms: 250, errorRate: 0.005, objectiveP99Ms: 250, maxErrorRate: 0.01 });
  });

  it('is breached by either objective and unknown without latency data', () => {
    expect(sloStatus(routeObs([regionObs('a', 100, { latencyP99Ms: 300 })])).state).toBe('breached');
    expect(sloStatus(routeObs([regionObs('a', 100, { errorRate: 0.2 })])).state).toBe('breached');
    expect(sloStatus(routeObs([regionObs('a', 100, { latencyP99Ms: null })])).state).toBe('unknown');
  });
});
