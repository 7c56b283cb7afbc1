// Resource naming, in one place. Every name the xDS server serves is derived here from a
// route's host or key, so that builders, the snapshot cache and tooling agree.

const SEPARATOR = '|';

/**
 * The listener a proxyless gRPC client asks for: the authority of its `xds:///` target,
 * i.e. the host itself (grpc's default `client_default_listener_resource_name_template` "%s").
 */
export function listenerName(host: string): string {
  return host;
}

/** The RouteConfiguration the proxyless listener of `host` points at through RDS. */
export function routeConfigName(host: string): string {
  return ['meshpilot', 'route', host].join(SEPARATOR);
}

/** The cluster (and its ClusterLoadAssignment) of one region of a route: "meshpilot|shop|checkout|eu-west". */
export function clusterName(routeKey: string, region: string): string {
  return ['meshpilot', ...routeKey.split('/'), region].join(SEPARATOR);
}

/**
 * The name Envoy reports a cluster's stats under (its `alt_stat_name`, the
 * `envoy_cluster_name` label): the cluster name with dots replaced, because Envoy's tag
 * extraction ends the cluster name at the first dot.
 */
export function clusterStatName(routeKey: string, region: string): string {
  return clusterName(routeKey, region).replace(/\./g, '_');
}

/** Envoy's one HTTP listener; each route is a virtual host of ENVOY_ROUTE_CONFIG_NAME. */
export const ENVOY_LISTENER_NAME = 'meshpilot-http';
export const ENVOY_ROUTE_CONFIG_NAME = 'meshpilot-http-routes';
