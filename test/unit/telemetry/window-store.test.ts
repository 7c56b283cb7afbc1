import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { RequestObservation } from '../../../operator/telemetry/types.ts';
import { routeTarget } from './route-target.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const KEY = 'shop/checkout';

const target = routeTarget;

function setup(regions?: string[]) {
  const clock = new ManualClock(T0);
  const registry = new Registry();
  const store = new WindowStore({ clock, metrics: telemetryMetrics(registry), registry, windowMs: 60_000, slots: 12, maxClockSkewMs: 5_000 });
  store.track(target(regions));
  const counter = async (name: string, labels: Record<string, string>) => {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };
  return { clock, registry, store, counter };
}

function requests(n: number, at: number, latency: (i: number) => number, errorEvery = 0, region = 'eu-west'): RequestObservation[] {
  return Array.from({ length: n }, (_, i) => ({ route: KEY, region, atMs: at, latencyMs: latency(i), error: errorEvery > 0 && i % errorEvery === 0 }));
}

function region(store: WindowStore, name: string) {
  return store.snapshot(KEY)!.regions.find((r) => r.region === name)!;
}

describe('WindowStore', () => {
  it('reports no data as null and stale, never as zero', () => {
    const { store } = setup();
    const snap = store.snapshot(KEY)!;
    expect(snap.fresh).toBe(false);
    for (const r of snap.regions) {
      expect(r.fresh).toBe(false);
      expect(r.newestAgeMs).toBeNull();
      for (const reading of Object.values(r.signals)) expect(reading).toEqual({ value: null, fresh: false, ageMs: null, source: null });
      expect(r.health.healthy).toBeNull();
    }
    expect(store.snapshot('shop/unknown')).toBeUndefined();
  });

  it('computes rate, error rate and quantiles from raw request events', () => {
    const { clock, store } = setup();
    // 60 s of traffic: 100 requests per second, latencies 1..100 ms, every 10th an error.
    for (let s = 0; s < 60; s++) {
      store.recordRequests('kafka', requests(100, clock.now(), (i) => i + 1, 10));
      clock.advance(1000);
    }
    const eu = region(store, 'eu-west');
    expect(eu.signals.requestRate.value).toBeCloseTo(100, -1);
    expect(eu.signals.errorRate.value).toBeCloseTo(0.1, 5);
    expect(eu.signals.latencyP50.value!).toBeGreaterThan(49 * 0.98);
    expect(eu.signals.latencyP50.value!).toBeLessThan(51 * 1.02);
    expect(eu.signals.latencyP99.value!).toBeGreaterThan(98 * 0.98);
    expect(eu.signals.latencyP99.value!).toBeLessThan(100 * 1.02);
    expect(eu.signals.requestRate.source).toBe('kafka');
    expect(eu.signals.saturation.value).toBeNull();
    expect(eu.fresh).toBe(true);
    // us-east has had nothing: the route is not fresh although eu-west is.
    expect(store.snapshot(KEY)!.fresh).toBe(false);
  });

  it('slides: old slots fall out of the window, and data older than the window is rejected', async () => {
    const { clock, store, counter } = setup();
    store.recordRequests('kafka', requests(100, clock.now(), () => 500));
    clock.advance(30_000);
    store.recordRequests('kafka', requests(100, clock.now(), () => 5));
    expect(region(store, 'eu-west').signals.latencyP99.value!).toBeGreaterThan(400);
    clock.advance(35_000);
    // The 500 ms requests are now older than the window; only the 5 ms ones remain.
    expect(region(store, 'eu-west').signals.latencyP99.value!).toBeLessThan(6);
    expect(store.recordRequests('kafka', requests(3, clock.now() - 61_000, () => 1))).toBe(0);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'kafka', reason: 'expired' })).toBe(3);
  });

  it('turns stale when data stops, keeping the last value marked stale', () => {
    const { clock, store } = setup(['eu-west']);
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'prometheus', values: { requestRate: 42, latencyP99: 120 } });
    expect(store.freshness(KEY)).toEqual({ fresh: true, staleRegions: [], oldestAgeMs: 0 });
    clock.advance(31_000);
    const eu = region(store, 'eu-west');
    expect(eu.signals.requestRate).toEqual({ value: 42, fresh: false, ageMs: 31_000, source: 'prometheus' });
    expect(eu.fresh).toBe(false);
    expect(store.freshness(KEY)).toEqual({ fresh: false, staleRegions: ['eu-west'], oldestAgeMs: 31_000 });
  });

  it('keeps an idle region fresh while its rate is reported, though its quantiles are stale', () => {
    const { clock, store } = setup(['eu-west']);
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'scrape', values: { requestRate: 5, latencyP99: 40 } });
    clock.advance(31_000);
    // Traffic stopped: a rate of 0 is data; the quantiles of no requests are not.
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'scrape', values: { requestRate: 0 } });
    const eu = region(store, 'eu-west');
    expect(eu.fresh).toBe(true);
    expect(eu.signals.requestRate).toMatchObject({ value: 0, fresh: true });
    expect(eu.signals.latencyP99).toMatchObject({ value: 40, fresh: false });
    expect(store.freshness(KEY)!.fresh).toBe(true);
  });

  it('rejects NaN, infinite, negative, out-of-range and future values, and unknown routes and regions', async () => {
    const { clock, store, counter } = setup();
    const at = clock.now();
    expect(
      store.recordSample({ route: KEY, region: 'eu-west', atMs: at, source: 'prometheus', values: { requestRate: NaN, errorRate: 1.5, latencyP99: -1, saturation: Infinity } }),
    ).toBe(0);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'prometheus', reason: 'invalid_value' })).toBe(4);
    expect(store.recordSample({ route: KEY, region: 'eu-west', atMs: at + 60_000, source: 'prometheus', values: { requestRate: 1 } })).toBe(0);
    expect(store.recordSample({ route: 'shop/other', region: 'eu-west', atMs: at, source: 'prometheus', values: { requestRate: 1 } })).toBe(0);
    expect(store.recordSample({ route: KEY, region: 'mars', atMs: at, source: 'prometheus', values: { requestRate: 1 } })).toBe(0);
    expect(
      store.recordRequests('kafka', [
        { route: KEY, region: 'eu-west', atMs: at, latencyMs: NaN, error: false },
        { route: KEY, region: 'eu-west', atMs: at, latencyMs: -3, error: false },
        { route: KEY, region: 'eu-west', atMs: at + 10_000, latencyMs: 3, error: false },
        { route: KEY, region: 'eu-west', atMs: at, latencyMs: 3, error: false },
      ]),
    ).toBe(1);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'prometheus', reason: 'future_timestamp' })).toBe(1);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'prometheus', reason: 'unknown_route' })).toBe(1);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'prometheus', reason: 'unknown_region' })).toBe(1);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'kafka', reason: 'invalid_value' })).toBe(2);
    expect(await counter('meshpilot_telemetry_events_rejected_total', { source: 'kafka', reason: 'future_timestamp' })).toBe(1);
    expect(await counter('meshpilot_telemetry_events_consumed_total', { source: 'kafka' })).toBe(1);
    const eu = region(store, 'eu-west');
    for (const reading of Object.values(eu.signals)) if (reading.value !== null) expect(Number.isFinite(reading.value)).toBe(true);
    expect(eu.signals.requestRate.source).toBe('kafka');
    expect(eu.signals.saturation.value).toBeNull();
  });

  it('keeps valid signals of a sample with some invalid ones', () => {
    const { clock, store } = setup();
    expect(store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'scrape', values: { requestRate: 10, latencyP99: NaN } })).toBe(1);
    const eu = region(store, 'eu-west');
    expect(eu.signals.requestRate.value).toBe(10);
    expect(eu.signals.latencyP99.value).toBeNull();
  });

  it('takes, per signal, whichever of raw events and samples is newer', () => {
    const { clock, store } = setup();
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'prometheus', values: { requestRate: 7, saturation: 0.4 } });
    clock.advance(1000);
    store.recordRequests('kafka', requests(50, clock.now(), () => 10));
    let eu = region(store, 'eu-west');
    expect(eu.signals.requestRate.source).toBe('kafka');
    expect(eu.signals.saturation).toMatchObject({ value: 0.4, source: 'prometheus' });
    clock.advance(1000);
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'prometheus', values: { requestRate: 9 } });
    eu = region(store, 'eu-west');
    expect(eu.signals.requestRate).toMatchObject({ value: 9, source: 'prometheus' });
    // An out-of-order older sample does not replace the newer value.
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now() - 5000, source: 'prometheus', values: { requestRate: 1 } });
    expect(region(store, 'eu-west').signals.requestRate.value).toBe(9);
  });

  it('reads trends from sample history and from raw slots', () => {
    const { clock, store } = setup();
    for (let i = 0; i < 6; i++) {
      store.recordSample({ route: KEY, region: 'us-east', atMs: clock.now(), source: 'prometheus', values: { requestRate: 100 + 20 * i, latencyP99: 50 } });
      store.recordRequests('kafka', requests(10 * (i + 1), clock.now(), () => 10 + 10 * i));
      if (i < 5) clock.advance(10_000);
    }
    const us = region(store, 'us-east');
    expect(us.trends.requestRate!).toBeGreaterThan(0.5);
    expect(us.trends.latencyP99).toBeCloseTo(0, 5);
    const eu = region(store, 'eu-west');
    expect(eu.trends.requestRate!).toBeGreaterThan(0.3);
    expect(eu.trends.latencyP99!).toBeGreaterThan(0.3);
  });

  it('reports no trend while it has watched the route for less than half a window: the warm-up is not a trend', () => {
    const { clock, store } = setup();
    // p99 and load climb from the first sample on, as a window fills after a start.
    const feed = (i: number) => {
      store.recordSample({ route: KEY, region: 'us-east', atMs: clock.now(), source: 'prometheus', values: { requestRate: 10 + 20 * i, latencyP99: 20 + 20 * i } });
      store.recordRequests('kafka', requests(10 * (i + 1), clock.now(), () => 10 + 10 * i));
    };
    for (let i = 0; i < 3; i++) {
      if (i > 0) clock.advance(10_000);
      feed(i);
    }
    // Watched for 20 s of a 60 s window.
    for (const name of ['us-east', 'eu-west']) expect(region(store, name).trends).toEqual({ requestRate: null, latencyP99: null });
    clock.advance(10_000);
    feed(3);
    expect(region(store, 'us-east').trends.latencyP99!).toBeGreaterThan(0.3);
    expect(region(store, 'eu-west').trends.requestRate!).toBeGreaterThan(0.3);
  });

  it('applies route health over region-wide health by recency', () => {
    const { clock, store } = setup();
    store.recordHealth({ region: 'eu-west', atMs: clock.now(), healthy: false, reason: 'zone outage', source: 'kafka' });
    expect(region(store, 'eu-west').health).toMatchObject({ healthy: false, reason: 'zone outage', fresh: true });
    expect(region(store, 'us-east').health.healthy).toBeNull();
    clock.advance(1000);
    store.recordHealth({ route: KEY, region: 'eu-west', atMs: clock.now(), healthy: true, source: 'kafka' });
    expect(region(store, 'eu-west').health.healthy).toBe(true);
    clock.advance(40_000);
    expect(region(store, 'eu-west').health).toMatchObject({ healthy: true, fresh: false, ageMs: 40_000 });
  });

  it('keeps the windows of regions a re-tracked route keeps, and drops the others', () => {
    const { clock, store } = setup(['eu-west', 'us-east']);
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'prometheus', values: { requestRate: 3 } });
    store.recordSample({ route: KEY, region: 'us-east', atMs: clock.now(), source: 'prometheus', values: { requestRate: 4 } });
    store.track(target(['eu-west', 'ap-south']));
    const snap = store.snapshot(KEY)!;
    expect(snap.regions.map((r) => [r.region, r.signals.requestRate.value])).toEqual([
      ['eu-west', 3],
      ['ap-south', null],
    ]);
    store.untrack(KEY);
    expect(store.snapshot(KEY)).toBeUndefined();
    expect(store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now(), source: 'prometheus', values: { requestRate: 3 } })).toBe(0);
  });

  it('exports lag per source and windows by freshness', async () => {
    const { clock, store, registry, counter } = setup();
    store.recordSample({ route: KEY, region: 'eu-west', atMs: clock.now() - 2000, source: 'prometheus', values: { requestRate: 3 } });
    clock.advance(1000);
    expect(await counter('meshpilot_telemetry_lag_seconds', { source: 'prometheus' })).toBe(3);
    expect(await counter('meshpilot_telemetry_windows', { state: 'fresh' })).toBe(1);
    expect(await counter('meshpilot_telemetry_windows', { state: 'stale' })).toBe(1);
    expect(await registry.metrics()).toContain('meshpilot_telemetry_events_consumed_total{source="prometheus"} 1');
  });

  it('refuses a window that is not a whole number of slots', () => {
    const registry = new Registry();
    expect(() => new WindowStore({ clock: new ManualClock(0), metrics: telemetryMetrics(registry), windowMs: 1000, slots: 7 })).toThrow(/multiple of slots/);
  });
});
