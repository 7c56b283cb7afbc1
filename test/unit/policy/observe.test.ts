import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../operator/base/errors.ts';
import { observationFromSnapshot, type CurrentIntent } from '../../../operator/policy/observe.ts';
import { encodeObservation } from '../../../operator/policy/features.ts';
import { makeRoute, makeSnapshot } from './fixtures.ts';

const route = makeRoute(
  'checkout',
  [
    { region: 'eu-west', weight: 70 },
    { region: 'us-east', weight: 30, priority: 1 },
    { region: 'ap-south', weight: 0, priority: 2 },
  ],
  {
    objectives: { latencyP99: '300ms', maxErrorRate: 0.02, crossRegionCostWeight: 0.4 },
    retries: { attempts: { min: 1, max: 4 }, perTryTimeout: { min: '50ms', max: '1s500ms' } },
  },
);
const current: CurrentIntent = {
  weights: [
    { region: 'us-east', weight: 30 },
    { region: 'eu-west', weight: 70 },
  ],
  retryAttempts: 2,
  perTryTimeoutMs: 400,
};

describe('observationFromSnapshot', () => {
  it('lists regions in spec order with the snapshot values, weights in force, home and remote', () => {
    const snapshot = makeSnapshot('shop/checkout', [
      { region: 'ap-south', p99: 500 },
      { region: 'eu-west', p50: 30, p90: 70, p99: 110, errorRate: 0.002, requestRate: 700, saturation: 0.5, rateTrend: 0.1, p99Trend: -0.2 },
      { region: 'us-east', p99: 180, healthy: false },
    ]);
    const o = observationFromSnapshot(route, snapshot, current);
    expect(o.regions.map((r) => [r.region, r.weightPercent, r.remote])).toEqual([
      ['eu-west', 70, false],
      ['us-east', 30, true],
      ['ap-south', 0, true],
    ]);
    expect(o.regions[0]).toEqual({
      region: 'eu-west',
      latencyP50Ms: 30,
      latencyP90Ms: 70,
      latencyP99Ms: 110,
      errorRate: 0.002,
      requestRate: 700,
      saturation: 0.5,
      weightPercent: 70,
      healthy: true,
      remote: false,
      fresh: true,
      requestRateTrend: 0.1,
      latencyP99Trend: -0.2,
    });
    expect(o.regions[1]!.healthy).toBe(false);
    expect(o.regions[2]!.latencyP99Ms).toBe(500);
  });

  it('takes bounds and objectives from the spec and the retry settings from what is served', () => {
    const o = observationFromSnapshot(route, undefined, current);
    expect(o.objectives).toEqual({ latencyP99Ms: 300, maxErrorRate: 0.02, crossRegionCostWeight: 0.4 });
    expect(o.retryBounds).toEqual({ min: 1, max: 4 });
    expect(o.perTryBoundsMs).toEqual({ min: 50, max: 1500 });
    expect(o.retryAttempts).toBe(2);
    expect(o.perTryTimeoutMs).toBe(400);
  });

  it('keeps the last value of stale readings but marks the region not fresh', () => {
    const snapshot = makeSnapshot('shop/checkout', [
      { region: 'eu-west', p99: 140, fresh: false },
      { region: 'us-east' },
      { region: 'ap-south' },
    ]);
    const o = observationFromSnapshot(route, snapshot, current);
    expect(o.regions[0]).toMatchObject({ latencyP99Ms: 140, fresh: false });
    expect(o.regions[1]!.fresh).toBe(true);
  });

  it('reads a live region as it is now: a stale reading is unknown, and a drained region has no error rate or latency', () => {
    const snapshot = makeSnapshot('shop/checkout', [{ region: 'eu-west' }, { region: 'us-east', requestRate: 0, errorRate: 0.6, p99: 900, saturation: 0 }, { region: 'ap-south' }]);
    // A drained region (rate 0, still reported) keeps no error rate from when it had traffic.
    const stale = { ...snapshot.regions[0]!.signals.errorRate, fresh: false, ageMs: 120_000 };
    snapshot.regions[0]!.signals.errorRate = stale;
    const o = observationFromSnapshot(route, snapshot, current);
    expect(o.regions[0]).toMatchObject({ errorRate: null, latencyP99Ms: 120, fresh: true });
    expect(o.regions[1]).toMatchObject({ requestRate: 0, errorRate: null, latencyP99Ms: null, latencyP50Ms: null, saturation: 0, latencyP99Trend: null, fresh: true });
  });

  it('makes absent readings null, never 0, and a region missing from the snapshot absent and stale', () => {
    const snapshot = makeSnapshot('shop/checkout', [
      { region: 'eu-west', p99: null, errorRate: null, saturation: null },
      { region: 'us-east' },
    ]);
    const o = observationFromSnapshot(route, snapshot, current);
    expect(o.regions[0]).toMatchObject({ latencyP99Ms: null, errorRate: null, saturation: null, latencyP50Ms: 40, fresh: true });
    expect(o.regions[2]).toMatchObject({ region: 'ap-south', latencyP50Ms: null, latencyP99Ms: null, requestRate: null, healthy: null, fresh: false, weightPercent: 0 });
    // And the spec's encoding accepts it.
    expect(() => encodeObservation(o)).not.toThrow();
  });

  it('sees every region stale when there is no snapshot yet', () => {
    const o = observationFromSnapshot(route, undefined, current);
    expect(o.regions.every((r) => !r.fresh && r.latencyP99Ms === null && r.healthy === null)).toBe(true);
  });

  it('refuses a snapshot of another route, naming it', () => {
    expect(() => observationFromSnapshot(route, makeSnapshot('shop/other', []), current)).toThrow(ConfigError);
    expect(() => observationFromSnapshot(route, makeSnapshot('shop/other', []), current)).toThrow('snapshot route: "shop/other" is not the route being decided ("shop/checkout")');
  });

  it('is pure: its inputs are left as they were', () => {
    const snapshot = makeSnapshot('shop/checkout', [{ region: 'eu-west' }]);
    const copies = JSON.stringify([route, snapshot, current]);
    observationFromSnapshot(route, snapshot, current);
    expect(JSON.stringify([route, snapshot, current])).toBe(copies);
  });
});
