// Listener and RouteConfiguration builders. Proxyless gRPC gets, per route, an api_listener
// named after the host whose HttpConnectionManager points at the route's own
// RouteConfiguration through RDS; Envoy gets one HTTP listener and one RouteConfiguration
// with a virtual host per route. Pure, Envoy v3 JSON shape.
import type { IntentRetries, RouteIntent } from '../routing/route-intent.ts';
import { CAPABILITIES, type NodeFlavor } from './capabilities.ts';
import { failoverOrder } from '../api/priority-groups.ts';
import { duration } from './build-cluster.ts';
import { ENVOY_LISTENER_NAME, ENVOY_ROUTE_CONFIG_NAME, clusterName, listenerName, routeConfigName } from './names.ts';
import { TYPE_URLS } from './type-urls.ts';

const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;
/** How often Envoy re-picks a host a retry has already tried before it takes it anyway (Istio's default). */
const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5;
const ROUTER_FILTER = { name: 'envoy.filters.http.router', typed_config: { '@type': TYPE_URLS.router } } as const;

/** One weighted cluster of a route: the cluster name and its share in percent. */
export interface ClusterWeight {
  name: string;
  weight: number;
}

/**
 * The clusters a route sends traffic to and their weights: every destination with a weight
 * and a cluster (a region with endpoints). Regions without endpoints drop out and the client
 * spreads their share over the rest in proportion. When none of the weighted regions has
 * endpoints and failover is enabled, all traffic goes to the first region with endpoints in
 * failover order; otherwise the list is empty and the route has no backend.
 */
export function weightedClusters(intent: RouteIntent, withCluster: ReadonlySet<string>): ClusterWeight[] {
  const weighted = intent.destinations
    .filter((d) => d.weight > 0 && withCluster.has(d.region))
    .map((d) => ({ name: clusterName(intent.key, d.region), weight: d.weight }));
  if (weighted.length > 0 || !intent.failoverEnabled) return weighted;
  const fallback = failoverOrder(intent.destinations).find((d) => withCluster.has(d.region));
  return fallback ? [{ name: clusterName(intent.key, fallback.region), weight: 100 }] : [];
}

/** `retry_on` for `flavor`: our names translated, de-duplicated, in first-seen order. */
export function retryOn(retries: IntentRetries, flavor: NodeFlavor): string[] {
  const names = new Set<string>();
  for (const condition of retries.retryOn) for (const n of CAPABILITIES[flavor].retryOn[condition]) names.add(n);
  return [...names];
}

/** The retry policy, or undefined when there is nothing to retry (no attempts, or no condition the client honours). */
export function buildRetryPolicy(retries: IntentRetries, flavor: NodeFlavor): Record<string, unknown> | undefined {
  const on = retryOn(retries, flavor);
  if (retries.attempts < 1 || on.length === 0) return undefined;
  const policy: Record<string, unknown> = {
    retry_on: on.join(','),
    num_retries: { value: retries.attempts },
    per_try_timeout: duration(retries.perTryTimeoutMs),
  };
  if (CAPABILITIES[flavor].retryExtensions) {
    policy.retry_host_predicate = [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': TYPE_URLS.previousHosts } }];
    policy.host_selection_retry_max_attempts = HOST_SELECTION_RETRY_MAX_ATTEMPTS;
    // Each cluster lists its own region at priority 0 and the others after it in failover order
    // (build-cluster.ts), so skipping the priorities already tried sends retry k to the k-th next region.
    if (retries.crossRegion) {
      policy.retry_priority = { name: 'envoy.retry_priorities.previous_priorities', typed_config: { '@type': TYPE_URLS.previousPriorities, update_frequency: 1 } };
    }
  }
  return policy;
}

/** The domains a route's virtual host answers: the host and the host with any port. */
export function domains(host: string): string[] {
  return host.includes('*') || host.includes(':') ? [host] : [host, `${host}:*`];
}

/** The virtual host of `intent`: `/` (prefix) to the weighted clusters with retries and timeout. */
export function buildVirtualHost(intent: RouteIntent, clusters: readonly ClusterWeight[], flavor: NodeFlavor): Record<string, unknown> {
  const routes: object[] = [];
  if (clusters.length > 0) {
    const action: Record<string, unknown> = {
      weighted_clusters: { clusters: clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) },
    };
    const retry = buildRetryPolicy(intent.retries, flavor);
    if (retry) action.retry_policy = retry;
    if (CAPABILITIES[flavor].requestTimeout === 'route-timeout') action.timeout = duration(intent.timeoutMs);
    else action.max_stream_duration = { max_stream_duration: duration(intent.timeoutMs) };
    routes.push({ name: 'default', match: { prefix: '/' }, route: action });
  }
  return { name: intent.key, domains: domains(intent.host), routes };
}

/** The proxyless gRPC RouteConfiguration of `intent`: one virtual host. */
export function buildGrpcRouteConfiguration(intent: RouteIntent, clusters: readonly ClusterWeight[]): Record<string, unknown> {
  return { name: routeConfigName(intent.host), virtual_hosts: [buildVirtualHost(intent, clusters, 'grpc')] };
}

/** The proxyless gRPC api_listener for `host`, using RDS `routeConfigName(host)`. */
export function buildGrpcListener(host: string): Record<string, unknown> {
  return {
    name: listenerName(host),
    api_listener: {
      api_listener: {
        '@type': TYPE_URLS.httpConnectionManager,
        rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeConfigName(host) },
        http_filters: [ROUTER_FILTER],
      },
    },
  };
}

/** Envoy's HTTP listener on 0.0.0.0:`port`, using RDS ENVOY_ROUTE_CONFIG_NAME. */
export function buildEnvoyListener(port: number): Record<string, unknown> {
  return {
    name: ENVOY_LISTENER_NAME,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': TYPE_URLS.httpConnectionManager,
              stat_prefix: 'meshpilot_http',
              codec_type: 'AUTO',
              rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: ENVOY_ROUTE_CONFIG_NAME },
              http_filters: [ROUTER_FILTER],
            },
          },
        ],
      },
    ],
  };
}

/** Envoy's RouteConfiguration: the given virtual hosts (one per route, in route-key order). */
export function buildEnvoyRouteConfiguration(virtualHosts: readonly object[]): Record<string, unknown> {
  return { name: ENVOY_ROUTE_CONFIG_NAME, virtual_hosts: [...virtualHosts] };
}
