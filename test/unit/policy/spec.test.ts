import { readFileSync } from 'node:fs';
import {
  ACTION_SIZE,
  decodeAction,
  encodeAction,
  encodeObservation,
  MAX_REGIONS,
  OBSERVATION_SIZE,
  POLICY_SPEC_VERSION,
  REGION_FEATURES,
  ROUTE_FEATURES,
  type RouteObservation,
} from '../../../operator/policy/spec.ts';

const GOLDEN = new URL('./spec-golden-v1.json', import.meta.url);

/** Two regions: eu-west healthy and fresh, us-east slow, remote, stale with missing quantiles. */
export function goldenObservation(): RouteObservation {
  return {
    regions: [
      {
        region: 'eu-west', latencyP50Ms: 20, latencyP90Ms: 80, latencyP99Ms: 200, errorRate: 0.002, requestRate: 300,
        saturation: 0.5, weightPercent: 70, healthy: true, remote: false, fresh: true, requestRateTrend: 0.1, latencyP99Trend: -0.2,
      },
      {
        region: 'us-east', latencyP50Ms: null, latencyP90Ms: null, latencyP99Ms: 900, errorRate: 0.05, requestRate: 100,
        saturation: null, weightPercent: 30, healthy: false, remote: true, fresh: false, requestRateTrend: null, latencyP99Trend: 3,
      },
    ],
    objectives: { latencyP99Ms: 250, maxErrorRate: 0.01, crossRegionCostWeight: 0.2 },
    retryAttempts: 2,
    retryBounds: { min: 0, max: 4 },
    perTryTimeoutMs: 300,
    perTryBoundsMs: { min: 100, max: 1100 },
  };
}

describe('policy spec v1', () => {
  it('has the shape every model of this version was trained on', () => {
    expect(POLICY_SPEC_VERSION).toBe('meshpilot.policy/v1');
    expect(OBSERVATION_SIZE).toBe(MAX_REGIONS * REGION_FEATURES.length + ROUTE_FEATURES.length);
    expect([MAX_REGIONS, REGION_FEATURES.length, ROUTE_FEATURES.length, OBSERVATION_SIZE, ACTION_SIZE]).toEqual([8, 13, 8, 112, 10]);
  });

  it('encodes the golden observation to the pinned vector (a change here is a new spec version)', () => {
    const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { version: string; vector: number[] };
    expect(golden.version).toBe(POLICY_SPEC_VERSION);
    const vector = Array.from(encodeObservation(goldenObservation()));
    expect(vector).toHaveLength(golden.vector.length);
    vector.forEach((v, i) => expect([i, v]).toEqual([i, expect.closeTo(golden.vector[i]!, 6)]));
  });

  it('marks absent regions and absent values with zeros, and flags presence and freshness', () => {
    const v = encodeObservation(goldenObservation());
    const F = REGION_FEATURES.length;
    const at = (region: number, feature: (typeof REGION_FEATURES)[number]) => v[region * F + REGION_FEATURES.indexOf(feature)];
    expect([at(0, 'present'), at(1, 'present'), at(2, 'present')]).toEqual([1, 1, 0]);
    expect(at(1, 'latencyP50')).toBe(0);
    expect(at(1, 'fresh')).toBe(0);
    expect(at(1, 'health')).toBe(-1);
    expect(at(1, 'latencyP99Trend')).toBe(1); // clipped
    expect(at(0, 'latencyP99')).toBeCloseTo(Math.log2(1 + 200 / 250), 6);
    expect(at(0, 'loadShare')).toBeCloseTo(0.75, 6);
    for (let i = 2 * F; i < MAX_REGIONS * F; i++) expect(v[i]).toBe(0);
  });

  it('writes into a batch at an offset without touching its neighbours', () => {
    const batch = new Float32Array(3 * OBSERVATION_SIZE).fill(7);
    encodeObservation(goldenObservation(), batch, OBSERVATION_SIZE);
    expect(batch[OBSERVATION_SIZE - 1]).toBe(7);
    expect(batch[2 * OBSERVATION_SIZE]).toBe(7);
    expect(Array.from(batch.subarray(OBSERVATION_SIZE, 2 * OBSERVATION_SIZE))).toEqual(Array.from(encodeObservation(goldenObservation())));
  });

  it('refuses NaN and infinite values naming the field, and region counts it cannot serve', () => {
    const nan = goldenObservation();
    nan.regions[1]!.latencyP99Ms = Number.NaN;
    expect(() => encodeObservation(nan)).toThrow('observation regions[1].latencyP99Ms: NaN is not a finite number');
    const inf = goldenObservation();
    inf.regions[0]!.requestRate = Infinity;
    expect(() => encodeObservation(inf)).toThrow('observation regions[0].requestRate');
    expect(() => encodeObservation({ ...goldenObservation(), regions: [] })).toThrow('1 to 8');
    const nine = goldenObservation();
    nine.regions = Array.from({ length: 9 }, () => goldenObservation().regions[0]!);
    expect(() => encodeObservation(nine)).toThrow('9 regions');
  });

  it('decodes the zero action to what is in force, whatever the regions', () => {
    const o = goldenObservation();
    const held = decodeAction(new Float32Array(ACTION_SIZE), o);
    // 70/30 with the 0.2% prior floor: (0.702, 0.302) normalised.
    expect(held.weights[0]).toBeCloseTo(0.702 / 1.004, 6);
    expect(held.weights[1]).toBeCloseTo(0.302 / 1.004, 6);
    expect(held.retryAttempts).toBe(2);
    expect(held.perTryTimeoutMs).toBe(300);
    // Also at a bound.
    const atMax = { ...o, retryAttempts: 4, perTryTimeoutMs: 1100 };
    expect(decodeAction(new Float32Array(ACTION_SIZE), atMax)).toMatchObject({ retryAttempts: 4, perTryTimeoutMs: 1100 });
  });

  it('decodes weights over the present regions only, and the scalars within the spec bounds', () => {
    const o = goldenObservation();
    const raw = new Float32Array(ACTION_SIZE);
    raw[1] = Math.log((3 * 0.702) / 0.302); // us-east three times eu-west
    raw[2] = 50; // an absent slot: ignored
    raw[8] = 100; // as far up as the bounds allow
    raw[9] = -100; // as far down
    const a = decodeAction(raw, o);
    expect(a.weights).toHaveLength(2);
    expect(a.weights[0]).toBeCloseTo(0.25, 5);
    expect(a.weights[1]).toBeCloseTo(0.75, 5);
    expect(a.retryAttempts).toBe(4);
    expect(a.perTryTimeoutMs).toBe(100);
    expect(() => decodeAction(new Float32Array(3), o)).toThrow('action: 3 values');
    expect(() => decodeAction(Object.assign(new Float32Array(ACTION_SIZE), { 4: Number.NaN }), o)).toThrow('action[4]');
  });

  it('round-trips an action through encodeAction and decodeAction', () => {
    const o = goldenObservation();
    const action = { weights: [0.6, 0.4], retryAttempts: 3, perTryTimeoutMs: 600 };
    const back = decodeAction(encodeAction(action, o), o);
    expect(back.weights[0]).toBeCloseTo(0.6, 5);
    expect(back.retryAttempts).toBe(3);
    expect(back.perTryTimeoutMs).toBe(600);
  });
});
