import type { RegionObservation, RouteObservation } from '../../../operator/policy/features.ts';
import { baselines } from '../../../training/baselines/baselines.ts';
import { istioPolicy } from '../../../training/baselines/istio.ts';
import { linkerdPolicy } from '../../../training/baselines/linkerd.ts';
import { staticPolicy } from '../../../training/baselines/static.ts';
import type { RouteView } from '../../../training/policy.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { threeRegions } from './sim-fixtures.ts';

const route: RouteView = new MeshSimEnv(threeRegions()).route;

function region(name: string, o: Partial<RegionObservation> = {}): RegionObservation {
  return {
    region: name,
    latencyP50Ms: 20,
    latencyP90Ms: 40,
    latencyP99Ms: 80,
    errorRate: 0.001,
    requestRate: 300,
    saturation: 0.3,
    weightPercent: name === 'us-east' ? 0 : 50,
    healthy: true,
    remote: name === 'us-east',
    fresh: true,
    requestRateTrend: 0,
    latencyP99Trend: 0,
    ...o,
  };
}

function observe(west: Partial<RegionObservation> = {}, central: Partial<RegionObservation> = {}, east: Partial<RegionObservation> = {}): RouteObservation {
  return {
    regions: [region('eu-west', west), region('eu-central', central), region('us-east', east)],
    objectives: { ...route.objectives },
    retryAttempts: 2,
    retryBounds: { ...route.retryBounds },
    perTryTimeoutMs: 1000,
    perTryBoundsMs: { ...route.perTryBoundsMs },
  };
}

const round = (w: number[]) => w.map((x) => Math.round(x * 1000) / 1000);

describe('static baseline', () => {
  it('serves the spec weights with the most retries and never moves, whatever happens', () => {
    const env = new MeshSimEnv(threeRegions({ events: [{ kind: 'outage', region: 'eu-west', startSec: 50, durationSec: 200 }] }));
    let o = env.reset(1);
    const state = staticPolicy.start(env.route);
    const actions = [];
    let sawUnhealthy = false;
    for (;;) {
      const a = staticPolicy.decide(o, state);
      actions.push(a);
      const r = env.step(a);
      o = r.observation;
      sawUnhealthy ||= o.regions[0]!.healthy === false;
      if (r.done) break;
    }
    expect(sawUnhealthy).toBe(true);
    for (const a of actions) expect(a).toEqual({ weights: [0.5, 0.5, 0], retryAttempts: 2, perTryTimeoutMs: 1000 });
    expect(env.totals.churn).toBe(0);
  });
});

describe('istio baseline', () => {
  it('keeps the spec weights while regions are well', () => {
    const p = istioPolicy();
    const s = p.start(route);
    expect(p.decide(observe(), s)).toEqual({ weights: [0.5, 0.5, 0], retryAttempts: 2, perTryTimeoutMs: 1000 });
  });

  it('ejects a region whose errors cross the threshold for the base ejection time, then lets it back', () => {
    const p = istioPolicy({ ejectErrorRate: 0.15, baseEjectionMs: 30_000 });
    const s = p.start(route);
    expect(round(p.decide(observe({ errorRate: 0.3 }), s).weights)).toEqual([0, 1, 0]);
    // Ejected for 30 s whatever it shows meanwhile (its data is what it was when it had traffic).
    expect(round(p.decide(observe({ errorRate: 0.001, weightPercent: 0 }), s).weights)).toEqual([0, 1, 0]);
    expect(round(p.decide(observe({ errorRate: 0.001, weightPercent: 0 }), s).weights)).toEqual([0, 1, 0]);
    expect(round(p.decide(observe({ weightPercent: 0 }), s).weights)).toEqual([0.5, 0.5, 0]);
  });

  it('ejects for longer each time a region fails again', () => {
    const p = istioPolicy({ baseEjectionMs: 20_000 });
    const s = p.start(route);
    const outFor = () => {
      let decisions = 0;
      p.decide(observe({ errorRate: 0.5 }), s);
      while (p.decide(observe({ weightPercent: 0 }), s).weights[0] === 0) decisions++;
      return decisions + 1;
    };
    expect(outFor()).toBe(2);
    expect(outFor()).toBe(4);
    expect(outFor()).toBe(6);
  });

  it('fails over to the next priority when every primary is unhealthy, and ignores missing data', () => {
    const p = istioPolicy();
    const s = p.start(route);
    expect(round(p.decide(observe({ healthy: false }, { healthy: false }), s).weights)).toEqual([0, 0, 1]);
    const q = istioPolicy();
    const t = q.start(route);
    expect(round(q.decide(observe({ errorRate: null, healthy: null, fresh: false }), t).weights)).toEqual([0.5, 0.5, 0]);
  });
});

describe('linkerd baseline', () => {
  it('weighs regions by the inverse of their latency EWMA and shifts gradually away from a slow one', () => {
    const p = linkerdPolicy();
    const s = p.start(route);
    expect(round(p.decide(observe(), s).weights)).toEqual([0.5, 0.5, 0]);
    const shares = Array.from({ length: 6 }, () => p.decide(observe({ latencyP50Ms: 200 }), s).weights[0]!);
    for (let i = 1; i < shares.length; i++) expect(shares[i]!).toBeLessThan(shares[i - 1]!);
    expect(shares[0]!).toBeLessThan(0.5);
    expect(shares[0]!).toBeGreaterThan(shares.at(-1)! + 0.02);
    expect(shares.at(-1)!).toBeLessThan(0.12);
    expect(p.decide(observe({ latencyP50Ms: 200 }), s).weights[2]).toBe(0);
  });

  it('takes a failing region out with a doubling backoff and probes it again', () => {
    const p = linkerdPolicy({ accrualErrorRate: 0.2 });
    const s = p.start(route);
    expect(p.decide(observe({ errorRate: 0.5 }), s).weights[0]).toBe(0);
    // Backoff of one interval (10 s): probed at the next decision, fails again, out for 20 s.
    expect(p.decide(observe({ errorRate: 0.5 }), s).weights[0]).toBe(0);
    expect(p.decide(observe({ errorRate: 0.5, weightPercent: 0 }), s).weights[0]).toBe(0);
    expect(p.decide(observe({ errorRate: 0.001, weightPercent: 0 }), s).weights[0]).toBeGreaterThan(0.4);
  });

  it('spends retries only within the retry budget', () => {
    const p = linkerdPolicy();
    const s = p.start(route);
    expect(p.decide(observe(), s).retryAttempts).toBe(2);
    expect(p.decide(observe({ errorRate: 0.3 }, { errorRate: 0.3 }), s).retryAttempts).toBe(0);
  });

  it('fails over to the remote region when every primary is out', () => {
    const p = linkerdPolicy();
    const s = p.start(route);
    expect(round(p.decide(observe({ healthy: false }, { errorRate: 0.9 }), s).weights)).toEqual([0, 0, 1]);
  });
});

describe('the baseline set', () => {
  it('has the three heuristics users run today, each with fresh state per episode', () => {
    const set = baselines();
    expect(set.map((p) => p.name)).toEqual(['static', 'istio', 'linkerd']);
    const istio = set[1]!;
    const a = istio.start(route), b = istio.start(route);
    istio.decide(observe({ errorRate: 0.9 }), a);
    expect(round((istio.decide(observe(), b) as { weights: number[] }).weights)).toEqual([0.5, 0.5, 0]);
  });
});
