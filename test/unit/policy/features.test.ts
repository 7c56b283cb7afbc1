// The policy contract v2 (operator/policy/spec.ts): one row per region, a shared network,
// pooled outputs, and a residual on the heuristic. The golden vector is pinned in
// features-golden-v2.json; regenerating it is an explicit act (a change is a new spec version):
//
//   UPDATE_GOLDEN=1 npm run jest -- test/unit/policy/spec.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { heuristicAction } from '../../../operator/policy/heuristic.ts';
import {
  ACTION_SIZE,
  decodeAction,
  encodeAction,
  encodeObservation,
  MAX_REGIONS,
  MODEL_OUTPUT_SIZE,
  OBSERVATION_SIZE,
  POLICY_SPEC_VERSION,
  poolRegionOutputs,
  REGION_FEATURES,
  ROUTE_FEATURES,
  ROW_SIZE,
  type RouteObservation,
} from '../../../operator/policy/features.ts';

const GOLDEN = fileURLToPath(new URL('./features-golden-v2.json', import.meta.url));

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

describe('policy spec v2', () => {
  it('has the shape every model of this version was trained on', () => {
    expect(POLICY_SPEC_VERSION).toBe('meshpilot.policy/v2');
    expect(ROW_SIZE).toBe(REGION_FEATURES.length + ROUTE_FEATURES.length);
    expect(OBSERVATION_SIZE).toBe(MAX_REGIONS * ROW_SIZE);
    expect([MAX_REGIONS, REGION_FEATURES.length, ROUTE_FEATURES.length, ROW_SIZE, OBSERVATION_SIZE, MODEL_OUTPUT_SIZE, ACTION_SIZE]).toEqual([8, 18, 10, 28, 224, 3, 10]);
  });

  it('encodes the golden observation to the pinned vector (a change here is a new spec version)', () => {
    const vector = Array.from(encodeObservation(goldenObservation()));
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
      writeFileSync(GOLDEN, `${JSON.stringify({ version: POLICY_SPEC_VERSION, vector: vector.map((v) => Number(v.toPrecision(8))) })}\n`);
    }
    const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { version: string; vector: number[] };
    expect(golden.version).toBe(POLICY_SPEC_VERSION);
    expect(vector).toHaveLength(golden.vector.length);
    vector.forEach((v, i) => expect([i, v]).toEqual([i, expect.closeTo(golden.vector[i]!, 6)]));
  });

  it('writes one row per region, zero rows after them, and the route features and pooled facts in every row', () => {
    const v = encodeObservation(goldenObservation());
    const at = (region: number, feature: (typeof REGION_FEATURES)[number]) => v[region * ROW_SIZE + REGION_FEATURES.indexOf(feature)];
    const route = (region: number, feature: (typeof ROUTE_FEATURES)[number]) => v[region * ROW_SIZE + REGION_FEATURES.length + ROUTE_FEATURES.indexOf(feature)];
    expect([at(0, 'present'), at(1, 'present'), at(2, 'present')]).toEqual([1, 1, 0]);
    expect(at(1, 'latencyP50')).toBe(0);
    expect(at(1, 'fresh')).toBe(0);
    expect(at(1, 'health')).toBe(-1);
    expect(at(1, 'latencyP99Trend')).toBe(1); // clipped
    expect(at(0, 'latencyP99')).toBeCloseTo(Math.log2(1 + 200 / 250), 6);
    expect(at(0, 'loadShare')).toBeCloseTo(0.75, 6);
    // Pooled over the others: eu-west sees us-east's 900 ms (over the objective, not within); us-east sees eu-west's 200 ms, within.
    expect(at(0, 'othersBestLatencyP99')).toBeCloseTo(Math.log2(1 + 900 / 250), 6);
    expect(at(0, 'othersWithinObjectives')).toBe(0);
    expect(at(1, 'othersBestLatencyP99')).toBeCloseTo(Math.log2(1 + 200 / 250), 6);
    expect(at(1, 'othersWithinObjectives')).toBe(1);
    expect(at(0, 'regionCount')).toBe(2 / MAX_REGIONS);
    // The heuristic's proposal: what heuristicAction gives, in each row.
    const h = heuristicAction(goldenObservation()).action;
    expect(at(0, 'heuristicWeight')).toBeCloseTo(h.weights[0]!, 6);
    expect(at(1, 'heuristicStep')).toBeCloseTo(h.weights[1]! - 0.3, 6);
    for (const f of ROUTE_FEATURES) expect(route(1, f)).toBe(route(0, f));
    expect(route(0, 'retryAttempts')).toBe(0.5);
    for (let i = 2 * ROW_SIZE; i < OBSERVATION_SIZE; i++) expect(v[i]).toBe(0);
  });

  it('reads a region the same in any slot: reordering the regions reorders the rows and nothing else', () => {
    const o = goldenObservation();
    const reversed = { ...o, regions: [...o.regions].reverse() };
    const a = encodeObservation(o), b = encodeObservation(reversed);
    expect(Array.from(b.subarray(0, ROW_SIZE))).toEqual(Array.from(a.subarray(ROW_SIZE, 2 * ROW_SIZE)));
    expect(Array.from(b.subarray(ROW_SIZE, 2 * ROW_SIZE))).toEqual(Array.from(a.subarray(0, ROW_SIZE)));
    // And an action read in one order is the same action in the other.
    const raw = Float32Array.from([0.7, -0.4, 0, 0, 0, 0, 0, 0, 0.3, -0.2]);
    const swapped = Float32Array.from([-0.4, 0.7, 0, 0, 0, 0, 0, 0, 0.3, -0.2]);
    const x = decodeAction(raw, o), y = decodeAction(swapped, reversed);
    expect(y.weights[0]).toBeCloseTo(x.weights[1]!, 9);
    expect(y.weights[1]).toBeCloseTo(x.weights[0]!, 9);
    expect([y.retryAttempts, y.perTryTimeoutMs]).toEqual([x.retryAttempts, x.perTryTimeoutMs]);
  });

  it('pools per-row outputs: each present region its own logit, the scalars the mean of the present rows\' votes', () => {
    const obs = new Float32Array(2 * OBSERVATION_SIZE);
    encodeObservation(goldenObservation(), obs, 0);
    const three = { ...goldenObservation(), regions: [...goldenObservation().regions, goldenObservation().regions[0]!] };
    encodeObservation(three, obs, OBSERVATION_SIZE);
    const outputs = new Float32Array(2 * MAX_REGIONS * MODEL_OUTPUT_SIZE).map((_, k) => k + 1); // absent rows too, which must not count
    const raw = poolRegionOutputs(outputs, obs, 2);
    const row = (route: number, slot: number, out: number) => (route * MAX_REGIONS + slot) * MODEL_OUTPUT_SIZE + out + 1;
    expect(Array.from(raw.subarray(0, ACTION_SIZE))).toEqual([row(0, 0, 0), row(0, 1, 0), 0, 0, 0, 0, 0, 0, (row(0, 0, 1) + row(0, 1, 1)) / 2, (row(0, 0, 2) + row(0, 1, 2)) / 2]);
    expect(raw[ACTION_SIZE + 2]).toBe(row(1, 2, 0));
    expect(raw[ACTION_SIZE + 3]).toBe(0);
    expect(raw[2 * ACTION_SIZE - 2]).toBeCloseTo((row(1, 0, 1) + row(1, 1, 1) + row(1, 2, 1)) / 3, 5);
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

  it('decodes the zero action to the heuristic\'s action exactly, whatever the regions', () => {
    for (const o of [goldenObservation(), { ...goldenObservation(), retryAttempts: 4, perTryTimeoutMs: 1100 }]) {
      const h = heuristicAction(o).action;
      const zero = decodeAction(new Float32Array(ACTION_SIZE), o);
      zero.weights.forEach((w, i) => expect(w).toBeCloseTo(h.weights[i]!, 12));
      expect([zero.retryAttempts, zero.perTryTimeoutMs]).toEqual([h.retryAttempts, h.perTryTimeoutMs]);
    }
    // A region the heuristic leaves at 0% can still be given a share, with a finite logit.
    const o = goldenObservation();
    const base = { weights: [1, 0], retryAttempts: 2, perTryTimeoutMs: 300 };
    const raw = encodeAction({ weights: [0.8, 0.2], retryAttempts: 2, perTryTimeoutMs: 300 }, o, base);
    expect(Number.isFinite(raw[1])).toBe(true);
    expect(decodeAction(raw, o, base).weights[1]).toBeCloseTo(0.2, 6);
  });

  it('decodes weights over the present regions only, and the scalars within the spec bounds', () => {
    const o = goldenObservation();
    const base = { weights: [0.5, 0.5], retryAttempts: 2, perTryTimeoutMs: 300 };
    const raw = new Float32Array(ACTION_SIZE);
    raw[1] = Math.log(3); // us-east three times eu-west (before the lift comes off)
    raw[2] = 50; // an absent slot: ignored
    raw[8] = 100; // as far up as the bounds allow
    raw[9] = -100; // as far down
    const a = decodeAction(raw, o, base);
    expect(a.weights).toHaveLength(2);
    expect(a.weights[0]! + a.weights[1]!).toBeCloseTo(1, 9);
    expect(a.weights[1]! / a.weights[0]!).toBeGreaterThan(2.9);
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
