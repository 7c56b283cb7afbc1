// The routes the telemetry benches follow: `bench/route-<i>` over three regions, each with
// meshpilot's xDS cluster name and a destination host of its own.
import type { RouteTarget } from '../../../operator/telemetry/types.ts';
import { clusterStatName } from '../../../operator/xds/names.ts';

export const BENCH_REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;

export function benchTarget(i: number, telemetry: RouteTarget['telemetry'], timing: { decisionIntervalMs: number; staleAfterMs: number }): RouteTarget {
  const key = `bench/route-${i}`;
  return {
    key,
    namespace: 'bench',
    name: `route-${i}`,
    host: `route-${i}.bench.svc.cluster.local`,
    regions: BENCH_REGIONS.map((region) => ({ region, service: `route-${i}.bench.svc.cluster.local`, port: 8080, cluster: clusterStatName(key, region) })),
    telemetry,
    ...timing,
  };
}
