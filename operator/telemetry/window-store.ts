// The window store: every followed route's per-region windows, the one place sources write
// to and the policy reads from. It is also the last line of defence for "no data is not
// zero": whatever a source hands it is validated here (finite, non-negative, fractions within
// 0..1, timestamps neither from the future nor older than the window, a followed route and
// region), and what fails is counted by reason and dropped, never stored.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { REJECT_REASONS, telemetryGauge, type RejectReason, type TelemetryMetrics } from './metrics.ts';
import { RateLimitedLog } from './log-limiter.ts';
import { RegionWindow, type HealthState, type WindowGeometry } from './region-window.ts';
import { SIGNALS, SOURCE_KINDS } from './types.ts';
import type {
  HealthObservation,
  RegionSample,
  RequestObservation,
  RouteSnapshot,
  RouteTarget,
  Signal,
  SourceKind,
  TelemetrySink,
} from './types.ts';

export interface WindowStoreOptions {
  clock: Clock;
  metrics: TelemetryMetrics;
  /** Where the lag and window gauges are registered (none: no gauges). */
  registry?: Registry;
  logger?: Logger;
  /** Length of the sliding window rates and quantiles are computed over (default 60 s). */
  windowMs?: number;
  /**
   * Sub-windows the raw-event window is cut into (default 6: 10 s slots for 60 s). Each holds
   * a latency sketch, so this is the main lever on memory per window; the window slides in
   * steps of one slot.
   */
  slots?: number;
  /** How far in the future a timestamp may be before it is rejected (default 30 s). */
  maxClockSkewMs?: number;
  /** Aggregated points kept per trend signal (default 32). */
  historyPoints?: number;
}

interface RouteEntry {
  target: RouteTarget;
  trackedSinceMs: number;
  windows: Map<string, RegionWindow>;
}

/** Fractions that cannot exceed 1. */
const FRACTIONS: ReadonlySet<Signal> = new Set(['errorRate']);
/** Float noise from ratios of counters (errors/requests) is not bad input. */
const FRACTION_SLACK = 1e-9;

export class WindowStore implements TelemetrySink {
  readonly #clock: Clock;
  readonly #metrics: TelemetryMetrics;
  readonly #geometry: WindowGeometry;
  readonly #skewMs: number;
  readonly #routes = new Map<string, RouteEntry>();
  /** Health verdicts that name no route: they apply to every route with the region. */
  readonly #regionHealth = new Map<string, HealthState>();
  /** Newest data timestamp each source delivered, for meshpilot_telemetry_lag_seconds. */
  readonly #newestBySource = new Map<SourceKind, number>();
  /** A flood of bad input costs one log line per source and reason per 10 s. */
  readonly #logs: RateLimitedLog | undefined;

  constructor(options: WindowStoreOptions) {
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#logs = options.logger ? new RateLimitedLog(options.logger, options.clock) : undefined;
    const windowMs = options.windowMs ?? 60_000;
    const slots = options.slots ?? 6;
    if (!(windowMs > 0) || !Number.isInteger(slots) || slots < 2 || windowMs % slots !== 0) {
      throw new RangeError(`window store: windowMs (${windowMs}) must be a positive multiple of slots (${slots} >= 2)`);
    }
    this.#geometry = { windowMs, slotMs: windowMs / slots, historyPoints: options.historyPoints ?? 32 };
    this.#skewMs = options.maxClockSkewMs ?? 30_000;
    if (options.registry) this.#registerGauges(options.registry);
  }

  get windowMs(): number {
    return this.#geometry.windowMs;
  }

  /** Follows `target`: windows of regions it keeps survive, new regions start empty, dropped ones go. */
  track(target: RouteTarget): void {
    const existing = this.#routes.get(target.key);
    const windows = new Map<string, RegionWindow>();
    for (const { region } of target.regions) {
      windows.set(region, existing?.windows.get(region) ?? new RegionWindow(region, this.#geometry));
    }
    this.#routes.set(target.key, { target, trackedSinceMs: existing?.trackedSinceMs ?? this.#clock.now(), windows });
  }

  untrack(key: string): void {
    this.#routes.delete(key);
  }

  tracked(): string[] {
    return [...this.#routes.keys()];
  }

  target(key: string): RouteTarget | undefined {
    return this.#routes.get(key)?.target;
  }

  recordSample(sample: RegionSample): number {
    const window = this.#window(sample.source, sample.route, sample.region);
    if (!window) return 0;
    if (!this.#timely(sample.source, sample.atMs, `sample for ${sample.route} ${sample.region}`)) return 0;
    const values: Partial<Record<Signal, number>> = {};
    let kept = 0;
    for (const signal of SIGNALS) {
      const value = sample.values[signal];
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value < 0 || (FRACTIONS.has(signal) && value > 1 + FRACTION_SLACK)) {
        this.#reject(sample.source, REJECT_REASONS.invalidValue, `${sample.route} ${sample.region} ${signal}: ${value} is not a valid value`);
        continue;
      }
      values[signal] = FRACTIONS.has(signal) ? Math.min(1, value) : value;
      kept++;
    }
    if (kept === 0) return 0;
    window.addSample({ ...sample, values });
    this.#delivered(sample.source, sample.atMs, 1);
    return 1;
  }

  recordRequests(source: SourceKind, requests: readonly RequestObservation[]): number {
    const now = this.#clock.now();
    let kept = 0;
    let newest = -Infinity;
    let lastRoute = '', lastRegion = '';
    let window: RegionWindow | undefined;
    const rejected = new Map<RejectReason, { count: number; example: string }>();
    const reject = (reason: RejectReason, example: string) => {
      const entry = rejected.get(reason);
      if (entry) entry.count++;
      else rejected.set(reason, { count: 1, example });
    };
    for (const r of requests) {
      // Batches are mostly one route and region after another: look the window up only on change.
      if (r.route !== lastRoute || r.region !== lastRegion || !window) {
        lastRoute = r.route;
        lastRegion = r.region;
        const entry = this.#routes.get(r.route);
        window = entry?.windows.get(r.region);
        if (!window) {
          reject(entry ? REJECT_REASONS.unknownRegion : REJECT_REASONS.unknownRoute, `${r.route} ${r.region}`);
          continue;
        }
      }
      if (!Number.isFinite(r.latencyMs) || r.latencyMs < 0) {
        reject(REJECT_REASONS.invalidValue, `${r.route} ${r.region} latencyMs ${r.latencyMs}`);
        continue;
      }
      if (!Number.isFinite(r.atMs) || r.atMs > now + this.#skewMs) {
        reject(REJECT_REASONS.futureTimestamp, `${r.route} ${r.region} at ${r.atMs}`);
        continue;
      }
      if (!window.addRequest(now, r.atMs, r.latencyMs, r.error, source)) {
        reject(REJECT_REASONS.expired, `${r.route} ${r.region} at ${new Date(r.atMs).toISOString()}`);
        continue;
      }
      kept++;
      if (r.atMs > newest) newest = r.atMs;
    }
    for (const [reason, { count, example }] of rejected) this.#reject(source, reason, `${count} request event(s), e.g. ${example}`, count);
    if (kept > 0) this.#delivered(source, newest, kept);
    return kept;
  }

  recordHealth(health: HealthObservation): number {
    const state: HealthState = {
      healthy: health.healthy,
      atMs: health.atMs,
      source: health.source,
      ...(health.reason !== undefined ? { reason: health.reason } : {}),
    };
    if (health.route === undefined) {
      if (!this.#timely(health.source, health.atMs, `health of ${health.region}`)) return 0;
      const before = this.#regionHealth.get(health.region);
      if (!before || state.atMs >= before.atMs) this.#regionHealth.set(health.region, state);
    } else {
      const window = this.#window(health.source, health.route, health.region);
      if (!window || !this.#timely(health.source, health.atMs, `health of ${health.route} ${health.region}`)) return 0;
      window.setHealth(state);
    }
    this.#delivered(health.source, health.atMs, 1);
    return 1;
  }

  /** What the policy reads for `key`: every destination region, each value fresh or stale. */
  snapshot(key: string): RouteSnapshot | undefined {
    const entry = this.#routes.get(key);
    if (!entry) return undefined;
    const now = this.#clock.now();
    const { staleAfterMs } = entry.target;
    const regions = entry.target.regions.map(({ region }) =>
      entry.windows.get(region)!.read(now, staleAfterMs, entry.trackedSinceMs, this.#regionHealth.get(region)),
    );
    const sources = new Set<SourceKind>();
    for (const r of regions) {
      for (const reading of Object.values(r.signals)) if (reading.source) sources.add(reading.source);
      if (r.health.source) sources.add(r.health.source);
    }
    return {
      route: key,
      atMs: now,
      staleAfterMs,
      regions,
      fresh: regions.length > 0 && regions.every((r) => r.fresh),
      sources: SOURCE_KINDS.filter((s) => sources.has(s)),
    };
  }

  /**
   * Freshness of `key` without computing quantiles: the regions that are not fresh and the
   * age of the oldest newest-data among them (null: a region never reported).
   */
  freshness(key: string): { fresh: boolean; staleRegions: string[]; oldestAgeMs: number | null } | undefined {
    const entry = this.#routes.get(key);
    if (!entry) return undefined;
    const now = this.#clock.now();
    const staleRegions: string[] = [];
    let oldestAgeMs: number | null = 0;
    for (const [region, window] of entry.windows) {
      if (window.isFresh(now, entry.target.staleAfterMs)) continue;
      staleRegions.push(region);
      const newest = window.newestMs(now);
      if (newest === null) oldestAgeMs = null;
      else if (oldestAgeMs !== null) oldestAgeMs = Math.max(oldestAgeMs, now - newest);
    }
    return { fresh: staleRegions.length === 0 && entry.windows.size > 0, staleRegions, oldestAgeMs: staleRegions.length ? oldestAgeMs : 0 };
  }

  #window(source: SourceKind, route: string, region: string): RegionWindow | undefined {
    const entry = this.#routes.get(route);
    const window = entry?.windows.get(region);
    if (!window) {
      this.#reject(source, entry ? REJECT_REASONS.unknownRegion : REJECT_REASONS.unknownRoute, `${route} ${region}`);
    }
    return window;
  }

  /** Rejects timestamps that are not finite, from the future beyond the skew, or older than the window. */
  #timely(source: SourceKind, atMs: number, what: string): boolean {
    const now = this.#clock.now();
    if (!Number.isFinite(atMs) || atMs > now + this.#skewMs) {
      this.#reject(source, REJECT_REASONS.futureTimestamp, `${what}: timestamp ${atMs} is more than ${this.#skewMs} ms ahead`);
      return false;
    }
    if (atMs <= now - this.#geometry.windowMs) {
      this.#reject(source, REJECT_REASONS.expired, `${what}: ${new Date(atMs).toISOString()} is older than the window`);
      return false;
    }
    return true;
  }

  #delivered(source: SourceKind, atMs: number, count: number): void {
    this.#metrics.consumed.inc({ source }, count);
    const before = this.#newestBySource.get(source);
    if (before === undefined || atMs > before) this.#newestBySource.set(source, atMs);
  }

  #reject(source: SourceKind, reason: RejectReason, detail: string, count = 1): void {
    this.#metrics.rejected.inc({ source, reason }, count);
    this.#logs?.warn(`${source}/${reason}`, { source, reason, detail }, 'telemetry rejected');
  }

  #registerGauges(registry: Registry): void {
    const clock = this.#clock, newestBySource = this.#newestBySource, routes = this.#routes;
    telemetryGauge(registry, 'meshpilot_telemetry_lag_seconds', 'Age of the newest data each telemetry source delivered', ['source'], function () {
      this.reset();
      const now = clock.now();
      for (const [source, atMs] of newestBySource) this.set({ source }, Math.max(0, (now - atMs) / 1000));
    });
    telemetryGauge(registry, 'meshpilot_telemetry_windows', 'Per-route, per-region telemetry windows, by freshness', ['state'], function () {
      let fresh = 0, stale = 0;
      const now = clock.now();
      for (const entry of routes.values()) {
        for (const window of entry.windows.values()) {
          if (window.isFresh(now, entry.target.staleAfterMs)) fresh++;
          else stale++;
        }
      }
      this.set({ state: 'fresh' }, fresh);
      this.set({ state: 'stale' }, stale);
    });
  }
}
