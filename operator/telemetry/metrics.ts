// The telemetry metric families, one place for every source and the window store, named as
// Prometheus expects (meshpilot_telemetry_*, base units, _total counters).
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, DURATION_BUCKETS } from '../base/metrics.ts';

/** Why a piece of telemetry was not taken into a window; the `reason` label. */
export const REJECT_REASONS = {
  /** Not JSON, or not the Prometheus text format. */
  malformed: 'malformed',
  /** JSON that does not match the event schema (the log line names the field). */
  schema: 'schema',
  /** A schema version this operator does not read. */
  unknownVersion: 'unknown_version',
  /** Larger than the configured maximum message size. */
  tooLarge: 'too_large',
  /** NaN, infinite, negative or out-of-range value. */
  invalidValue: 'invalid_value',
  /** Timestamp further in the future than the allowed clock skew. */
  futureTimestamp: 'future_timestamp',
  /** Older than the window: it could never be read. */
  expired: 'expired',
  /** For a route this operator does not follow. */
  unknownRoute: 'unknown_route',
  /** For a region the route does not have. */
  unknownRegion: 'unknown_region',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];

/** Outcome of one query or scrape; the `result` label. */
export const QUERY_RESULTS = {
  ok: 'ok',
  /** Answered, but with nothing usable (empty, NaN, Inf): "no data", never zero. */
  noData: 'no_data',
  /** HTTP error status, or an answer that is not the expected format (an HTML error page). */
  error: 'error',
  timeout: 'timeout',
  /** Could not connect. */
  unreachable: 'unreachable',
} as const;
export type QueryResult = (typeof QUERY_RESULTS)[keyof typeof QUERY_RESULTS];

export interface TelemetryMetrics {
  /** meshpilot_telemetry_events_consumed_total{source}: events, samples or series taken into windows. */
  consumed: Counter<'source'>;
  /** meshpilot_telemetry_events_rejected_total{source,reason}. */
  rejected: Counter<'source' | 'reason'>;
  /** meshpilot_telemetry_queries_total{source,result}: Prometheus queries and scrapes. */
  queries: Counter<'source' | 'result'>;
  /** meshpilot_telemetry_query_duration_seconds{source}. */
  queryDuration: Histogram<'source'>;
  /** meshpilot_telemetry_dead_letters_total{source,result}: rejected messages copied to the dead-letter topic. */
  deadLetters: Counter<'source' | 'result'>;
  /** meshpilot_telemetry_kafka_rebalances_total{event}: assignments and revocations of the consumer group. */
  rebalances: Counter<'event'>;
  /** meshpilot_telemetry_kafka_commits_total{result}. */
  commits: Counter<'result'>;
}

export function telemetryMetrics(registry: Registry): TelemetryMetrics {
  return {
    consumed: counter(registry, {
      name: 'meshpilot_telemetry_events_consumed_total',
      help: 'Telemetry events, samples and series taken into windows, by source',
      labelNames: ['source'],
    }),
    rejected: counter(registry, {
      name: 'meshpilot_telemetry_events_rejected_total',
      help: 'Telemetry events and samples rejected (counted, logged and skipped), by source and reason',
      labelNames: ['source', 'reason'],
    }),
    queries: counter(registry, {
      name: 'meshpilot_telemetry_queries_total',
      help: 'Prometheus queries and direct scrapes, by source and result',
      labelNames: ['source', 'result'],
    }),
    queryDuration: histogram(registry, {
      name: 'meshpilot_telemetry_query_duration_seconds',
      help: 'Duration of Prometheus queries and direct scrapes',
      labelNames: ['source'],
      buckets: DURATION_BUCKETS,
    }),
    deadLetters: counter(registry, {
      name: 'meshpilot_telemetry_dead_letters_total',
      help: 'Rejected messages copied to the dead-letter topic, by source and result (ok, error)',
      labelNames: ['source', 'result'],
    }),
    rebalances: counter(registry, {
      name: 'meshpilot_telemetry_kafka_rebalances_total',
      help: 'Consumer group partition assignments and revocations',
      labelNames: ['event'],
    }),
    commits: counter(registry, {
      name: 'meshpilot_telemetry_kafka_commits_total',
      help: 'Consumer offset commits, by result',
      labelNames: ['result'],
    }),
  };
}

/** A gauge whose value is computed at scrape time (the window store's lag and staleness). */
export function telemetryGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  collect: (this: Gauge<L>) => void,
): Gauge<L> {
  return gauge(registry, { name, help, labelNames, collect });
}
