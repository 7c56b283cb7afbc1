// What each kind of xDS client understands, in one table. Builders branch on these entries,
// never on the flavour name, so a difference between Envoy and proxyless gRPC is visible here
// and only here. Sources: Envoy's v3 API docs, and grpc-js-xds's resource validation (gRFC
// A27, A28, A31, A44, A46, A50), which rejects some fields Envoy accepts (e.g. `tls_params`).
import type { RetryOn } from '../api/types.ts';
import type { IntentRetries } from '../routing/route-intent.ts';

export type NodeFlavor = 'envoy' | 'grpc';

/** The flavour of a node from `node.user_agent_name`: "gRPC Node", "grpc-go", ... are grpc; anything else is served like Envoy. */
export function flavorOf(userAgentName: string | undefined): NodeFlavor {
  return /grpc/i.test(userAgentName ?? '') ? 'grpc' : 'envoy';
}

/** gRPC status names a proxyless client retries on (grpc-js-xds `RETRY_CODES`). */
const GRPC_RETRY_ON: Readonly<Record<RetryOn, readonly string[]>> = {
  '5xx': ['internal', 'unavailable'],
  'gateway-error': ['unavailable'],
  reset: ['unavailable'],
  'connect-failure': ['unavailable'],
  'retriable-4xx': [],
  'refused-stream': ['unavailable'],
  unavailable: ['unavailable'],
  cancelled: ['cancelled'],
  'deadline-exceeded': ['deadline-exceeded'],
  'resource-exhausted': ['resource-exhausted'],
};

/** Envoy understands every RetryOn name as is: the HTTP ones and the gRPC status ones. */
const ENVOY_RETRY_ON: Readonly<Record<RetryOn, readonly string[]>> = {
  '5xx': ['5xx'],
  'gateway-error': ['gateway-error'],
  reset: ['reset'],
  'connect-failure': ['connect-failure'],
  'retriable-4xx': ['retriable-4xx'],
  'refused-stream': ['refused-stream'],
  unavailable: ['unavailable'],
  cancelled: ['cancelled'],
  'deadline-exceeded': ['deadline-exceeded'],
  'resource-exhausted': ['resource-exhausted'],
};

export interface Capabilities {
  /** How the client enters the route table: an `api_listener` per target, or one HTTP listener with a virtual host per route. */
  readonly listener: 'api-listener' | 'http-listener';
  /** Where the whole-request timeout goes: gRPC ignores `route.timeout` and reads `max_stream_duration` (A31). */
  readonly requestTimeout: 'route-timeout' | 'max-stream-duration';
  /** Our RetryOn names translated into what the client honours in `retry_policy.retry_on`. */
  readonly retryOn: Readonly<Record<RetryOn, readonly string[]>>;
  /** gRPC rejects `num_retries` < 1 (A44): with no retries the retry policy is left out. */
  readonly retryPolicyNeedsRetries: boolean;
  /**
   * Envoy's retry extensions: a retry avoids the hosts already tried (previous_hosts, as Istio
   * sets by default) and, for `retries.crossRegion`, the priorities (regions) already tried
   * (previous_priorities). gRPC implements neither (A44): its retries pick from the cluster again.
   */
  readonly retryExtensions: boolean;
  /** gRPC honours no consecutive-5xx ejection, only success-rate and failure-percentage (A50). */
  readonly outlierDetection: 'consecutive-5xx' | 'failure-percentage';
  /** gRPC reads only `max_requests` of the DEFAULT threshold: no retry budget, no connection limits. */
  readonly circuitBreakers: 'all-thresholds' | 'max-requests';
  /** Envoy needs the upstream protocol and a connect timeout; gRPC ignores both. */
  readonly upstreamConnectionOptions: boolean;
  /** gRPC rejects `common_tls_context.tls_params` (and custom handshakers) in a TLS context. */
  readonly tlsParams: boolean;
  /**
   * gRPC NACKs name the rejected resources ("resource index N: ...") and apply the valid rest
   * of the response (A46); Envoy's error is treated as a rejection of the whole response.
   */
  readonly perResourceNack: boolean;
  /**
   * Envoy routes to a new cluster only once it has warmed (received its endpoints): its route
   * table is held back until every cluster it references and their endpoints were sent. A
   * gRPC client asks for a cluster only after it saw the route, and waits by itself.
   */
  readonly holdRoutesUntilClustersSent: boolean;
}

export const CAPABILITIES: Readonly<Record<NodeFlavor, Capabilities>> = {
  grpc: {
    listener: 'api-listener',
    requestTimeout: 'max-stream-duration',
    retryOn: GRPC_RETRY_ON,
    retryPolicyNeedsRetries: true,
    retryExtensions: false,
    outlierDetection: 'failure-percentage',
    circuitBreakers: 'max-requests',
    upstreamConnectionOptions: false,
    tlsParams: false,
    perResourceNack: true,
    holdRoutesUntilClustersSent: false,
  },
  envoy: {
    listener: 'http-listener',
    requestTimeout: 'route-timeout',
    retryOn: ENVOY_RETRY_ON,
    retryPolicyNeedsRetries: true,
    retryExtensions: true,
    outlierDetection: 'consecutive-5xx',
    circuitBreakers: 'all-thresholds',
    upstreamConnectionOptions: true,
    tlsParams: true,
    perResourceNack: false,
    holdRoutesUntilClustersSent: true,
  },
};

export const FLAVORS: readonly NodeFlavor[] = ['grpc', 'envoy'];

/** How status names the nodes of a flavour. */
const FLAVOR_NAMES: Readonly<Record<NodeFlavor, string>> = { grpc: 'proxyless gRPC', envoy: 'Envoy' };

/**
 * What a client of `flavor` does not do of a route's retries, in words: status says so rather
 * than let a field be silently ignored. Pure.
 */
export function flavorLimits(retries: IntentRetries, flavor: NodeFlavor): string[] {
  const limits: string[] = [];
  if (retries.crossRegion && !CAPABILITIES[flavor].retryExtensions) limits.push('retries.crossRegion is not supported: retries stay in the region that was picked');
  return limits;
}

/** `count` nodes of `flavor` and one of its limits, as status.xds.notes reads. */
export function flavorNote(flavor: NodeFlavor, count: number, limit: string): string {
  return `${count} ${FLAVOR_NAMES[flavor]} node${count === 1 ? '' : 's'}: ${limit}`;
}

/**
 * Failure-percentage ejection standing in for consecutive-5xx on gRPC: an endpoint that failed
 * more than this share of at least `consecutive5xx` calls in an interval is ejected.
 */
export const GRPC_FAILURE_PERCENTAGE_THRESHOLD = 50;

/** Circuit-breaker limits (the intent carries none yet): Envoy's defaults. Retries are bounded by the retry budget instead. */
export const CIRCUIT_BREAKER_LIMITS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024 } as const;
