// PrometheusSource against Debian's real Prometheus, scraping real prom-client endpoints of
// test backends in three regions, read through the default templates into the real
// WindowStore: once for gRPC servers exporting gRFC A66 metrics, once for an Envoy exporting
// cluster stats of meshpilot's clusters; then a "restart" (a new source and store) whose
// warm-up range query fills the window history before the first round.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { PrometheusSource } from '../../../operator/telemetry/prometheus/prometheus-source.ts';
import type { RegionSample, RouteSnapshot, RouteTarget, Signal, TelemetrySink } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { clusterName } from '../../../operator/xds/names.ts';
import { MetricsBackend, PrometheusServer, type Traffic } from '../../support/prometheus.ts';

const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;
type Region = (typeof REGIONS)[number];
const INTERVAL_MS = 1_000;
const RATE_WINDOW_MS = 5_000;
const WINDOW_MS = 30_000;

const GRPC_TRAFFIC: Record<Region, Traffic> = {
  'eu-west': { rps: 40, errorRate: 0, latencyMs: 20 },
  'us-east': { rps: 20, errorRate: 0.1, latencyMs: 60 },
  'ap-south': { rps: 10, errorRate: 0.5, latencyMs: 150 },
};
const ENVOY_TRAFFIC: Record<Region, Traffic & { active?: number; maxRequests?: number }> = {
  'eu-west': { rps: 30, errorRate: 0.05, latencyMs: 30, active: 100, maxRequests: 1000 },
  'us-east': { rps: 15, errorRate: 0.2, latencyMs: 80, active: 512, maxRequests: 1024 },
  // No failure ever: Envoy (like prom-client) has no 5xx series then; the error rate is still 0.
  // No circuit-breaker gauges: saturation has no data.
  'ap-south': { rps: 8, errorRate: 0, latencyMs: 200 },
};
// Bucket bounds of the two histograms (gRFC A66 seconds, Envoy milliseconds), in ms.
const A66_BOUNDS_MS = [10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500];
const ENVOY_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000];

function target(name: string, service: string): RouteTarget {
  const key = `shop/${name}`;
  return {
    key,
    namespace: 'shop',
    name,
    host: `${name}.shop.svc.cluster.local`,
    regions: REGIONS.map((region) => ({ region, service: `${service}.shop.svc.cluster.local`, port: 8080, cluster: clusterName(key, region) })),
    telemetry: { staleAfter: '10s' },
    decisionIntervalMs: INTERVAL_MS,
    staleAfterMs: 10_000,
  };
}

const payments = target('payments', 'payments');
const checkout = target('checkout', 'checkout');

/** The true q-quantile of the backends' latencies: spread evenly over [0.8, 1.2] × median. */
function trueQuantile(latencyMs: number, q: number): number {
  return latencyMs * (0.8 + 0.4 * q);
}

/**
 * The bucket bounds an estimate of a quantile near `valueMs` may fall in: histogram_quantile
 * can promise no more than the bucket, and a quantile within 3 % of a bound may land on either
 * side of it with the few hundred requests of a rate window.
 */
function bucketAround(valueMs: number, bounds: number[]): [number, number] {
  const lower = [...bounds].reverse().find((b) => b < valueMs * 0.97) ?? 0;
  const upper = bounds.find((b) => b >= valueMs * 1.03) ?? Infinity;
  return [lower, upper];
}

function value(snapshot: RouteSnapshot, region: string, signal: Signal): number | null {
  const r = snapshot.regions.find((x) => x.region === region)!;
  return r.signals[signal].value;
}

/** A value that must be there and fresh. */
function measured(snapshot: RouteSnapshot, region: string, signal: Signal): number {
  const reading = snapshot.regions.find((x) => x.region === region)!.signals[signal];
  if (reading.value === null || !reading.fresh) throw new Error(`${snapshot.route} ${region} ${signal}: no fresh value (${JSON.stringify(reading)})`);
  return reading.value;
}

class RecordingSink implements TelemetrySink {
  readonly samples: RegionSample[] = [];
  readonly store: WindowStore;
  constructor(store: WindowStore) {
    this.store = store;
  }
  recordSample(sample: RegionSample): number {
    this.samples.push(sample);
    return this.store.recordSample(sample);
  }
  recordRequests(): number {
    return 0;
  }
  recordHealth(): number {
    return 0;
  }
}

function world(prometheusUrl: string) {
  const metrics = telemetryMetrics(new Registry());
  const logger = pino({ level: 'silent' });
  const store = new WindowStore({ clock: systemClock, metrics, logger, windowMs: WINDOW_MS, maxClockSkewMs: 30_000 });
  const sink = new RecordingSink(store);
  const source = new PrometheusSource({
    sink,
    clock: systemClock,
    logger,
    metrics,
    defaultUrl: prometheusUrl,
    windowMs: WINDOW_MS,
    timeoutMs: 2_000,
    rateWindowMs: RATE_WINDOW_MS,
  });
  for (const t of [payments, checkout]) store.track(t);
  return { metrics, store, sink, source };
}

async function until<T>(read: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = read();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The route's snapshot once every region has a fresh request rate. */
function ready(store: WindowStore, key: string): RouteSnapshot | undefined {
  const s = store.snapshot(key);
  return s && s.regions.every((r) => r.signals.requestRate.fresh) ? s : undefined;
}

describe('PrometheusSource with a real Prometheus', () => {
  let prometheus: PrometheusServer | undefined;
  const backends: MetricsBackend[] = [];
  const sources: PrometheusSource[] = [];
  let scrapingSince = 0;

  beforeAll(async () => {
    // One gRPC server per region (the target labels say where and what it is) and one Envoy
    // whose clusters name the regions (its own target label must not matter).
    for (const region of REGIONS) backends.push(await MetricsBackend.start({ grpc: { kind: 'grpc', ...GRPC_TRAFFIC[region] } }));
    const envoy = await MetricsBackend.start(
      Object.fromEntries(REGIONS.map((region) => [region, { kind: 'envoy', cluster: clusterName(checkout.key, region), ...ENVOY_TRAFFIC[region] }])),
    );
    backends.push(envoy);
    prometheus = await PrometheusServer.start({
      targets: [
        ...REGIONS.map((region, i) => ({ address: backends[i]!.address, labels: { region, service: 'payments' } })),
        { address: envoy.address, labels: { region: 'eu-west', service: 'envoy' } },
      ],
    });
    // Prometheus hands its first targets to the scrapers about 5 s after it starts.
    await prometheus.waitForSeries('up == 1', 4, 20_000);
    scrapingSince = Date.now();
    // Enough scrapes that the 5 s rate window is full.
    await prometheus.waitForSeries('count_over_time(up[30s]) >= 7', 4, 20_000);
  });

  afterAll(async () => {
    for (const s of sources) await s.close();
    await prometheus?.stop();
    for (const b of backends) await b.close();
  });

  it('reads gRPC servers\' A66 metrics and an Envoy\'s cluster stats into the window store, per region', async () => {
    const w = world(prometheus!.url);
    sources.push(w.source);
    w.source.watch(payments);
    w.source.watch(checkout);
    const grpc = await until(() => ready(w.store, payments.key), 'gRPC route data');
    const envoy = await until(() => ready(w.store, checkout.key), 'Envoy route data');
    expect(w.source.problem(payments.key)).toBeUndefined();
    expect(w.source.problem(checkout.key)).toBeUndefined();

    const cases = [
      { snapshot: grpc, traffic: GRPC_TRAFFIC, bounds: A66_BOUNDS_MS },
      { snapshot: envoy, traffic: ENVOY_TRAFFIC, bounds: ENVOY_BOUNDS_MS },
    ];
    for (const { snapshot, traffic, bounds } of cases) {
      for (const region of REGIONS) {
        const t = traffic[region];
        const where = `${snapshot.route} ${region}`;
        const rate = measured(snapshot, region, 'requestRate');
        expect({ where, rate, ok: Math.abs(rate - t.rps) <= 0.15 * t.rps }).toEqual({ where, rate, ok: true });
        const errors = measured(snapshot, region, 'errorRate');
        expect({ where, errors, ok: Math.abs(errors - t.errorRate) <= 0.05 }).toEqual({ where, errors, ok: true });
        for (const [signal, q] of [['latencyP50', 0.5], ['latencyP90', 0.9], ['latencyP99', 0.99]] as const) {
          const got = measured(snapshot, region, signal);
          const [lower, upper] = bucketAround(trueQuantile(t.latencyMs, q), bounds);
          expect({ where, signal, got, inBucket: got >= lower && got <= upper }).toEqual({ where, signal, got, inBucket: true });
        }
      }
    }
    // The fine A66 buckets pin gRPC latency closely.
    for (const region of REGIONS) {
      const p50 = measured(grpc, region, 'latencyP50');
      expect(Math.abs(p50 - GRPC_TRAFFIC[region].latencyMs) / GRPC_TRAFFIC[region].latencyMs).toBeLessThan(0.15);
    }
    // Saturation: Envoy's circuit-breaker budget in use where it exports one; none for gRPC.
    expect(value(envoy, 'eu-west', 'saturation')).toBeCloseTo(0.1, 6);
    expect(value(envoy, 'us-east', 'saturation')).toBeCloseTo(0.5, 6);
    expect(value(envoy, 'ap-south', 'saturation')).toBeNull();
    for (const region of REGIONS) expect(value(grpc, region, 'saturation')).toBeNull();
    // Never a NaN, never an invented value.
    for (const s of w.sink.samples) for (const v of Object.values(s.values)) expect(Number.isFinite(v)).toBe(true);
    // A route is ready once its request rate arrived; the other five queries of its round may
    // still be in flight then, so wait for every one of the first round to have answered.
    const results = async () => Object.fromEntries((await w.metrics.queries.get()).values.map((v) => [v.labels.result, v.value]));
    const deadline = Date.now() + 10_000;
    while (((await results()).ok ?? 0) < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await results()).ok).toBeGreaterThanOrEqual(12);
  });

  it('follows a change of a backend\'s traffic', async () => {
    const w = world(prometheus!.url);
    sources.push(w.source);
    backends[1]!.set('grpc', { errorRate: 0.4 });
    w.source.watch(payments);
    // The 5 s rate window turns over; the source's next rounds see it.
    const changed = await until(() => {
      const s = ready(w.store, payments.key);
      const errors = s && value(s, 'us-east', 'errorRate');
      return errors != null && Math.abs(errors - 0.4) <= 0.05 ? s : undefined;
    }, 'the new error rate of us-east', 15_000);
    expect(measured(changed, 'eu-west', 'errorRate')).toBeLessThanOrEqual(0.05);
    backends[1]!.set('grpc', { errorRate: GRPC_TRAFFIC['us-east'].errorRate });
  });

  it('warms a new source\'s window from a range query after a restart', async () => {
    const w = world(prometheus!.url);
    sources.push(w.source);
    const startedAt = Date.now();
    w.source.watch(payments);
    // The first round's samples are at (about) now; the warm-up's are one interval apart before it.
    await until(() => (w.sink.samples.some((s) => s.atMs >= startedAt - 100) ? true : undefined), 'the first round');
    const warm = w.sink.samples.filter((s) => s.atMs < startedAt - INTERVAL_MS / 2);
    for (const region of REGIONS) {
      const times = warm.filter((s) => s.region === region).map((s) => s.atMs);
      expect({ region, points: times.length >= 5 }).toEqual({ region, points: true });
      expect(new Set(times).size).toBe(times.length);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(INTERVAL_MS);
      expect(startedAt - Math.min(...times)).toBeLessThan(WINDOW_MS);
    }
    // The history is there at once. Its trends are not, until the store has watched the route
    // for half a window (TREND_WARMUP): right after a start a trend is the warm-up, and a trend
    // is evidence to move. Then the warmed history gives them.
    const snapshot = w.store.snapshot(payments.key)!;
    for (const r of snapshot.regions) expect({ region: r.region, trend: r.trends.requestRate }).toEqual({ region: r.region, trend: null });
    const later = await until(() => {
      const s = w.store.snapshot(payments.key)!;
      return s.regions.every((r) => r.trends.requestRate !== null) ? s : undefined;
    }, 'trends half a window after the start', WINDOW_MS);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WINDOW_MS / 2 - 1_000);
    expect(later.regions.length).toBe(REGIONS.length);
    // Points whose rate window lies wholly after the first scrapes measure the real rate.
    const settled = warm.filter((s) => s.atMs >= scrapingSince + RATE_WINDOW_MS + 2_000);
    expect(settled.length).toBeGreaterThanOrEqual(3);
    for (const s of settled) {
      const rps = GRPC_TRAFFIC[s.region as Region].rps;
      expect({ region: s.region, atMs: s.atMs, rate: s.values.requestRate, ok: Math.abs(s.values.requestRate! - rps) <= 0.15 * rps }).toEqual({
        region: s.region,
        atMs: s.atMs,
        rate: s.values.requestRate,
        ok: true,
      });
    }
  });
});
