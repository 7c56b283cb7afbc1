// The xDS resource types meshpilot serves, in one table: their type URLs, the protobuf message
// behind each, the short name used in metric labels and logs, whether a client may subscribe
// to them with a wildcard, whether a state-of-the-world response must carry the full set, and
// the make-before-break push order (CDS, then EDS, then LDS, then RDS).

const PREFIX = 'type.googleapis.com/';

/** Type URLs of the four resource types and of the messages nested in them. */
export const TYPE_URLS = {
  listener: `${PREFIX}envoy.config.listener.v3.Listener`,
  routeConfiguration: `${PREFIX}envoy.config.route.v3.RouteConfiguration`,
  cluster: `${PREFIX}envoy.config.cluster.v3.Cluster`,
  clusterLoadAssignment: `${PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  httpConnectionManager: `${PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  router: `${PREFIX}envoy.extensions.filters.http.router.v3.Router`,
  httpProtocolOptions: `${PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
  previousHosts: `${PREFIX}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`,
  previousPriorities: `${PREFIX}envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig`,
} as const;

export type ResourceKind = 'LDS' | 'RDS' | 'CDS' | 'EDS';

export interface ResourceType {
  /** Short name, also the `type` label of the xDS metrics. */
  readonly kind: ResourceKind;
  readonly typeUrl: string;
  /** Fully qualified protobuf message name. */
  readonly message: string;
  /** Empty names on the first request, or "*", subscribe to every resource (LDS, CDS only). */
  readonly wildcard: boolean;
  /** A state-of-the-world response carries every subscribed resource; absence means deletion. */
  readonly fullSet: boolean;
  /** Position in the make-before-break push order. */
  readonly order: number;
}

export const RESOURCE_TYPES = {
  CDS: { kind: 'CDS', typeUrl: TYPE_URLS.cluster, message: 'envoy.config.cluster.v3.Cluster', wildcard: true, fullSet: true, order: 0 },
  EDS: {
    kind: 'EDS',
    typeUrl: TYPE_URLS.clusterLoadAssignment,
    message: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
    wildcard: false,
    fullSet: false,
    order: 1,
  },
  LDS: { kind: 'LDS', typeUrl: TYPE_URLS.listener, message: 'envoy.config.listener.v3.Listener', wildcard: true, fullSet: true, order: 2 },
  RDS: {
    kind: 'RDS',
    typeUrl: TYPE_URLS.routeConfiguration,
    message: 'envoy.config.route.v3.RouteConfiguration',
    wildcard: false,
    fullSet: false,
    order: 3,
  },
} as const satisfies Record<ResourceKind, ResourceType>;

/** The push order: clusters and their endpoints before the listeners and routes that use them. */
export const PUSH_ORDER: readonly ResourceType[] = [RESOURCE_TYPES.CDS, RESOURCE_TYPES.EDS, RESOURCE_TYPES.LDS, RESOURCE_TYPES.RDS];

const BY_URL = new Map<string, ResourceType>(PUSH_ORDER.map((t) => [t.typeUrl, t]));

/** The resource type of `typeUrl`, or undefined when meshpilot does not serve it. */
export function resourceTypeOf(typeUrl: string): ResourceType | undefined {
  return BY_URL.get(typeUrl);
}

/** Messages that appear inside `Any` fields of the served resources, by type URL. */
export const NESTED_MESSAGES: Readonly<Record<string, string>> = {
  [TYPE_URLS.httpConnectionManager]: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  [TYPE_URLS.router]: 'envoy.extensions.filters.http.router.v3.Router',
  [TYPE_URLS.httpProtocolOptions]: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  [TYPE_URLS.previousHosts]: 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  [TYPE_URLS.previousPriorities]: 'envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
};
