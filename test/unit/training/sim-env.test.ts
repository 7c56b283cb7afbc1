import { ConfigError } from '../../../operator/base/errors.ts';
import { encodeObservation, type PolicyAction, type RouteObservation } from '../../../operator/policy/features.ts';
import type { StepResult } from '../../../training/env.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { DEFAULT_REWARD_WEIGHTS, reward } from '../../../training/sim/reward.ts';
import { threeRegions } from './sim-fixtures.ts';

const SPLIT: PolicyAction = { weights: [0.5, 0.5, 0], retryAttempts: 2, perTryTimeoutMs: 1000 };

function run(env: MeshSimEnv, seed: number, action: (o: RouteObservation, t: number) => PolicyAction = () => SPLIT): { first: RouteObservation; steps: StepResult[] } {
  const first = env.reset(seed);
  const steps: StepResult[] = [];
  let o = first;
  for (let t = 0; ; t++) {
    const r = env.step(action(o, t));
    steps.push(r);
    o = r.observation;
    if (r.done) break;
  }
  return { first, steps };
}

describe('MeshSimEnv observations', () => {
  it('observes the route as serving does: spec order, percent weights, remote = priority above 0, spec bounds', () => {
    const env = new MeshSimEnv(threeRegions());
    const o = env.reset(1);
    expect(o.regions.map((r) => r.region)).toEqual(['eu-west', 'eu-central', 'us-east']);
    expect(o.regions.map((r) => r.weightPercent)).toEqual([50, 50, 0]);
    expect(o.regions.map((r) => r.remote)).toEqual([false, false, true]);
    expect(o.retryBounds).toEqual({ min: 0, max: 2 });
    expect(o.perTryBoundsMs).toEqual({ min: 100, max: 1000 });
    // The static intent: the most retries, the longest timeout split over the tries.
    expect(o.retryAttempts).toBe(2);
    expect(o.perTryTimeoutMs).toBe(1000);
    expect(o.objectives).toEqual({ latencyP99Ms: 250, maxErrorRate: 0.01, crossRegionCostWeight: 0.1 });
    expect(o.regions[0]!.fresh).toBe(true);
    expect(o.regions[0]!.requestRate).toBeCloseTo(300, -1);
    expect(o.regions[0]!.latencyP99Ms).toBeGreaterThan(20);
    // An idle region reports a rate of 0, but no quantiles it never measured.
    expect(o.regions[2]!.requestRate).toBe(0);
    expect(o.regions[2]!.latencyP99Ms).toBeNull();
    expect(() => encodeObservation(o)).not.toThrow();
  });

  it('puts weights into force as whole percents and reports churn', () => {
    const env = new MeshSimEnv(threeRegions());
    env.reset(1);
    const r = env.step({ weights: [1, 1, 1], retryAttempts: 1, perTryTimeoutMs: 400 });
    expect(r.metrics.weights).toEqual([34, 33, 33]);
    expect(r.observation.regions.map((x) => x.weightPercent)).toEqual([34, 33, 33]);
    expect(r.metrics.churn).toBe(33);
    expect(r.observation.retryAttempts).toBe(1);
    expect(r.observation.perTryTimeoutMs).toBe(400);
  });

  it('clamps retries and the per-try timeout into the spec bounds, and refuses actions no data plane could take', () => {
    const env = new MeshSimEnv(threeRegions());
    env.reset(1);
    const r = env.step({ weights: [1, 0, 0], retryAttempts: 9, perTryTimeoutMs: 5 });
    expect(r.observation.retryAttempts).toBe(2);
    expect(r.observation.perTryTimeoutMs).toBe(100);
    expect(() => env.step({ weights: [1, 0], retryAttempts: 0, perTryTimeoutMs: 500 })).toThrow(/action weights: 2 values for a route with 3 regions/);
    expect(() => env.step({ weights: [NaN, 1, 0], retryAttempts: 0, perTryTimeoutMs: 500 })).toThrow(ConfigError);
    expect(() => env.step({ weights: [0, 0, 0], retryAttempts: 0, perTryTimeoutMs: 500 })).toThrow(/all zero/);
  });

  it('reports health turning bad only after the detection delay', () => {
    const env = new MeshSimEnv(threeRegions({ events: [{ kind: 'outage', region: 'eu-west', startSec: 50, durationSec: 100 }] }));
    const { steps } = run(env, 1);
    const at = (sec: number) => steps.find((s) => s.metrics.timeMs === sec * 1000)!;
    expect(at(60).observation.regions[0]!.healthy).toBe(true);
    expect(at(60).metrics.errorRate).toBeGreaterThan(0.3);
    expect(at(70).observation.regions[0]!.healthy).toBe(false);
    expect(at(70).observation.regions[0]!.errorRate).toBeGreaterThan(0.9);
  });

  it('keeps stale telemetry as serving does: last values, not fresh, once older than staleAfter', () => {
    const env = new MeshSimEnv(
      threeRegions({ telemetry: { windowSec: 10, staleAfterSec: 20, noise: 0.05 }, events: [{ kind: 'staleTelemetry', region: 'eu-central', startSec: 100, durationSec: 100 }] }),
    );
    const { steps } = run(env, 1);
    const region = (sec: number) => steps.find((s) => s.metrics.timeMs === sec * 1000)!.observation.regions[1]!;
    expect(region(110).fresh).toBe(true);
    expect(region(130).fresh).toBe(false);
    expect(region(130).requestRate).toBe(region(100).requestRate);
    expect(region(130).latencyP99Ms).toBe(region(100).latencyP99Ms);
    expect(region(210).fresh).toBe(true);
    expect(region(210).requestRate).not.toBe(region(100).requestRate);
  });

  it('turns missing telemetry into null values and fresh=false until data returns', () => {
    const env = new MeshSimEnv(threeRegions({ events: [{ kind: 'staleTelemetry', region: 'eu-central', startSec: 100, durationSec: 100, mode: 'missing' }] }));
    const { steps } = run(env, 1);
    const region = (sec: number) => steps.find((s) => s.metrics.timeMs === sec * 1000)!.observation.regions[1]!;
    for (const sec of [110, 150, 200]) {
      const r = region(sec);
      expect(r.fresh).toBe(false);
      expect([r.requestRate, r.errorRate, r.latencyP50Ms, r.latencyP90Ms, r.latencyP99Ms, r.saturation, r.healthy]).toEqual([null, null, null, null, null, null, null]);
    }
    expect(region(210).fresh).toBe(true);
    expect(region(210).requestRate).not.toBeNull();
  });
});

describe('MeshSimEnv episodes', () => {
  const busy = () =>
    threeRegions({
      load: { noise: 0.05 },
      telemetry: { windowSec: 20, staleAfterSec: 30, noise: 0.05 },
      events: [{ kind: 'brownout', region: 'eu-west', startSec: 100, startJitterSec: 50, durationSec: 100, capacityFactor: 0.3 }],
    });
  const wobble = (o: RouteObservation, t: number): PolicyAction => ({ weights: [1 + (t % 3), 1, t % 2], retryAttempts: t % 3, perTryTimeoutMs: 200 + 10 * t });

  it('replays the same episode for the same seed, and another for another seed', () => {
    const env = new MeshSimEnv(busy());
    const a = run(env, 7, wobble);
    const b = run(env, 7, wobble);
    const c = run(new MeshSimEnv(busy()), 8, wobble);
    expect(b).toEqual(a);
    expect(c.steps.map((s) => s.reward)).not.toEqual(a.steps.map((s) => s.reward));
  });

  it('ends after durationSec, then refuses to step until reset', () => {
    const env = new MeshSimEnv(threeRegions());
    const { steps } = run(env, 1);
    expect(steps).toHaveLength(30);
    expect(steps.at(-1)!.metrics.timeMs).toBe(300_000);
    expect(steps.filter((s) => s.done)).toHaveLength(1);
    expect(() => env.step(SPLIT)).toThrow(/reset/);
  });

  it('rewards with the documented formula, and sums episode totals', () => {
    const env = new MeshSimEnv(busy(), { reward: { churn: 0.5 } });
    const { steps } = run(env, 3, wobble);
    const violated = steps.reduce((a, s) => a + s.metrics.sloViolationSec, 0);
    expect(violated).toBeGreaterThan(0);
    expect(env.totals.sloViolationSec).toBe(violated);
    expect(env.totals.churn).toBeCloseTo(steps.reduce((a, s) => a + s.metrics.churn, 0), 9);
    for (const s of steps) {
      const floor = -(s.metrics.sloViolationSec + 0.5 * s.metrics.churn + DEFAULT_REWARD_WEIGHTS.error * s.metrics.errorRate * 10);
      expect(s.reward).toBeLessThanOrEqual(floor + 1e-9);
    }
    const m = { timeMs: 0, sloViolationSec: 3, p99Ms: 0, errorRate: 0.1, crossRegionCost: 0.5, churn: 20, weights: [] };
    expect(reward({ metrics: m, intervalSec: 10, sloPressureSec: 4, crossRegionCostWeight: 0.2 })).toBeCloseTo(-(3 + 2 * 0.1 * 10 + 0.25 * 4 + 0.25 * 0.2 * 0.5 * 10 + 0.01 * 20), 9);
  });

  it('passes actions through serving\'s guard when asked: bounded steps, the floor', () => {
    // A 120 ms objective puts eu-central's p99 (95 ms) past the guard's evidence headroom, so
    // the guard follows proposals instead of holding a quiet route.
    const env = new MeshSimEnv(threeRegions({ route: { objectives: { latencyP99Ms: 120 }, policy: { maxWeightStep: 10, minWeight: 5 } } }), { guard: 'serving' });
    env.reset(1);
    const r = env.step({ weights: [0, 0, 1], retryAttempts: 0, perTryTimeoutMs: 500 });
    expect(r.metrics.weights[2]).toBe(10);
    r.metrics.weights.forEach((w, i) => expect(Math.abs(w - [50, 50, 0][i]!)).toBeLessThanOrEqual(10));
    expect(r.metrics.churn).toBe(10);
    const unguarded = new MeshSimEnv(threeRegions());
    unguarded.reset(1);
    expect(unguarded.step({ weights: [0, 0, 1], retryAttempts: 0, perTryTimeoutMs: 500 }).metrics.weights).toEqual([0, 0, 100]);
  });

  it('carries the scenario\'s returnToSpecAfterSec to serving\'s guard: a calm route goes back to the spec weights', () => {
    const holdAway: PolicyAction = { weights: [0.9, 0.1, 0], retryAttempts: 2, perTryTimeoutMs: 1000 };
    const lastWeights = (returnToSpecAfterSec?: number) => {
      const policy = { maxWeightStep: 10, minWeight: 5, ...(returnToSpecAfterSec === undefined ? {} : { returnToSpecAfterSec }) };
      // Evidence to move (eu-central's p99, about 95 ms, is 76% of a 125 ms objective), yet calm (within 80%).
      const env = new MeshSimEnv(threeRegions({ route: { objectives: { latencyP99Ms: 125 }, policy } }), { guard: 'serving' });
      env.reset(1);
      let weights: number[] = [];
      for (let t = 0; t < 12; t++) weights = env.step(holdAway).metrics.weights;
      return weights;
    };
    const away = lastWeights();
    expect(away[0]).toBeGreaterThan(80);
    const home = lastWeights(20);
    // The spec's 50/50; the third region is a failover region (priority 1): no floor there.
    expect(home).toEqual([50, 50, 0]);
  });

  it('delivers no health verdict when the scenario says healthChecks: false, as serving reads Prometheus or a scrape', () => {
    const healthOf = (healthChecks: boolean) => {
      const env = new MeshSimEnv(threeRegions({ telemetry: { healthChecks } }));
      return env.reset(1).regions.map((r) => r.healthy);
    };
    expect(healthOf(true)).toEqual([true, true, true]);
    expect(healthOf(false)).toEqual([null, null, null]);
  });
});
