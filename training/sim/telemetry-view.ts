// What the operator's window store would hold for the simulated route, fed the way Prometheus
// feeds it: at the end of every decision interval, one sample per region of rate, error rate
// and quantiles over the sliding window (rate()/histogram_quantile() over [window]), plus
// saturation and a health verdict, measured with a little noise. The store's rules carry
// over: a value is the latest one delivered and ages until it is stale (kept, marked not
// fresh), a signal never delivered is null, an idle region reports a rate of 0 but no error
// rate or quantiles (undefined over no requests), and trends are least-squares slopes over
// the points of the last window. Telemetry that is cut off delivers nothing; telemetry that
// goes missing also loses what was known (as after an operator restart).
import { leastSquaresTrend } from '../../operator/telemetry/trend.ts';
import type { HealthReading, Reading, RegionSnapshot, RouteSnapshot, Signal } from '../../operator/telemetry/types.ts';
import { TELEMETRY_DELIVERED, TELEMETRY_MISSING } from './events.ts';
import { GRID_SIZE, gridQuantile } from './math.ts';
import type { RouteInterval } from './interval-summary.ts';

interface Slot {
  delivered: boolean;
  tries: number;
  failed: number;
  cdf: Float64Array;
}

interface Latest {
  value: number;
  atMs: number;
}

/** A trend signal's recent points. */
interface Points {
  times: number[];
  values: number[];
}

const NEVER: Reading = Object.freeze({ value: null, fresh: false, ageMs: null, source: null });
const SIGNAL_NAMES: readonly Signal[] = ['requestRate', 'errorRate', 'latencyP50', 'latencyP90', 'latencyP99', 'saturation'];

/** The window store's trend (leastSquaresTrend) of points kept oldest first. */
function trend(p: Points, since: number, spanMs: number): number | null {
  return leastSquaresTrend(p.times, p.values, p.times.length, (k) => k, since, spanMs);
}

export interface TelemetryViewOptions {
  route: string;
  regions: string[];
  /** Decision intervals in the window. */
  slots: number;
  intervalMs: number;
  staleAfterMs: number;
  /** Relative standard deviation of measurement noise. */
  noise: number;
  /** Standard normal draws (seeded). */
  normal: () => number;
  /**
   * Whether a health verdict is delivered (default true). Serving gets verdicts only from
   * Kafka health events; a route read from Prometheus or a scrape has none.
   */
  healthChecks?: boolean;
  /** Per region (by index), how its telemetry is off: late by whole intervals, biased, lost at random. Absent: delivered as measured. */
  conditions?: (RegionTelemetryCondition | undefined)[];
  /** Uniform draws for losses (seeded); needed only when a condition loses deliveries. */
  uniform?: () => number;
}

export interface RegionTelemetryCondition {
  delayIntervals: number;
  latencyBias: number;
  errorBias: number;
  lossRate: number;
}

/** What one region's telemetry measured at `atMs`, waiting to be delivered. */
interface Measurement {
  atMs: number;
  values: Partial<Record<Signal, number>>;
  healthy: boolean;
}

interface RegionState {
  ring: Slot[];
  latest: Partial<Record<Signal, Latest>>;
  health: { healthy: boolean; atMs: number } | undefined;
  rate: Points;
  p99: Points;
  /** Its telemetry went missing in the last interval recorded. */
  lost: boolean;
  /** Measured, not delivered yet (a delayed pipeline), oldest first. */
  pending: Measurement[];
}

/** What one region's telemetry delivered at the end of one interval, as a source hands it to the window store. */
export interface RegionDelivery {
  region: string;
  /** Its telemetry went missing: everything known of the region was dropped (and nothing arrived). */
  lost: boolean;
  /** The values measured at the interval's end; a signal left out was not delivered (none: nothing arrived). */
  values: Partial<Record<Signal, number>>;
  /** The health verdict delivered with them (null: none). */
  healthy: boolean | null;
}

/** What the telemetry of every region delivered at the end of one interval. */
export interface TelemetryDelivery {
  atMs: number;
  regions: RegionDelivery[];
}

export class TelemetryView {
  readonly #o: TelemetryViewOptions;
  readonly #regions: RegionState[];
  /** Ring position of the slot being recorded. */
  #next = 0;
  /** End of the last interval recorded (null: none yet). */
  #lastAtMs: number | null = null;
  readonly #merged = new Float64Array(GRID_SIZE);

  constructor(options: TelemetryViewOptions) {
    this.#o = options;
    this.#regions = options.regions.map(() => ({
      ring: Array.from({ length: options.slots }, () => ({ delivered: false, tries: 0, failed: 0, cdf: new Float64Array(GRID_SIZE) })),
      latest: {},
      health: undefined,
      rate: { times: [], values: [] },
      p99: { times: [], values: [] },
      lost: false,
      pending: [],
    }));
  }

  /** Takes what the interval produced; what was delivered is measured at the interval's end. */
  record(interval: RouteInterval): void {
    const o = this.#o;
    const at = interval.endMs;
    interval.regions.forEach((region, r) => {
      const state = this.#regions[r]!;
      const slot = state.ring[this.#next]!;
      const condition = o.conditions?.[r];
      const dropped = condition !== undefined && condition.lossRate > 0 && o.uniform!() < condition.lossRate;
      slot.delivered = region.telemetry === TELEMETRY_DELIVERED;
      slot.tries = region.tries;
      slot.failed = region.failedTries;
      slot.cdf.set(region.latencyCdf);
      state.lost = region.telemetry === TELEMETRY_MISSING;
      if (state.lost) {
        state.latest = {};
        state.health = undefined;
        state.rate = { times: [], values: [] };
        state.p99 = { times: [], values: [] };
        state.pending = [];
      }
      if (slot.delivered) {
        const noisy = (v: number) => Math.max(0, v * (1 + o.noise * o.normal()));
        const w = this.#window(r);
        const values: Partial<Record<Signal, number>> = { requestRate: noisy(w.rate), saturation: noisy(region.saturation) };
        if (w.tries > 0) {
          values.errorRate = Math.min(1, noisy(w.failed / w.tries) * (condition?.errorBias ?? 1));
          // One noise draw for the three quantiles: a measurement that reads high reads high across the board.
          const k = Math.max(0, 1 + o.noise * o.normal()) * (condition?.latencyBias ?? 1);
          values.latencyP50 = gridQuantile(this.#merged, w.tries, 0.5)! * k;
          values.latencyP90 = gridQuantile(this.#merged, w.tries, 0.9)! * k;
          values.latencyP99 = gridQuantile(this.#merged, w.tries, 0.99)! * k;
        }
        // A lost delivery is measured all the same and then dropped, so that the noise drawn for
        // every other region stays where it was; the window misses it from now on.
        if (dropped) slot.delivered = false;
        else state.pending.push({ atMs: at, values, healthy: region.healthy });
      }
      // A delayed pipeline hands over what was measured that many intervals ago, with its own
      // time: the store sees it already aged.
      const delayMs = (condition?.delayIntervals ?? 0) * o.intervalMs;
      while (state.pending.length > 0 && state.pending[0]!.atMs + delayMs <= at) this.#deliver(state, state.pending.shift()!);
    });
    this.#next = (this.#next + 1) % o.slots;
    this.#lastAtMs = at;
  }

  /**
   * What the last `record` delivered, region by region: the values and verdict stamped with its
   * end, exactly as the snapshot reads them. For tests that feed serving's window store the
   * same data; built on demand, so recording costs nothing for it. Null before any record.
   */
  lastDelivery(): TelemetryDelivery | null {
    const at = this.#lastAtMs;
    if (at === null) return null;
    return {
      atMs: at,
      regions: this.#o.regions.map((region, r) => {
        const state = this.#regions[r]!;
        const values: Partial<Record<Signal, number>> = {};
        for (const sig of SIGNAL_NAMES) {
          const l = state.latest[sig];
          if (l && l.atMs === at) values[sig] = l.value;
        }
        const healthy = state.health && state.health.atMs === at ? state.health.healthy : null;
        return { region, lost: state.lost, values, healthy };
      }),
    };
  }

  /** The snapshot the operator's store would return at `nowMs`. */
  snapshot(nowMs: number): RouteSnapshot {
    const o = this.#o;
    const windowMs = o.slots * o.intervalMs;
    const regions: RegionSnapshot[] = o.regions.map((name, r) => {
      const state = this.#regions[r]!;
      const signals = {} as Record<Signal, Reading>;
      let newest: number | null = null;
      for (const sig of SIGNAL_NAMES) {
        const l = state.latest[sig];
        if (!l) {
          signals[sig] = NEVER;
          continue;
        }
        const ageMs = Math.max(0, nowMs - l.atMs);
        signals[sig] = { value: l.value, fresh: ageMs <= o.staleAfterMs, ageMs, source: 'prometheus' };
        if (newest === null || l.atMs > newest) newest = l.atMs;
      }
      const h = state.health;
      const healthAge = h ? Math.max(0, nowMs - h.atMs) : null;
      const health: HealthReading = h
        ? { healthy: h.healthy, fresh: healthAge! <= o.staleAfterMs, ageMs: healthAge, source: 'prometheus' }
        : { healthy: null, fresh: false, ageMs: null, source: null };
      // The store's rule: the rate decides when one was ever reported, else any fresh signal.
      const fresh = signals.requestRate.ageMs !== null ? signals.requestRate.fresh : SIGNAL_NAMES.some((sig) => signals[sig].fresh);
      return {
        region: name,
        signals,
        health,
        trends: { requestRate: trend(state.rate, nowMs - windowMs, windowMs), latencyP99: trend(state.p99, nowMs - windowMs, windowMs) },
        newestAgeMs: newest === null ? null : Math.max(0, nowMs - newest),
        fresh,
      };
    });
    return {
      route: o.route,
      atMs: nowMs,
      staleAfterMs: o.staleAfterMs,
      regions,
      fresh: regions.every((r) => r.fresh),
      sources: regions.some((r) => r.newestAgeMs !== null) ? ['prometheus'] : [],
    };
  }

  /** Takes `m` into what the store holds (its latest values, trend points and verdict). */
  #deliver(state: RegionState, m: Measurement): void {
    for (const sig of SIGNAL_NAMES) {
      const v = m.values[sig];
      if (v !== undefined) state.latest[sig] = { value: v, atMs: m.atMs };
    }
    if (m.values.requestRate !== undefined) this.#push(state.rate, m.atMs, m.values.requestRate);
    if (m.values.latencyP99 !== undefined) this.#push(state.p99, m.atMs, m.values.latencyP99);
    if (this.#o.healthChecks !== false) state.health = { healthy: m.healthy, atMs: m.atMs };
  }

  /** Keeps the points of the last window and one before it (enough for any trend read). */
  #push(p: Points, atMs: number, value: number): void {
    p.times.push(atMs);
    p.values.push(value);
    if (p.times.length > this.#o.slots + 1) {
      p.times.shift();
      p.values.shift();
    }
  }

  /** The delivered slots of the window ending with the one being recorded, merged into #merged. */
  #window(r: number) {
    const o = this.#o;
    const merged = this.#merged;
    merged.fill(0);
    let tries = 0, failed = 0, slots = 0;
    for (const slot of this.#regions[r]!.ring) {
      if (!slot.delivered) continue;
      slots++;
      tries += slot.tries;
      failed += slot.failed;
      for (let i = 0; i < GRID_SIZE; i++) merged[i]! += slot.cdf[i]!;
    }
    return { tries, failed, rate: slots > 0 ? tries / ((slots * o.intervalMs) / 1000) : 0 };
  }
}
