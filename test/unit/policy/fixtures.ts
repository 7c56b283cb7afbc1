// Shared builders for the policy tests: validated routes, telemetry snapshots, observations,
// and small seeded models of the policy spec's shape.
import * as tf from '@tensorflow/tfjs';
import { prng } from '../../../operator/base/random.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../../operator/api/validate.ts';
import type { ModelMetadata } from '../../../operator/policy/model/format.ts';
import { currentSpecShape } from '../../../operator/policy/model/format.ts';
import type { RegionObservation, RouteObservation } from '../../../operator/policy/features.ts';
import { ACTION_SIZE, MODEL_OUTPUT_SIZE, ROW_SIZE } from '../../../operator/policy/features.ts';
import type { RegionSnapshot, Reading, RouteSnapshot, Signal } from '../../../operator/telemetry/types.ts';

export interface Dest {
  region: string;
  weight?: number;
  priority?: number;
}

/** A validated, defaulted AdaptiveRoute `shop/<name>`; `spec` is merged over the generated one. */
export function makeRoute(name: string, destinations: Dest[], spec: Record<string, unknown> = {}): AdaptiveRoute {
  const result = validateAdaptiveRoute({
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name, namespace: 'shop', generation: 1 },
    spec: {
      host: `${name}.shop.svc.cluster.local`,
      destinations: destinations.map((d) => ({
        region: d.region,
        service: `${name}.${d.region}.svc.cluster.local`,
        port: 8080,
        weight: d.weight ?? 100,
        priority: d.priority ?? 0,
      })),
      ...spec,
    },
  });
  if (!result.ok) throw new Error(`test route is invalid: ${JSON.stringify(result.issues)}`);
  return result.value;
}

export interface RegionData {
  region: string;
  p50?: number | null;
  p90?: number | null;
  p99?: number | null;
  errorRate?: number | null;
  requestRate?: number | null;
  saturation?: number | null;
  healthy?: boolean | null;
  fresh?: boolean;
  rateTrend?: number | null;
  p99Trend?: number | null;
}

function reading(value: number | null | undefined, fresh: boolean): Reading {
  if (value === undefined || value === null) return { value: null, fresh: false, ageMs: null, source: null };
  return { value, fresh, ageMs: fresh ? 1_000 : 120_000, source: 'prometheus' };
}

export function regionSnapshot(d: RegionData): RegionSnapshot {
  const fresh = d.fresh ?? true;
  const values: Record<Signal, number | null | undefined> = {
    requestRate: d.requestRate === undefined ? 100 : d.requestRate,
    errorRate: d.errorRate === undefined ? 0.001 : d.errorRate,
    latencyP50: d.p50 === undefined ? 40 : d.p50,
    latencyP90: d.p90 === undefined ? 80 : d.p90,
    latencyP99: d.p99 === undefined ? 120 : d.p99,
    saturation: d.saturation === undefined ? 0.4 : d.saturation,
  };
  const signals = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, reading(v, fresh)])) as Record<Signal, Reading>;
  const healthy = d.healthy === undefined ? true : d.healthy;
  return {
    region: d.region,
    signals,
    health: { healthy, fresh: healthy !== null && fresh, ageMs: healthy === null ? null : 1_000, source: healthy === null ? null : 'prometheus' },
    trends: { requestRate: d.rateTrend ?? null, latencyP99: d.p99Trend ?? null },
    newestAgeMs: fresh ? 1_000 : 120_000,
    fresh,
  };
}

export function makeSnapshot(route: string, regions: RegionData[], atMs = 1_000_000): RouteSnapshot {
  const snaps = regions.map(regionSnapshot);
  return { route, atMs, staleAfterMs: 60_000, regions: snaps, fresh: snaps.every((r) => r.fresh), sources: ['prometheus'] };
}

/** A healthy, fresh region observation; `over` replaces fields. */
export function regionObs(region: string, weightPercent: number, over: Partial<RegionObservation> = {}): RegionObservation {
  return {
    region,
    latencyP50Ms: 40,
    latencyP90Ms: 80,
    latencyP99Ms: 120,
    errorRate: 0.001,
    requestRate: weightPercent * 10,
    saturation: 0.4,
    weightPercent,
    healthy: true,
    remote: false,
    fresh: true,
    requestRateTrend: 0,
    latencyP99Trend: 0,
    ...over,
  };
}

export function routeObs(regions: RegionObservation[], over: Partial<RouteObservation> = {}): RouteObservation {
  return {
    regions,
    objectives: { latencyP99Ms: 250, maxErrorRate: 0.01, crossRegionCostWeight: 0.1 },
    retryAttempts: 2,
    retryBounds: { min: 0, max: 3 },
    perTryTimeoutMs: 500,
    perTryBoundsMs: { min: 100, max: 2000 },
    ...over,
  };
}

export function metadata(over: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    ...currentSpecShape(),
    name: 'test',
    version: 'test-seed1',
    actionStd: Array.from({ length: ACTION_SIZE }, () => 0.5),
    createdAt: '2026-01-01T00:00:00Z',
    seed: 1,
    command: 'npm run train -- --seed 1',
    scenarios: ['brownout.yaml'],
    ...over,
  };
}

/** An MLP [inputs] → 16 (tanh) → [outputs] whose weights are drawn from `seed`. */
export function seededModel(seed: number, inputs: number = ROW_SIZE, outputs: number = MODEL_OUTPUT_SIZE): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [inputs], units: 16, activation: 'tanh' }), tf.layers.dense({ units: outputs })],
  });
  const random = prng(seed);
  const values = model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (random() - 0.5) * 0.6), w.shape));
  model.setWeights(values);
  for (const v of values) v.dispose();
  return model;
}
