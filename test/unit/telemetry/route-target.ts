// The route the telemetry unit tests follow: shop/checkout across `regions`.
import type { RouteTarget } from '../../../operator/telemetry/types.ts';

export const ROUTE_KEY = 'shop/checkout';

export function routeTarget(regions: readonly string[] = ['eu-west', 'us-east'], staleAfterMs = 30_000): RouteTarget {
  return {
    key: ROUTE_KEY,
    namespace: 'shop',
    name: 'checkout',
    host: 'checkout.shop',
    regions: regions.map((region) => ({ region, service: `checkout.${region}`, port: 8080, cluster: `meshpilot|shop|checkout|${region}` })),
    telemetry: { staleAfter: `${staleAfterMs / 1000}s` },
    decisionIntervalMs: 10_000,
    staleAfterMs,
  };
}
