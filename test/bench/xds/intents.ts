// The route set the xDS bench serves: R routes, each split over three regions. Phase 0 is the
// initial intent; each later phase is "a new intent" that changes the weights of every route
// (change 'all') or of route 0 only (change 'one'). The server worker publishes these intents
// and the client workers derive from the same functions what a complete update looks like.
import type { Endpoint } from '../../../operator/xds/endpoints.ts';
import { clusterName, listenerName, routeConfigName } from '../../../operator/xds/names.ts';
import type { RouteIntent } from '../../../operator/routing/route-intent.ts';
import { weightKeyOf } from './wire.ts';

export const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;

/** Consecutive entries differ, so every phase is a real change for the routes it touches. */
const WEIGHT_SETS = [
  [50, 30, 20],
  [20, 50, 30],
  [30, 20, 50],
  [60, 25, 15],
  [15, 60, 25],
  [25, 15, 60],
] as const;

export const CHANGES = ['all', 'one'] as const;
export type Change = (typeof CHANGES)[number];

const NAMESPACE = 'bench';

function weights(route: number, phase: number, change: Change): readonly number[] {
  const p = change === 'all' || route === 0 ? phase : 0;
  return WEIGHT_SETS[p % WEIGHT_SETS.length] ?? WEIGHT_SETS[0];
}

function service(route: number, region: string): string {
  return `route-${route}.${region}.svc.cluster.local`;
}

export function routeKey(route: number): string {
  return `${NAMESPACE}/route-${route}`;
}

export function routeHost(route: number): string {
  return `route-${route}.${NAMESPACE}.svc.cluster.local`;
}

/** The intent for route `route` at `phase`. Deterministic. */
export function benchIntent(route: number, phase: number, change: Change): RouteIntent {
  const w = weights(route, phase, change);
  return {
    key: routeKey(route),
    namespace: NAMESPACE,
    name: `route-${route}`,
    host: routeHost(route),
    destinations: REGIONS.map((region, i) => ({
      region,
      service: service(route, region),
      port: 8080,
      weight: w[i] ?? 0,
      priority: 0,
    })),
    retries: { attempts: 2, perTryTimeoutMs: 500, retryOn: ['5xx', 'reset', 'unavailable'], crossRegion: false },
    timeoutMs: 2_000,
    outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
    failoverEnabled: true,
    tlsMode: 'classical',
    outputs: { xds: true, istio: false },
    source: { generation: phase + 1, mode: 'enforce', decidedBy: 'spec' },
  };
}

/** Two endpoints per (route, region) service, for the StaticEndpointResolver. */
export function benchEndpoints(routes: number): Record<string, Endpoint[]> {
  const map: Record<string, Endpoint[]> = {};
  for (let r = 0; r < routes; r++) {
    REGIONS.forEach((region, i) => {
      const base = `10.${i}.${Math.floor(r / 250)}.${(r % 250) + 1}`;
      map[service(r, region)] = [
        { address: base, port: 8080 },
        { address: base, port: 8081 },
      ];
    });
  }
  return map;
}

/** The LDS names a client holding the first `routes` routes subscribes to. */
export function listenerNames(routes: number): string[] {
  return Array.from({ length: routes }, (_, r) => listenerName(routeHost(r)));
}

/** RouteConfiguration name → the weight key (see `weightKeyOf`) it has once `phase` is applied. */
export function expectedWeightKeys(routes: number, phase: number, change: Change): Map<string, string> {
  const out = new Map<string, string>();
  for (let r = 0; r < routes; r++) {
    const w = weights(r, phase, change);
    const pairs = REGIONS.map((region, i) => ({ cluster: clusterName(routeKey(r), region), weight: w[i] ?? 0 }));
    out.set(routeConfigName(routeHost(r)), weightKeyOf(pairs));
  }
  return out;
}
