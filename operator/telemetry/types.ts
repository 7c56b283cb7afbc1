// The telemetry contract: what sources deliver, what the window store keeps and what the
// policy reads. Units are fixed here once so that no source or consumer has to guess:
// latency in milliseconds, rates per second, error rate and saturation as fractions.
// "No data" is a state, not a number: a value that is absent, NaN or infinite never enters a
// window, and a snapshot marks every value fresh or stale instead of inventing zeros.
import type { TelemetrySpec } from '../api/types.ts';

export const SOURCE_KINDS = ['prometheus', 'kafka', 'scrape'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** The per-region signals a window holds (health is kept apart: it is a verdict, not a measurement). */
export const SIGNALS = ['requestRate', 'errorRate', 'latencyP50', 'latencyP90', 'latencyP99', 'saturation'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Quantile of each latency signal. */
export const LATENCY_QUANTILES = { latencyP50: 0.5, latencyP90: 0.9, latencyP99: 0.99 } as const;

/**
 * One region of one route, measured at one instant by an aggregating source (a Prometheus
 * query, a scrape, a pre-aggregated Kafka window event). A signal the source could not
 * measure is left out; it is never 0 in place of "unknown".
 */
export interface RegionSample {
  /** "namespace/name" of the AdaptiveRoute. */
  route: string;
  region: string;
  /** When the data was measured (the source's timestamp, not the arrival time), ms since the epoch. */
  atMs: number;
  source: SourceKind;
  values: Partial<Record<Signal, number>>;
}

/** One request, as a Kafka request event describes it. */
export interface RequestObservation {
  route: string;
  region: string;
  atMs: number;
  latencyMs: number;
  error: boolean;
}

/** A region's health verdict; without `route` it applies to every route that has the region. */
export interface HealthObservation {
  route?: string;
  region: string;
  atMs: number;
  healthy: boolean;
  reason?: string;
  source: SourceKind;
}

/**
 * Where sources put what they read: the window store. Each call validates what it is given
 * (finite, non-negative, not from the future, for a tracked route and region); what fails is
 * counted as rejected with a reason and dropped. The returned count is what was kept.
 */
export interface TelemetrySink {
  recordSample(sample: RegionSample): number;
  recordRequests(source: SourceKind, requests: readonly RequestObservation[]): number;
  recordHealth(health: HealthObservation): number;
}

/** One destination of a followed route, with the names sources fill into query templates. */
export interface RegionTarget {
  region: string;
  /** The destination's backend host (spec.destinations[].service). */
  service: string;
  port: number;
  /** Envoy's `envoy_cluster_name` for this route and region: the xDS cluster's alt_stat_name (its name, dots replaced by _). */
  cluster: string;
}

/** What a source needs to know to follow one AdaptiveRoute. */
export interface RouteTarget {
  /** "namespace/name". */
  key: string;
  namespace: string;
  name: string;
  host: string;
  regions: RegionTarget[];
  telemetry: TelemetrySpec;
  decisionIntervalMs: number;
  staleAfterMs: number;
}

/**
 * A telemetry source. It follows the routes it is told to watch and writes what it reads into
 * the sink; it never throws at its caller for a failure of the system it reads (it counts,
 * logs and reports the failure through `problem`) and it keeps no decision state.
 */
export interface TelemetrySource {
  readonly kind: SourceKind;
  /** Follows `target`, replacing what was followed under the same key. Idempotent. */
  watch(target: RouteTarget): void;
  unwatch(key: string): void;
  /** Why this source is not delivering for `key` right now, in words (undefined: no known problem). */
  problem(key: string): string | undefined;
  close(): Promise<void>;
}

/** How fresh one value is. `value` stays the last known one when stale (null: never seen). */
export interface Reading {
  value: number | null;
  fresh: boolean;
  /** Age of the data behind `value` (null: never seen). */
  ageMs: number | null;
  source: SourceKind | null;
}

export interface HealthReading {
  /** null: no verdict has been seen. */
  healthy: boolean | null;
  fresh: boolean;
  ageMs: number | null;
  source: SourceKind | null;
  reason?: string;
}

export interface RegionSnapshot {
  region: string;
  signals: Record<Signal, Reading>;
  health: HealthReading;
  /**
   * Change over the window as a fraction of the window's mean (+0.5: up by half), from the
   * history of the signal; null when fewer than two points are known.
   */
  trends: { requestRate: number | null; latencyP99: number | null };
  /** Age of the newest data of any signal of this region (null: none ever). */
  newestAgeMs: number | null;
  /**
   * The region's data is live: its request rate is fresh (a reported 0 counts), or, if it never
   * reported a rate, some signal is. Values keep their own freshness.
   */
  fresh: boolean;
}

/** What the policy reads for one route: every destination region, each value marked fresh or stale. */
export interface RouteSnapshot {
  route: string;
  atMs: number;
  staleAfterMs: number;
  regions: RegionSnapshot[];
  /** Every region is fresh. */
  fresh: boolean;
  /** The sources that delivered any of the data in this snapshot. */
  sources: SourceKind[];
}
