// The direct scrape source: for clusters without Prometheus, it reads each region's /metrics
// page itself (spec.telemetry.scrape.targets, one URL per region) every scrape interval and
// turns two consecutive pages into one RegionSample per region. A scrape that fails gives no
// data (never zeros), is counted and logged, and starts the region's priming over, so that
// no rate ever spans a gap.
//
// Counting: meshpilot_telemetry_queries_total{source="scrape"} counts one result per region
// target and scrape (ok, no_data, error, timeout, unreachable), also when regions share a URL
// and so one fetch; meshpilot_telemetry_events_rejected_total counts each page thrown away
// (malformed, too_large) once, and each series with a NaN, infinite or negative value
// (invalid_value). What reaches the sink is counted by the sink.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../base/clock.ts';
import { parseDuration } from '../../base/duration.ts';
import { QUERY_RESULTS, REJECT_REASONS, type QueryResult, type RejectReason, type TelemetryMetrics } from '../metrics.ts';
import type { RouteTarget, TelemetrySink, TelemetrySource } from '../types.ts';
import { ExpositionParseError, parseExposition, type MetricFamily } from './exposition-parser.ts';
import { fetchPage, ScrapeError } from './fetch-page.ts';
import { LogLimiter } from '../log-limiter.ts';
import { ENVOY_METRICS, GRPC_METRICS, hasData, readRegionCounters } from './region-counters.ts';
import { regionSignals, type ScrapeReading } from './region-signals.ts';

const SOURCE = 'scrape';

export const SCRAPE_DEFAULTS = {
  /** As Prometheus's default scrape_timeout; a scrape never takes longer than its interval either. */
  timeoutMs: 10_000,
  /** Envoy's page for a large mesh runs to several MB. */
  maxBodyBytes: 16 * 1024 * 1024,
  /** spec.telemetry.scrape.interval's default in the CRD. */
  intervalMs: 15_000,
  /** The CRD's minimum interval: shorter would only load the targets. */
  minIntervalMs: 1_000,
  /** One log line per failing target and reason per this long. */
  logIntervalMs: 60_000,
} as const;

export interface ScrapeSourceOptions {
  sink: TelemetrySink;
  logger: Logger;
  metrics: TelemetryMetrics;
  clock?: Clock;
  /** Longest wait for one page (default 10 s, capped at the route's interval). */
  timeoutMs?: number;
  /** Larger pages are refused (default 16 MiB). */
  maxBodyBytes?: number;
}

interface RegionState {
  region: string;
  url: string;
  /** The route's xDS cluster for the region: Envoy's envoy_cluster_name. */
  cluster: string;
  /** The last good scrape since the last failure: the start of the next interval. */
  primed: ScrapeReading | undefined;
  /** Why the latest scrape gave nothing; undefined when it answered. */
  problem: string | undefined;
}

interface FollowedRoute {
  target: RouteTarget;
  fingerprint: string;
  regions: RegionState[];
  /** A problem of the route's configuration, which no scrape can fix. */
  configProblem: string | undefined;
  abort: AbortController;
  done: Promise<void>;
}

function fingerprint(target: RouteTarget): string {
  return JSON.stringify({ regions: target.regions, scrape: target.telemetry.scrape ?? null });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ScrapeSource implements TelemetrySource {
  readonly kind = SOURCE;
  readonly #sink: TelemetrySink;
  readonly #log: Logger;
  readonly #metrics: TelemetryMetrics;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #limiter: LogLimiter;
  // Own agents, so that close() ends every kept-alive connection and nothing outlives the source.
  readonly #agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 4 }),
  };
  readonly #routes = new Map<string, FollowedRoute>();
  #closed = false;

  constructor(options: ScrapeSourceOptions) {
    this.#sink = options.sink;
    this.#log = options.logger.child({ component: 'telemetry', source: SOURCE });
    this.#metrics = options.metrics;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.timeoutMs ?? SCRAPE_DEFAULTS.timeoutMs;
    this.#maxBodyBytes = options.maxBodyBytes ?? SCRAPE_DEFAULTS.maxBodyBytes;
    this.#limiter = new LogLimiter(this.#clock, SCRAPE_DEFAULTS.logIntervalMs);
  }

  /**
   * Scrapes `target`'s telemetry.scrape.targets from now on: at once (that scrape only
   * primes, rates need two), then every interval. A route without scrape targets is not
   * followed. Watching an unchanged target again keeps its loop and priming; a changed one
   * starts over. Never throws.
   */
  watch(target: RouteTarget): void {
    if (this.#closed) return;
    const print = fingerprint(target);
    const current = this.#routes.get(target.key);
    if (current && current.fingerprint === print) {
      current.target = target;
      return;
    }
    if (current) this.#stop(current);
    const scrape = target.telemetry.scrape;
    if (!scrape || scrape.targets.length === 0) {
      this.#routes.delete(target.key);
      return;
    }
    const route: FollowedRoute = {
      target,
      fingerprint: print,
      regions: [],
      configProblem: undefined,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.#routes.set(target.key, route);
    let intervalMs: number = SCRAPE_DEFAULTS.intervalMs;
    try {
      if (scrape.interval !== undefined) intervalMs = Math.max(SCRAPE_DEFAULTS.minIntervalMs, parseDuration(scrape.interval));
    } catch (e) {
      route.configProblem = `telemetry.scrape.interval: ${messageOf(e)}`;
      this.#log.error({ route: target.key, reason: route.configProblem }, 'cannot scrape route: bad interval');
      return;
    }
    const unknown: string[] = [];
    for (const t of scrape.targets) {
      const destination = target.regions.find((r) => r.region === t.region);
      if (!destination) unknown.push(t.region);
      else route.regions.push({ region: t.region, url: t.url, cluster: destination.cluster, primed: undefined, problem: undefined });
    }
    if (unknown.length > 0) {
      route.configProblem = `telemetry.scrape.targets: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a destination region' : 'are not destination regions'} of the route`;
      this.#log.error({ route: target.key, reason: route.configProblem }, 'scrape targets name unknown regions; scraping the others');
    }
    route.done = this.#run(route, intervalMs);
    this.#log.debug({ route: target.key, targets: route.regions.map((r) => r.url), intervalMs }, 'scraping route');
  }

  /** Stops scraping `key`; a scrape in flight is abandoned and writes nothing. Idempotent. */
  unwatch(key: string): void {
    const route = this.#routes.get(key);
    if (!route) return;
    this.#routes.delete(key);
    this.#stop(route);
  }

  /** Why `key` gets no data from some region right now, per region; undefined when every target answers. */
  problem(key: string): string | undefined {
    const route = this.#routes.get(key);
    if (!route) return undefined;
    const problems = route.regions.filter((r) => r.problem !== undefined).map((r) => `${r.region}: ${r.problem}`);
    if (route.configProblem) problems.unshift(route.configProblem);
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  /** Stops every route and closes kept-alive connections. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const routes = [...this.#routes.values()];
    this.#routes.clear();
    for (const route of routes) route.abort.abort(new Error('scrape source closed'));
    await Promise.all(routes.map((r) => r.done));
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #stop(route: FollowedRoute): void {
    route.abort.abort(new Error(`stopped scraping ${route.target.key}`));
    this.#limiter.forget(`${route.target.key}|`);
  }

  async #run(route: FollowedRoute, intervalMs: number): Promise<void> {
    const signal = route.abort.signal;
    const timeoutMs = Math.min(this.#timeoutMs, intervalMs);
    let next = this.#clock.now();
    while (!signal.aborted) {
      // Regions that share a URL (one Envoy for all of them) share one fetch and one parse.
      const byUrl = new Map<string, RegionState[]>();
      for (const r of route.regions) byUrl.set(r.url, [...(byUrl.get(r.url) ?? []), r]);
      await Promise.all([...byUrl].map(([url, regions]) => this.#scrape(route, url, regions, timeoutMs)));
      // Fixed rate: the next scrape is due one interval after this one was, not after it ended.
      next += intervalMs;
      const now = this.#clock.now();
      if (next < now) next = now;
      try {
        await this.#clock.sleep(next - now, signal);
      } catch {
        return;
      }
    }
  }

  async #scrape(route: FollowedRoute, url: string, regions: RegionState[], timeoutMs: number): Promise<void> {
    const signal = route.abort.signal;
    const started = this.#clock.now();
    let families: Map<string, MetricFamily>;
    try {
      const page = await fetchPage(url, { clock: this.#clock, timeoutMs, maxBodyBytes: this.#maxBodyBytes, signal, agents: this.#agents });
      if (signal.aborted) return;
      try {
        families = parseExposition(page.text, { format: page.format });
      } catch (e) {
        if (!(e instanceof ExpositionParseError)) throw e;
        throw new ScrapeError(QUERY_RESULTS.error, `not the Prometheus text format: ${e.message}`, REJECT_REASONS.malformed, e);
      }
    } catch (e) {
      if (signal.aborted) return;
      const error = e instanceof ScrapeError ? e : new ScrapeError(QUERY_RESULTS.error, messageOf(e), undefined, e);
      this.#observe(started);
      this.#fail(route, url, regions, error.result, error.message, error.reject);
      return;
    }
    this.#observe(started);
    const atMs = this.#clock.now();
    for (const region of regions) this.#read(route, region, families, atMs);
  }

  #observe(startedMs: number): void {
    this.#metrics.queryDuration.labels(SOURCE).observe(Math.max(0, this.#clock.now() - startedMs) / 1000);
  }

  #read(route: FollowedRoute, region: RegionState, families: ReadonlyMap<string, MetricFamily>, atMs: number): void {
    const counters = readRegionCounters(families, region.cluster);
    if (counters.invalid.length > 0) {
      this.#metrics.rejected.labels(SOURCE, REJECT_REASONS.invalidValue).inc(counters.invalid.length);
      this.#logLimited(`${route.target.key}|${region.url}|invalid`, 'warn', { route: route.target.key, region: region.region, url: region.url, series: counters.invalid.slice(0, 5) },
        `scrape: ${counters.invalid.length} series with a NaN, infinite or negative value; the signals they feed are left out`);
    }
    if (!hasData(counters)) {
      this.#fail(route, region.url, [region], QUERY_RESULTS.noData,
        `no ${GRPC_METRICS.duration} or ${GRPC_METRICS.started} series, and no ${ENVOY_METRICS.requests} or ${ENVOY_METRICS.time} series with envoy_cluster_name="${region.cluster}"`);
      return;
    }
    this.#metrics.queries.labels(SOURCE, QUERY_RESULTS.ok).inc();
    if (region.problem !== undefined) {
      this.#log.info({ route: route.target.key, region: region.region, url: region.url }, 'scrape target answers again');
      this.#limiter.forget(`${route.target.key}|${region.url}|`);
    }
    region.problem = undefined;
    const reading: ScrapeReading = { atMs, counters };
    const previous = region.primed;
    region.primed = reading;
    if (!previous) return;
    const values = regionSignals(previous, reading);
    if (Object.keys(values).length === 0) return;
    this.#sink.recordSample({ route: route.target.key, region: region.region, atMs, source: SOURCE, values });
  }

  #fail(route: FollowedRoute, url: string, regions: RegionState[], result: QueryResult, reason: string, reject?: RejectReason): void {
    this.#metrics.queries.labels(SOURCE, result).inc(regions.length);
    if (reject !== undefined) this.#metrics.rejected.labels(SOURCE, reject).inc();
    for (const r of regions) {
      r.primed = undefined;
      r.problem = `scrape of ${url}: ${reason}`;
    }
    this.#logLimited(`${route.target.key}|${url}|${result}`, 'warn', { route: route.target.key, regions: regions.map((r) => r.region), url, result, reason },
      `scrape failed (${result}): ${reason}`);
  }

  #logLimited(key: string, level: 'warn', fields: Record<string, unknown>, message: string): void {
    const { log, suppressed } = this.#limiter.take(key);
    if (log) this.#log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
