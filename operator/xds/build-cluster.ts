// Cluster and ClusterLoadAssignment builders: one EDS cluster per (route, region with
// endpoints), whose endpoints are that region's at priority 0 and, when failover is enabled,
// every other region at the next priorities in failover order. Pure: the output is a plain
// object in the Envoy v3 JSON shape (snake_case, `Any` as `{ '@type', ... }`).
import { RETRY_BUDGET_MIN_CONCURRENCY, RETRY_BUDGET_RATIO } from '../api/retry-budget.ts';
import { failoverOrder } from '../api/priority-groups.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import { CAPABILITIES, CIRCUIT_BREAKER_LIMITS, GRPC_FAILURE_PERCENTAGE_THRESHOLD, type NodeFlavor } from './capabilities.ts';
import type { Endpoint } from './endpoints.ts';
import { clusterName, clusterStatName } from './names.ts';
import { TYPE_URLS } from './type-urls.ts';

/** Endpoints per region of one route, as resolved. */
export type RegionEndpoints = ReadonlyMap<string, readonly Endpoint[]>;

export interface Duration {
  seconds: number;
  nanos: number;
}

export function duration(ms: number): Duration {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1_000_000 };
}

const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;
const MIN_CONNECT_TIMEOUT_MS = 100;
const MAX_CONNECT_TIMEOUT_MS = 5000;

function outlierDetection(intent: RouteIntent, flavor: NodeFlavor): object {
  const od = intent.outlierDetection;
  const common = {
    interval: duration(od.intervalMs),
    base_ejection_time: duration(od.baseEjectionTimeMs),
    max_ejection_percent: { value: od.maxEjectionPercent },
    enforcing_success_rate: { value: 0 },
  };
  if (CAPABILITIES[flavor].outlierDetection === 'consecutive-5xx') {
    return { ...common, consecutive_5xx: { value: od.consecutive5xx }, enforcing_consecutive_5xx: { value: 100 } };
  }
  return {
    ...common,
    enforcing_failure_percentage: { value: 100 },
    failure_percentage_threshold: { value: GRPC_FAILURE_PERCENTAGE_THRESHOLD },
    failure_percentage_minimum_hosts: { value: 1 },
    failure_percentage_request_volume: { value: od.consecutive5xx },
  };
}

function circuitBreakers(flavor: NodeFlavor): object {
  const l = CIRCUIT_BREAKER_LIMITS;
  if (CAPABILITIES[flavor].circuitBreakers === 'max-requests') {
    return { thresholds: [{ priority: 'DEFAULT', max_requests: { value: l.maxRequests } }] };
  }
  return {
    thresholds: [
      {
        priority: 'DEFAULT',
        max_connections: { value: l.maxConnections },
        max_pending_requests: { value: l.maxPendingRequests },
        max_requests: { value: l.maxRequests },
        // The route's retry budget, enforced per request (it replaces max_retries): a burst of
        // failures between two decisions cannot become a retry storm.
        retry_budget: { budget_percent: { value: 100 * RETRY_BUDGET_RATIO }, min_retry_concurrency: { value: RETRY_BUDGET_MIN_CONCURRENCY } },
        // Exports circuit_breakers.default.remaining_rq: with upstream_rq_active it is how
        // saturated the region is, which the telemetry defaults read.
        track_remaining: true,
      },
    ],
  };
}

/** The EDS Cluster of `region` in `intent`, for clients of `flavor`. Its EDS name is its own name. */
export function buildCluster(intent: RouteIntent, region: string, flavor: NodeFlavor): Record<string, unknown> {
  const cluster: Record<string, unknown> = {
    name: clusterName(intent.key, region),
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE },
    lb_policy: 'ROUND_ROBIN',
    circuit_breakers: circuitBreakers(flavor),
    outlier_detection: outlierDetection(intent, flavor),
  };
  if (CAPABILITIES[flavor].upstreamConnectionOptions) {
    // Envoy's stats tag extraction cuts a cluster name at its first dot; route names may have
    // dots, so stats go under a dot-free name that the telemetry defaults look for.
    cluster.alt_stat_name = clusterStatName(intent.key, region);
    const connectMs = Math.min(MAX_CONNECT_TIMEOUT_MS, Math.max(MIN_CONNECT_TIMEOUT_MS, intent.retries.perTryTimeoutMs));
    cluster.connect_timeout = duration(connectMs);
    // Upstreams speak what the downstream spoke: HTTP/2 (gRPC) stays HTTP/2, HTTP/1.1 stays 1.1.
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': TYPE_URLS.httpProtocolOptions,
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
      },
    };
  }
  return cluster;
}

/**
 * The ClusterLoadAssignment of `region`'s cluster: the region's endpoints at priority 0 and,
 * when `failoverEnabled`, each other region with endpoints at the next priority in failover
 * order. An address already listed at a lower priority is not repeated (clients reject
 * duplicates), and a locality left without endpoints is skipped, so priorities stay contiguous.
 */
export function buildLoadAssignment(intent: RouteIntent, region: string, endpoints: RegionEndpoints): Record<string, unknown> {
  const order = [region];
  if (intent.failoverEnabled) {
    for (const d of failoverOrder(intent.destinations)) if (d.region !== region) order.push(d.region);
  }
  const seen = new Set<string>();
  const localities: object[] = [];
  for (const r of order) {
    const lbEndpoints: object[] = [];
    for (const e of endpoints.get(r) ?? []) {
      const key = `${e.address}#${e.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lbEndpoints.push({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } });
    }
    if (lbEndpoints.length === 0) continue;
    localities.push({
      locality: { region: r },
      lb_endpoints: lbEndpoints,
      load_balancing_weight: { value: lbEndpoints.length },
      priority: localities.length,
    });
  }
  return { cluster_name: clusterName(intent.key, region), endpoints: localities };
}

/** Regions of `intent` that get a cluster: those with at least one endpoint, in spec order. */
export function regionsWithEndpoints(intent: RouteIntent, endpoints: RegionEndpoints): string[] {
  return intent.destinations.filter((d) => (endpoints.get(d.region)?.length ?? 0) > 0).map((d) => d.region);
}
