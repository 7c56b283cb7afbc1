// The Prometheus telemetry source: for every followed route, one round of instant queries per
// decision interval (one query per signal, or per signal and region for per-region templates),
// written to the sink as one RegionSample per region; and, when a route starts being followed
// (after a restart, typically), one range query per signal over the window to fill its history
// at once instead of a window's worth of decisions later.
//
// A query that times out, fails, answers something that is not Prometheus JSON, or answers
// nothing usable (empty, NaN, ±Inf) gives that signal no value for that round: it is left out
// of the sample, never written as 0. Each such outcome is counted (queries{result} by the
// client, rejected{invalid_value} for single NaN/Inf series here) and logged, rate-limited.
import type { Logger } from 'pino';
import type { Clock } from '../../base/clock.ts';
import { REJECT_REASONS, type TelemetryMetrics } from '../metrics.ts';
import {
  LATENCY_QUANTILES,
  SIGNALS,
  type RegionSample,
  type RouteTarget,
  type Signal,
  type TelemetrySink,
  type TelemetrySource,
} from '../types.ts';
import { PrometheusClient, type DroppedValue, type Labels, type QueryOutcome } from './client.ts';
import { RateLimitedLog } from '../log-limiter.ts';
import { nextOnPhase } from '../schedule-phase.ts';
import { renderTemplate, routeTemplates, type CompiledTemplate, type RouteTemplates } from './promql-templates.ts';
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';

const SOURCE = 'prometheus';
const LOG_INTERVAL_MS = 60_000;
const DEFAULT_RATE_WINDOW_MS = 60_000;

export interface PrometheusSourceOptions {
  sink: TelemetrySink;
  clock: Clock;
  logger: Logger;
  metrics: TelemetryMetrics;
  /** The operator's Prometheus, for routes that name none (spec.telemetry.prometheus.url). */
  defaultUrl?: string;
  /** How far back the warm-up range query reaches (the window store's window). */
  windowMs: number;
  /** Deadline of one query, time waiting for a free connection included. */
  timeoutMs: number;
  /** Queries in flight per Prometheus; default 8. */
  concurrency?: number;
  /**
   * The range of rate() and histogram buckets, {{window}}; default 1m (four scrapes at
   * Prometheus's default 15 s interval). Never shorter than the route's decision interval,
   * so that no request falls between two decisions.
   */
  rateWindowMs?: number;
}

/** What one round of a route delivered. */
export interface RoundReport {
  key: string;
  /** The samples handed to the sink, as handed. */
  samples: RegionSample[];
  /** What `problem(key)` says after this round. */
  problem: string | undefined;
}

interface Failure {
  signal: Signal;
  region?: string;
  result: string;
  reason: string;
}

interface Watched {
  target: RouteTarget;
  fingerprint: string;
  templates: RouteTemplates;
  abort: AbortController;
  problem: string | undefined;
  done: Promise<void>;
}

/** Values of one region at one instant. */
type Gathered = Map<string, Map<number, Partial<Record<Signal, number>>>>;

function isLatency(signal: Signal): boolean {
  return signal in LATENCY_QUANTILES;
}

export class PrometheusSource implements TelemetrySource {
  readonly kind = SOURCE;
  readonly #sink: TelemetrySink;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: TelemetryMetrics;
  readonly #defaultUrl: string | undefined;
  readonly #windowMs: number;
  readonly #rateWindowMs: number;
  readonly #client: PrometheusClient;
  readonly #logs: RateLimitedLog;
  readonly #watched = new Map<string, Watched>();

  constructor(options: PrometheusSourceOptions) {
    this.#sink = options.sink;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ source: SOURCE });
    this.#metrics = options.metrics;
    this.#defaultUrl = options.defaultUrl;
    this.#windowMs = options.windowMs;
    this.#rateWindowMs = options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS;
    this.#client = new PrometheusClient({ metrics: options.metrics, timeoutMs: options.timeoutMs, concurrency: options.concurrency });
    this.#logs = new RateLimitedLog(this.#logger, options.clock, LOG_INTERVAL_MS);
  }

  /**
   * Follows `target`. A route not followed yet gets a warm-up range query, then a round right
   * away and one per decision interval on the route's phase (schedule-phase.ts); a route already followed keeps its schedule and uses
   * the new target from its next round. Idempotent.
   */
  watch(target: RouteTarget): void {
    const fingerprint = JSON.stringify(target);
    const existing = this.#watched.get(target.key);
    if (existing) {
      if (existing.fingerprint === fingerprint) return;
      existing.target = target;
      existing.fingerprint = fingerprint;
      existing.templates = this.#compile(target);
      return;
    }
    const entry: Watched = {
      target,
      fingerprint,
      templates: this.#compile(target),
      abort: new AbortController(),
      problem: undefined,
      done: Promise.resolve(),
    };
    this.#watched.set(target.key, entry);
    entry.done = this.#follow(entry);
  }

  unwatch(key: string): void {
    const entry = this.#watched.get(key);
    if (!entry) return;
    this.#watched.delete(key);
    entry.abort.abort(new Error(`route ${key} is no longer followed`));
    this.#logs.forget(`${key} `);
  }

  problem(key: string): string | undefined {
    return this.#watched.get(key)?.problem;
  }

  /**
   * Runs one round of instant queries for `key` now, outside its schedule, and resolves once
   * the samples are in the sink. Throws when `key` is not followed.
   */
  async pollOnce(key: string): Promise<RoundReport> {
    const entry = this.#watched.get(key);
    if (!entry) throw new MeshpilotError(ERROR_CODES.INTERNAL, `prometheus source does not follow route ${key}`);
    return this.#round(entry);
  }

  /** Stops every route's rounds and waits for them to end. Idempotent. */
  async close(): Promise<void> {
    const entries = [...this.#watched.values()];
    for (const entry of entries) this.unwatch(entry.target.key);
    await Promise.all(entries.map((e) => e.done));
  }

  #compile(target: RouteTarget): RouteTemplates {
    const templates = routeTemplates(target);
    for (const error of templates.errors) {
      this.#logger.error({ route: target.key, err: error.message }, `${error.message}: this signal has no data until the query is fixed`);
    }
    return templates;
  }

  #url(target: RouteTarget): string | undefined {
    return target.telemetry.prometheus?.url ?? this.#defaultUrl;
  }

  async #follow(entry: Watched): Promise<void> {
    const signal = entry.abort.signal;
    try {
      await this.#guard(entry, () => this.#warmUp(entry));
      // The first round runs at once (a route is fresh as soon as it can be); later rounds
      // sit on the route's phase, so routes followed together do not query together.
      for (;;) {
        const started = this.#clock.now();
        await this.#guard(entry, () => this.#round(entry));
        const interval = entry.target.decisionIntervalMs;
        const next = nextOnPhase(started, entry.target.key, interval, interval / 2);
        await this.#clock.sleep(Math.max(0, next - this.#clock.now()), signal);
      }
    } catch (e) {
      // Only an abort (unwatch, close) ends the schedule; #guard keeps everything else inside.
      if (!signal.aborted) this.#logger.error({ route: entry.target.key, err: e }, 'prometheus schedule ended unexpectedly');
    }
  }

  /** Runs `step`; a bug in it is logged and reported, and the schedule goes on. */
  async #guard(entry: Watched, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (e) {
      if (entry.abort.signal.aborted) throw e;
      const message = e instanceof Error ? e.message : String(e);
      entry.problem = `prometheus: internal error: ${message}`;
      this.#logger.error({ route: entry.target.key, err: e }, 'prometheus round failed');
    }
  }

  async #round(entry: Watched): Promise<RoundReport> {
    const target = entry.target;
    const url = this.#url(target);
    if (url === undefined) return this.#finish(entry, [], [], undefined);
    const atMs = this.#clock.now();
    const gathered: Gathered = new Map();
    const failures: Failure[] = [];
    await this.#eachQuery(entry, async (t, region, query) => {
      const outcome = await this.#client.instant(url, query, { atMs, signal: entry.abort.signal, maxSeries: region ? 1 : undefined });
      this.#collect(entry, t, region, outcome, failures, (r, series) => add(gathered, r, series.atMs, t.signal, series.value));
    });
    const samples = this.#write(target, gathered);
    return this.#finish(entry, samples, failures, url);
  }

  async #warmUp(entry: Watched): Promise<void> {
    const target = entry.target;
    const url = this.#url(target);
    if (url === undefined) return;
    // Points one decision apart, ending one decision before now (where the first round
    // follows) and strictly inside the window (an older one could never be read).
    const step = target.decisionIntervalMs;
    const points = Math.ceil(this.#windowMs / step) - 1;
    if (points < 1) return;
    const endMs = this.#clock.now() - step;
    const startMs = endMs - (points - 1) * step;
    const gathered: Gathered = new Map();
    const failures: Failure[] = [];
    await this.#eachQuery(entry, async (t, region, query) => {
      const outcome = await this.#client.range(url, query, { startMs, endMs, stepMs: step, signal: entry.abort.signal, maxSeries: region ? 1 : undefined });
      this.#collect(entry, t, region, outcome, failures, (r, series) => {
        for (const p of series.points) add(gathered, r, p.atMs, t.signal, p.value);
      });
    });
    const samples = this.#write(target, gathered);
    this.#logger.info(
      { route: target.key, samples: samples.length, failed: failures.length, fromMs: startMs, toMs: endMs },
      `warmed up the window of ${target.key} from a range query`,
    );
  }

  /** Calls `run` with every query a round makes for `entry`, concurrently. */
  async #eachQuery(entry: Watched, run: (t: CompiledTemplate, region: string | undefined, query: string) => Promise<void>): Promise<void> {
    const target = entry.target;
    if (target.regions.length === 0) return;
    const window = Math.max(this.#rateWindowMs, target.decisionIntervalMs);
    const runs: Promise<void>[] = [];
    for (const t of Object.values(entry.templates.templates)) {
      if (t.perRegion) {
        for (const region of target.regions) runs.push(run(t, region.region, renderTemplate(t, target, window, region)));
      } else {
        runs.push(run(t, undefined, renderTemplate(t, target, window)));
      }
    }
    await Promise.all(runs);
  }

  /**
   * Takes the usable series of one outcome (handing each to `take` with its region), and
   * records the failure or the values that could not be used.
   */
  #collect<T extends { labels: Labels }>(
    entry: Watched,
    t: CompiledTemplate,
    region: string | undefined,
    outcome: QueryOutcome<T>,
    failures: Failure[],
    take: (region: string, series: T) => void,
  ): void {
    const key = entry.target.key;
    if (outcome.result !== 'ok') {
      failures.push({ signal: t.signal, region, result: outcome.result, reason: outcome.reason });
      // A Prometheus that is down, or a metric nobody exports, fails the default query of every
      // route alike: one line per Prometheus, signal and result says it. An override is the
      // route's own and is told apart.
      const cause = `${this.#url(entry.target)} ${t.signal} ${outcome.result} ${t.field === 'default' ? 'default' : `${key} ${region ?? ''}`}`;
      this.#warn(cause, { route: key, signal: t.signal, region, result: outcome.result },
        `${outcome.message}: no ${t.signal} for ${region ? `region ${region} of ` : ''}${key} this round`);
      return;
    }
    const regions = new Set(entry.target.regions.map((r) => r.region));
    if (region !== undefined) {
      const only = outcome.series[0];
      if (only) take(region, only);
      this.#reject(key, t.signal, outcome.dropped, () => region);
      return;
    }
    const byRegion = new Map<string, T[]>();
    let unlabelled = 0;
    for (const series of outcome.series) {
      const r = series.labels.region;
      if (r === undefined) unlabelled++;
      else if (regions.has(r)) byRegion.set(r, [...(byRegion.get(r) ?? []), series]);
    }
    for (const [r, list] of byRegion) {
      if (list.length === 1) {
        take(r, list[0]!);
        continue;
      }
      // Two series for one region: taking either would be a guess.
      this.#metrics.rejected.inc({ source: SOURCE, reason: REJECT_REASONS.schema }, list.length);
      this.#warn(`${key} ${t.signal} ${r} duplicate`, { route: key, signal: t.signal, region: r, reason: REJECT_REASONS.schema },
        `${t.field} for ${key} returned ${list.length} series for region ${r}: aggregate it, e.g. sum by (region) (...); no ${t.signal} for the region this round`);
    }
    if (unlabelled > 0) {
      this.#metrics.rejected.inc({ source: SOURCE, reason: REJECT_REASONS.schema }, unlabelled);
      this.#warn(`${key} ${t.signal} unlabelled`, { route: key, signal: t.signal, reason: REJECT_REASONS.schema },
        `${t.field} for ${key} returned ${unlabelled} series without a region label: a query without {{region}} must keep the label, e.g. sum by (region) (...)`);
    }
    this.#reject(key, t.signal, outcome.dropped, (labels) => (labels.region !== undefined && regions.has(labels.region) ? labels.region : undefined));
  }

  /** Counts and logs the NaN/Inf values of an otherwise usable answer (those of other regions are not ours). */
  #reject(key: string, signal: Signal, dropped: DroppedValue[], regionOf: (labels: Labels) => string | undefined): void {
    for (const d of dropped) {
      const region = regionOf(d.labels);
      if (region === undefined) continue;
      this.#metrics.rejected.inc({ source: SOURCE, reason: REJECT_REASONS.invalidValue });
      this.#warn(`${key} ${signal} ${region} invalid`, { route: key, signal, region, reason: REJECT_REASONS.invalidValue },
        `prometheus answered ${d.value} for ${signal} of region ${region} of ${key}: no data, not 0`);
    }
  }

  #warn(cause: string, fields: Record<string, unknown>, message: string): void {
    this.#logs.warn(cause, fields, message);
  }

  /** Hands the gathered values to the sink, one sample per region and instant, oldest first. */
  #write(target: RouteTarget, gathered: Gathered): RegionSample[] {
    const samples: RegionSample[] = [];
    for (const [region, byTime] of gathered) {
      for (const [atMs, values] of byTime) samples.push({ route: target.key, region, atMs, source: SOURCE, values });
    }
    samples.sort((a, b) => a.atMs - b.atMs);
    for (const sample of samples) this.#sink.recordSample(sample);
    return samples;
  }

  #finish(entry: Watched, samples: RegionSample[], failures: Failure[], url: string | undefined): RoundReport {
    entry.problem = this.#describe(entry, samples, failures, url);
    return { key: entry.target.key, samples, problem: entry.problem };
  }

  #describe(entry: Watched, samples: RegionSample[], failures: Failure[], url: string | undefined): string | undefined {
    const target = entry.target;
    const broken = entry.templates.errors[0];
    if (broken) return `prometheus: ${broken.message}`;
    if (url === undefined) {
      this.#warn(`${target.key} no-url`, { route: target.key }, `no Prometheus URL for ${target.key}: it gets no data from Prometheus`);
      return 'prometheus: no URL: set spec.telemetry.prometheus.url or give the operator a default Prometheus URL';
    }
    const where = (f: Failure) => `${f.signal} query${f.region ? ` for region ${f.region}` : ''}`;
    // In signal order, so that the same failure is told however the queries raced.
    failures.sort((a, b) => SIGNALS.indexOf(a.signal) - SIGNALS.indexOf(b.signal));
    const failed = failures.find((f) => f.result !== 'no_data');
    if (failed) return `prometheus ${url}: ${where(failed)} ${failed.reason}`;
    const silent = target.regions.find((r) => !samples.some((s) => s.region === r.region));
    if (silent) {
      const why = failures.find((f) => f.region === undefined || f.region === silent.region);
      return `prometheus ${url}: no data for region ${silent.region}${why ? ` (${where(why)} ${why.reason})` : ''}`;
    }
    return undefined;
  }
}

function add(gathered: Gathered, region: string, atMs: number, signal: Signal, value: number): void {
  let byTime = gathered.get(region);
  if (!byTime) gathered.set(region, (byTime = new Map()));
  let values = byTime.get(atMs);
  if (!values) byTime.set(atMs, (values = {}));
  // Latency templates answer in seconds (Prometheus's base unit); windows keep milliseconds.
  values[signal] = isLatency(signal) ? value * 1000 : value;
}
