// What one scrape of one region's /metrics page says, reduced to the cumulative counters and
// gauges the scrape source turns into signals. Two dialects are recognised, the same metric
// families the Prometheus source reads by default:
// - gRPC server metrics with the gRFC A66 names: everything on the page belongs to the region;
// - Envoy's /stats/prometheus cluster stats, only for the route's xDS cluster of the region.
// When a page has both, gRPC's own view of its calls wins for requests, errors and latency,
// and Envoy's circuit-breaker gauges still give the saturation.
import type { MetricFamily, Sample } from './exposition-parser.ts';
import { parseFloatToken } from './exposition-lexicon.ts';
import { samplesNamed } from './exposition-parser.ts';

export const GRPC_METRICS = {
  /** Histogram of completed calls, in seconds, labels grpc_method and grpc_status. */
  duration: 'grpc_server_call_duration_seconds',
  started: 'grpc_server_call_started_total',
} as const;

export const ENVOY_METRICS = {
  requests: 'envoy_cluster_upstream_rq_total',
  /** By envoy_response_code_class ("5" for 5xx). */
  responseClasses: 'envoy_cluster_upstream_rq_xx',
  /** Histogram in milliseconds. */
  time: 'envoy_cluster_upstream_rq_time',
  active: 'envoy_cluster_upstream_rq_active',
  remaining: 'envoy_cluster_circuit_breakers_default_remaining_rq',
} as const;

export const GRPC_OK = 'OK';

/** One series of a latency histogram's buckets. */
export interface BucketSeries {
  /** Upper bound in milliseconds. */
  leMs: number;
  value: number;
}

export interface RegionCounters {
  /** Where requests, errors and latency come from; two scrapes compare only within one source. */
  origin: 'grpc' | 'envoy' | 'none';
  /** Finished (or, failing that, started) requests: series key -> cumulative count. */
  requests: Map<string, number> | undefined;
  /** The failed subset of those requests; undefined when the page cannot tell failures apart. */
  errors: Map<string, number> | undefined;
  /** Latency histogram buckets by series key (the key includes `le`). */
  latency: Map<string, BucketSeries> | undefined;
  /** In use / (in use + remaining) of the cluster's request circuit breaker, now. */
  saturation: number | undefined;
  /** Names of recognised series dropped for a NaN, infinite or negative value. */
  invalid: string[];
}

function seriesKey(sample: Sample): string {
  return `${sample.name}${JSON.stringify(sample.labels)}`;
}

function usable(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * Cumulative values by series; undefined when there are none, or when any is unusable (a sum
 * with one series missing would show a false drop now and a false jump later). The names of
 * unusable series are added to `invalid`.
 */
function counterMap(samples: readonly Sample[], invalid: string[]): Map<string, number> | undefined {
  if (samples.length === 0) return undefined;
  const map = new Map<string, number>();
  let ok = true;
  for (const s of samples) {
    if (!usable(s.value)) {
      invalid.push(`${s.name}${JSON.stringify(s.labels)}=${s.value}`);
      ok = false;
    } else {
      map.set(seriesKey(s), s.value);
    }
  }
  return ok ? map : undefined;
}

function bucketMap(samples: readonly Sample[], scaleToMs: number, invalid: string[]): Map<string, BucketSeries> | undefined {
  if (samples.length === 0) return undefined;
  const map = new Map<string, BucketSeries>();
  let ok = true;
  for (const s of samples) {
    // The parser has checked that every bucket's `le` is a number.
    const le = parseFloatToken(s.labels.le ?? '') ?? NaN;
    if (!usable(s.value) || Number.isNaN(le)) {
      invalid.push(`${s.name}${JSON.stringify(s.labels)}=${s.value}`);
      ok = false;
    } else {
      map.set(seriesKey(s), { leMs: le * scaleToMs, value: s.value });
    }
  }
  return ok ? map : undefined;
}

function readGrpc(families: ReadonlyMap<string, MetricFamily>, counters: RegionCounters): boolean {
  const counts = samplesNamed(families, `${GRPC_METRICS.duration}_count`);
  const buckets = samplesNamed(families, `${GRPC_METRICS.duration}_bucket`);
  const started = samplesNamed(families, GRPC_METRICS.started);
  if (counts.length === 0 && buckets.length === 0 && started.length === 0) return false;
  counters.origin = 'grpc';
  if (counts.length > 0) {
    counters.requests = counterMap(counts, counters.invalid);
    if (counters.requests) {
      counters.errors = counterMap(counts.filter((s) => s.labels.grpc_status !== GRPC_OK), counters.invalid) ?? new Map();
    }
  } else {
    counters.requests = counterMap(started, counters.invalid);
  }
  counters.latency = bucketMap(buckets, 1000, counters.invalid);
  return true;
}

function readEnvoy(families: ReadonlyMap<string, MetricFamily>, cluster: string, counters: RegionCounters, withCalls: boolean): void {
  const ofCluster = (name: string): Sample[] => samplesNamed(families, name).filter((s) => s.labels.envoy_cluster_name === cluster);
  if (withCalls) {
    const requests = ofCluster(ENVOY_METRICS.requests);
    const classes = ofCluster(ENVOY_METRICS.responseClasses);
    const buckets = ofCluster(`${ENVOY_METRICS.time}_bucket`);
    if (requests.length > 0 || buckets.length > 0) counters.origin = 'envoy';
    counters.requests = counterMap(requests, counters.invalid);
    // Envoy creates a response-class series on the first response of that class: once any
    // class exists for the cluster, a missing "5" means no 5xx so far.
    if (counters.requests && classes.length > 0) {
      counters.errors = counterMap(classes.filter((s) => s.labels.envoy_response_code_class === '5'), counters.invalid) ?? new Map();
    }
    counters.latency = bucketMap(buckets, 1, counters.invalid);
  }
  const active = ofCluster(ENVOY_METRICS.active)[0];
  const remaining = ofCluster(ENVOY_METRICS.remaining)[0];
  if (active && remaining) {
    if (!usable(active.value) || !usable(remaining.value)) {
      counters.invalid.push(`${ENVOY_METRICS.active}=${active.value}, ${ENVOY_METRICS.remaining}=${remaining.value}`);
    } else if (active.value + remaining.value > 0) {
      counters.saturation = active.value / (active.value + remaining.value);
    }
  }
}

/**
 * The counters of one region from a parsed page. `cluster` is the route's xDS cluster for
 * the region (Envoy's envoy_cluster_name). `origin` is 'none' when the page has neither
 * dialect for the region (saturation may still be known). Pure.
 */
export function readRegionCounters(families: ReadonlyMap<string, MetricFamily>, cluster: string): RegionCounters {
  const counters: RegionCounters = { origin: 'none', requests: undefined, errors: undefined, latency: undefined, saturation: undefined, invalid: [] };
  const grpc = readGrpc(families, counters);
  readEnvoy(families, cluster, counters, !grpc);
  return counters;
}

/** Whether a page gave anything this source can turn into a signal. */
export function hasData(counters: RegionCounters): boolean {
  return counters.origin !== 'none' || counters.saturation !== undefined;
}
