// The route's retry budget, one contract kept in two places: the guard bounds the attempts it
// asks for so that the expected retries fit (policy/retry-budget.ts), and Envoy enforces it per
// request at the cluster (xds/build-cluster.ts, circuit_breakers retry_budget), so that a burst
// of failures between two decisions cannot turn into a retry storm either. Linkerd's defaults
// (retryRatio 0.2, minRetriesPerSecond 10) and Envoy's (budget_percent 20, min_retry_concurrency
// 3) say the same thing in a rate and in a concurrency. Proxyless gRPC has no retry budget
// (grpc-js-xds reads only max_requests of a cluster's circuit breakers): there only the
// guard's bound applies.

/** Retries may add at most this share of the route's requests (Envoy: of its active requests). */
export const RETRY_BUDGET_RATIO = 0.2;
/** ... plus this many retries per second, so that a quiet route can still retry (Linkerd). */
export const RETRY_BUDGET_MIN_RPS = 10;
/** ... and never fewer than this many retries in flight per cluster (Envoy's default floor). */
export const RETRY_BUDGET_MIN_CONCURRENCY = 3;
