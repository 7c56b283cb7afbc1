// The sliding window of one (route, region). Two kinds of input meet here: raw request events
// (counted into sub-window slots with a latency sketch each, so a window is the merge of its
// slots and old slots fall off by time) and pre-aggregated samples (the latest value of each
// signal, plus a short history for trends). A read picks, per signal, whichever is newer.
// Nothing non-finite is ever stored: callers validate, and reads of empty data say null.
import { LatencySketch } from './latency-sketch.ts';
import { leastSquaresTrend } from './trend.ts';
import { LATENCY_QUANTILES, SIGNALS } from './types.ts';
import type { HealthReading, Reading, RegionSample, RegionSnapshot, Signal, SourceKind } from './types.ts';

export interface WindowGeometry {
  windowMs: number;
  /** Width of one raw-event slot; windowMs is a whole number of slots. */
  slotMs: number;
  /** Aggregated points kept per trend signal. */
  historyPoints: number;
}

export interface HealthState {
  healthy: boolean;
  atMs: number;
  source: SourceKind;
  reason?: string;
}

interface Slot {
  start: number;
  count: number;
  errors: number;
  sketch: LatencySketch | null;
  newestMs: number;
}

interface Latest {
  value: number;
  atMs: number;
  source: SourceKind;
}

/** Signals whose trend the policy reads. */
const TREND_SIGNALS = ['requestRate', 'latencyP99'] as const;
type TrendSignal = (typeof TREND_SIGNALS)[number];

/** A fixed ring of (time, value) points. */
class History {
  readonly times: Float64Array;
  readonly values: Float64Array;
  length = 0;
  #next = 0;

  constructor(size: number) {
    this.times = new Float64Array(size);
    this.values = new Float64Array(size);
  }

  push(atMs: number, value: number): void {
    this.times[this.#next] = atMs;
    this.values[this.#next] = value;
    this.#next = (this.#next + 1) % this.times.length;
    this.length = Math.min(this.length + 1, this.times.length);
  }

  /** Ring index of the k-th oldest point. */
  #index(k: number): number {
    return this.length < this.times.length ? k : (this.#next + k) % this.times.length;
  }

  /** See leastSquaresTrend: over the points oldest first, wherever the ring wraps. */
  trend(since: number, spanMs: number): number | null {
    return leastSquaresTrend(this.times, this.values, this.length, (k) => this.#index(k), since, spanMs);
  }
}

function relativeChange(before: number | null, after: number | null): number | null {
  if (before === null || after === null) return null;
  const mean = (before + after) / 2;
  return mean > 0 ? (after - before) / mean : null;
}

/** The share of a window the store must have watched a route for before it reports trends. */
export const TREND_WARMUP = 0.5;

const NEVER: Reading = Object.freeze({ value: null, fresh: false, ageMs: null, source: null });

export class RegionWindow {
  readonly region: string;
  readonly #geometry: WindowGeometry;
  /** Allocated on the first raw event: most windows fed by Prometheus never need them. */
  #slots: Slot[] | null = null;
  #rawSource: SourceKind | null = null;
  readonly #latest: Partial<Record<Signal, Latest>> = {};
  readonly #history: Partial<Record<TrendSignal, History>> = {};
  #health: HealthState | undefined;

  constructor(region: string, geometry: WindowGeometry) {
    this.region = region;
    this.#geometry = geometry;
  }

  /**
   * Counts one request into its slot. False if it is older than the window. A timestamp
   * slightly in the future (within the caller's skew allowance) counts as now, so it cannot
   * land in a slot that still holds the oldest part of the window.
   */
  addRequest(now: number, atMs: number, latencyMs: number, error: boolean, source: SourceKind): boolean {
    const { windowMs, slotMs } = this.#geometry;
    const at = Math.min(atMs, now);
    const start = at - (at % slotMs);
    const current = now - (now % slotMs);
    if (start <= current - windowMs) return false;
    const slots = (this.#slots ??= Array.from({ length: windowMs / slotMs }, () => ({ start: -1, count: 0, errors: 0, sketch: null, newestMs: 0 })));
    const slot = slots[(start / slotMs) % slots.length]!;
    if (slot.start !== start) {
      slot.start = start;
      slot.count = 0;
      slot.errors = 0;
      slot.sketch = null;
      slot.newestMs = 0;
    }
    slot.count++;
    if (error) slot.errors++;
    (slot.sketch ??= new LatencySketch()).add(latencyMs);
    if (atMs > slot.newestMs) slot.newestMs = atMs;
    this.#rawSource = source;
    return true;
  }

  /** Takes the sample's signals (already validated by the store). */
  addSample(sample: RegionSample): void {
    for (const signal of SIGNALS) {
      const value = sample.values[signal];
      if (value === undefined) continue;
      const latest = this.#latest[signal];
      if (!latest || sample.atMs >= latest.atMs) this.#latest[signal] = { value, atMs: sample.atMs, source: sample.source };
    }
    for (const signal of TREND_SIGNALS) {
      const value = sample.values[signal];
      if (value !== undefined) (this.#history[signal] ??= new History(this.#geometry.historyPoints)).push(sample.atMs, value);
    }
  }

  setHealth(health: HealthState): void {
    if (!this.#health || health.atMs >= this.#health.atMs) this.#health = health;
  }

  /** Timestamp of the newest data of any kind (null: none). */
  newestMs(now: number): number | null {
    let newest: number | null = null;
    for (const signal of SIGNALS) {
      const at = this.#latest[signal]?.atMs;
      if (at !== undefined && (newest === null || at > newest)) newest = at;
    }
    const raw = this.#rawNewest(now);
    if (raw !== null && (newest === null || raw > newest)) newest = raw;
    return newest;
  }

  /** The region's freshness as `read` reports it, without merging sketches. */
  isFresh(now: number, staleAfterMs: number): boolean {
    const raw = this.#rawNewest(now);
    const ages: Partial<Record<Signal, number>> = {};
    for (const signal of SIGNALS) {
      const latest = this.#latest[signal];
      const rawAt = RAW_SIGNALS.has(signal) ? raw : null;
      const at = Math.max(latest?.atMs ?? -Infinity, rawAt ?? -Infinity);
      if (at !== -Infinity) ages[signal] = now - at;
    }
    return regionFresh(ages, staleAfterMs);
  }

  read(now: number, staleAfterMs: number, trackedSinceMs: number, regionHealth: HealthState | undefined): RegionSnapshot {
    const raw = this.#rawAggregate(now, trackedSinceMs);
    const signals = {} as Record<Signal, Reading>;
    let newest: number | null = null;
    const ages: Partial<Record<Signal, number>> = {};
    const trendSource: Partial<Record<TrendSignal, 'raw' | 'aggregated'>> = {};
    for (const signal of SIGNALS) {
      const latest = this.#latest[signal];
      const rawValue = raw?.values[signal] ?? null;
      let pick: Latest | undefined = latest;
      if (raw && rawValue !== null && (!latest || raw.newestMs >= latest.atMs)) {
        pick = { value: rawValue, atMs: raw.newestMs, source: this.#rawSource! };
        if (signal === 'requestRate' || signal === 'latencyP99') trendSource[signal] = 'raw';
      } else if (latest && (signal === 'requestRate' || signal === 'latencyP99')) {
        trendSource[signal] = 'aggregated';
      }
      if (!pick) {
        signals[signal] = NEVER;
        continue;
      }
      const ageMs = Math.max(0, now - pick.atMs);
      const isFresh = ageMs <= staleAfterMs;
      signals[signal] = { value: pick.value, fresh: isFresh, ageMs, source: pick.source };
      ages[signal] = ageMs;
      if (newest === null || pick.atMs > newest) newest = pick.atMs;
    }
    // A route the store has watched for less than TREND_WARMUP of a window has trends that are
    // the warm-up (the first seconds of data, stretched over the window), not a change in the
    // region: none yet. A trend is evidence to move, and the demo's route moved on one.
    const warming = now - trackedSinceMs < TREND_WARMUP * this.#geometry.windowMs;
    const trend = (signal: TrendSignal): number | null => {
      if (warming) return null;
      if (trendSource[signal] === 'raw') return raw!.trends[signal];
      if (trendSource[signal] === 'aggregated') return this.#history[signal]?.trend(now - this.#geometry.windowMs, this.#geometry.windowMs) ?? null;
      return null;
    };
    return {
      region: this.region,
      signals,
      health: healthReading(this.#health, regionHealth, now, staleAfterMs),
      trends: { requestRate: trend('requestRate'), latencyP99: trend('latencyP99') },
      newestAgeMs: newest === null ? null : Math.max(0, now - newest),
      fresh: regionFresh(ages, staleAfterMs),
    };
  }

  #live(now: number): Slot[] {
    if (!this.#slots) return [];
    const { windowMs, slotMs } = this.#geometry;
    const current = now - (now % slotMs);
    return this.#slots.filter((s) => s.start > current - windowMs && s.count > 0);
  }

  #rawNewest(now: number): number | null {
    let newest: number | null = null;
    for (const slot of this.#live(now)) if (newest === null || slot.newestMs > newest) newest = slot.newestMs;
    return newest;
  }

  #rawAggregate(now: number, trackedSinceMs: number) {
    const live = this.#live(now);
    if (live.length === 0) return null;
    const { windowMs, slotMs } = this.#geometry;
    const current = now - (now % slotMs);
    const windowStart = current - windowMs + slotMs;
    const span = Math.max(slotMs, Math.min(now - windowStart, now - trackedSinceMs));
    const middle = windowStart + (current + slotMs - windowStart) / 2;
    const all = new LatencySketch(), early = new LatencySketch(), late = new LatencySketch();
    let count = 0, errors = 0, newestMs = 0, earlyCount = 0, lateCount = 0;
    for (const slot of live) {
      count += slot.count;
      errors += slot.errors;
      if (slot.newestMs > newestMs) newestMs = slot.newestMs;
      if (slot.sketch) all.merge(slot.sketch);
      if (slot.start < middle) {
        earlyCount += slot.count;
        if (slot.sketch) early.merge(slot.sketch);
      } else {
        lateCount += slot.count;
        if (slot.sketch) late.merge(slot.sketch);
      }
    }
    const values: Partial<Record<Signal, number | null>> = { requestRate: count / (span / 1000), errorRate: errors / count };
    for (const [signal, q] of Object.entries(LATENCY_QUANTILES) as [Signal, number][]) values[signal] = all.quantile(q);
    const half = span / 2000;
    return {
      newestMs,
      values,
      trends: {
        requestRate: relativeChange(earlyCount / half, lateCount / half),
        latencyP99: relativeChange(early.quantile(0.99), late.quantile(0.99)),
      },
    };
  }
}

/**
 * Is a region's data live? The request rate decides when the region has ever reported one: a
 * source that still reports a rate (even 0) is delivering, while quantiles of an idle region
 * are undefined and rightly absent, so they must not make the region stale. Without a rate,
 * any fresh signal will do. Each value still carries its own freshness for the policy.
 */
function regionFresh(ages: Partial<Record<Signal, number>>, staleAfterMs: number): boolean {
  const rate = ages.requestRate;
  if (rate !== undefined) return rate <= staleAfterMs;
  return Object.values(ages).some((age) => age <= staleAfterMs);
}

/** Signals raw request events can produce (saturation only comes from aggregated samples). */
const RAW_SIGNALS: ReadonlySet<Signal> = new Set(['requestRate', 'errorRate', 'latencyP50', 'latencyP90', 'latencyP99']);

function healthReading(own: HealthState | undefined, regionWide: HealthState | undefined, now: number, staleAfterMs: number): HealthReading {
  const pick = !own ? regionWide : !regionWide ? own : own.atMs >= regionWide.atMs ? own : regionWide;
  if (!pick) return { healthy: null, fresh: false, ageMs: null, source: null };
  const ageMs = Math.max(0, now - pick.atMs);
  return {
    healthy: pick.healthy,
    fresh: ageMs <= staleAfterMs,
    ageMs,
    source: pick.source,
    ...(pick.reason !== undefined ? { reason: pick.reason } : {}),
  };
}
