// What the policy bench decides: `bench/route-<i>` over 2 to 5 regions (some remote, some with
// a model, all through the real validator), telemetry snapshots drawn per round from a seed
// (a few regions stale or failing, so the guard's rules run too), and a policy model of the
// spec's shape with seeded random weights.
import * as tf from '@tensorflow/tfjs';
import { prng } from '../../../operator/base/random.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../../operator/api/validate.ts';
import type { CurrentIntent } from '../../../operator/policy/observe.ts';
import type { DecisionRequest } from '../../../operator/policy/policy.ts';
import { MODEL_OUTPUT_SIZE, ROW_SIZE } from '../../../operator/policy/features.ts';
import type { Reading, RegionSnapshot, RouteSnapshot, Signal } from '../../../operator/telemetry/types.ts';

const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east', 'eu-north'] as const;

/** An MLP over one region row, [ROW_SIZE] → hidden → hidden (tanh) → [MODEL_OUTPUT_SIZE], weights drawn from `seed`. */
export function randomPolicyModel(seed: number, hidden: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [ROW_SIZE], units: hidden, activation: 'tanh' }),
      tf.layers.dense({ units: hidden, activation: 'tanh' }),
      tf.layers.dense({ units: MODEL_OUTPUT_SIZE }),
    ],
  });
  const random = prng(seed);
  const values = model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (random() - 0.5) * 0.4), w.shape));
  model.setWeights(values);
  for (const v of values) v.dispose();
  return model;
}

export interface BenchRoute {
  key: string;
  route: AdaptiveRoute;
  current: CurrentIntent;
}

export function benchRoutes(count: number, modelName: string, seed: number): BenchRoute[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const n = 2 + Math.floor(random() * (REGIONS.length - 1));
    const regions = REGIONS.slice(0, n);
    const result = validateAdaptiveRoute({
      apiVersion: 'traffic.meshpilot.io/v1alpha1',
      kind: 'AdaptiveRoute',
      metadata: { name: `route-${i}`, namespace: 'bench', generation: 1 },
      spec: {
        host: `route-${i}.bench.svc.cluster.local`,
        destinations: regions.map((region, k) => ({ region, service: `route-${i}.${region}.svc.cluster.local`, port: 8080, weight: 100, priority: k === 0 ? 0 : k % 2 })),
        policy: { modelRef: { name: modelName }, maxWeightStep: 10, minWeight: 5 },
      },
    });
    if (!result.ok) throw new Error(`bench route ${i} is invalid: ${JSON.stringify(result.issues)}`);
    const share = Math.floor(100 / n);
    const weights = regions.map((region, k) => ({ region, weight: k === 0 ? 100 - share * (n - 1) : share }));
    return { key: `bench/route-${i}`, route: result.value, current: { weights, retryAttempts: 1, perTryTimeoutMs: 500 } };
  });
}

function reading(value: number, fresh: boolean): Reading {
  return { value, fresh, ageMs: fresh ? 2_000 : 90_000, source: 'prometheus' };
}

function regionSnapshot(region: string, random: () => number): RegionSnapshot {
  const fresh = random() > 0.002;
  const base = 30 + random() * 150;
  const values: Record<Signal, number> = {
    requestRate: random() * 800,
    errorRate: random() < 0.05 ? random() * 0.1 : random() * 0.005,
    latencyP50: base,
    latencyP90: base * (1.5 + random()),
    latencyP99: base * (2 + random() * 3),
    saturation: random() * 1.1,
  };
  const signals = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, reading(v, fresh)])) as Record<Signal, Reading>;
  return {
    region,
    signals,
    health: { healthy: random() > 0.01, fresh, ageMs: 2_000, source: 'prometheus' },
    trends: { requestRate: random() - 0.5, latencyP99: random() - 0.5 },
    newestAgeMs: fresh ? 2_000 : 90_000,
    fresh,
  };
}

export function snapshotOf(r: BenchRoute, atMs: number, random: () => number): RouteSnapshot {
  const regions = r.route.spec.destinations.map((d) => regionSnapshot(d.region, random));
  return { route: r.key, atMs, staleAfterMs: 60_000, regions, fresh: regions.every((x) => x.fresh), sources: ['prometheus'] };
}

/** One round's requests: fresh telemetry for every route, and the state the last round left. */
export function roundRequests(routes: BenchRoute[], atMs: number, random: () => number, states: Map<string, DecisionRequest['state']>): DecisionRequest[] {
  return routes.map((r) => {
    const state = states.get(r.key);
    return { key: r.key, route: r.route, snapshot: snapshotOf(r, atMs, random), current: r.current, ...(state ? { state } : {}) };
  });
}
