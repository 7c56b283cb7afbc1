// What the telemetry sources must know about a route, derived from its (valid) spec: the
// regions and the names their metrics carry (the xDS cluster names Envoy reports under).
import { parseDuration } from '../base/duration.ts';
import type { AdaptiveRoute } from '../api/types.ts';
import type { RouteTarget } from '../telemetry/types.ts';
import { clusterStatName } from '../xds/names.ts';
import { namespaceOf } from '../base/object-key.ts';

export function telemetryTarget(route: AdaptiveRoute): RouteTarget {
  const namespace = namespaceOf(route.metadata);
  const key = `${namespace}/${route.metadata.name}`;
  return {
    key,
    namespace,
    name: route.metadata.name,
    host: route.spec.host,
    regions: route.spec.destinations.map((d) => ({ region: d.region, service: d.service, port: d.port, cluster: clusterStatName(key, d.region) })),
    telemetry: route.spec.telemetry,
    decisionIntervalMs: parseDuration(route.spec.policy.decisionInterval),
    staleAfterMs: parseDuration(route.spec.telemetry.staleAfter),
  };
}
