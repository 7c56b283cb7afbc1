// The scrape source reading real prom-client registries of real gRPC backends (the demo's
// backends, with fixed behaviour) into the real window store. Calls are real and counted on
// the client; the scrapes happen when the test moves the source's clock, so the interval is
// exact and every rate can be checked against what was sent.
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock, systemClock } from '../../../operator/base/clock.ts';
import { DemoBackend } from '../../../operator/demo/demo-backend.ts';
import type { RegionCondition } from '../../../operator/demo/demo-profile.ts';
import { DEMO_PATH, deserializeReply, serializeRequest } from '../../../operator/demo/demo-protocol.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { ScrapeSource } from '../../../operator/telemetry/scrape/scrape-source.ts';
import type { RouteSnapshot, RouteTarget } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { clusterName } from '../../../operator/xds/names.ts';

const KEY = 'shop/checkout';
const INTERVAL_MS = 10_000;
const logger = pino({ level: 'silent' });

function steady(medianLatencyMs: number, errorFraction: number): () => RegionCondition {
  return () => ({ medianLatencyMs, jitter: 0, errorFraction, brownout: false });
}

/** Sends `n` calls straight to a backend, 10 at a time; returns how many failed. */
async function call(port: number, n: number): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const seq = next++;
      await new Promise<void>((resolve) => {
        client.makeUnaryRequest(DEMO_PATH, serializeRequest, deserializeReply, { seq }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error) => {
          if (error) failed += 1;
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  client.close();
  return failed;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, detail: () => unknown = () => undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await detail())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ScrapeSource with real prom-client backends', () => {
  const backends: DemoBackend[] = [];
  let source: ScrapeSource | undefined;

  afterAll(async () => {
    await source?.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('turns two scrapes into exact rates and bucket quantiles, and a dead backend into stale data, never zeros', async () => {
    const eu = await DemoBackend.start({ region: 'eu-west', clock: systemClock, seed: 1, condition: steady(20, 0) });
    backends.push(eu);
    const us = await DemoBackend.start({ region: 'us-east', clock: systemClock, seed: 2, condition: steady(5, 0.5) });
    backends.push(us);

    const clock = new ManualClock(Date.now());
    const registry = new Registry();
    const metrics = telemetryMetrics(registry);
    const store = new WindowStore({ clock, metrics, logger, windowMs: 120_000 });
    const target: RouteTarget = {
      key: KEY,
      namespace: 'shop',
      name: 'checkout',
      host: 'checkout.shop',
      regions: [eu, us].map((b) => ({ region: b.region, service: '127.0.0.1', port: b.port, cluster: clusterName(KEY, b.region) })),
      telemetry: { scrape: { targets: [eu, us].map((b) => ({ region: b.region, url: b.metricsUrl })), interval: '10s' }, staleAfter: '30s' },
      decisionIntervalMs: 10_000,
      staleAfterMs: 30_000,
    };
    const scrapes = async (result: string): Promise<number> =>
      (await registry.getSingleMetric('meshpilot_telemetry_queries_total')!.get()).values
        .filter((v) => v.labels.result === result)
        .reduce((a, v) => a + v.value, 0);
    store.track(target);
    source = new ScrapeSource({ sink: store, logger, metrics, clock });
    source.watch(target);
    await until('the priming scrapes', async () => (await scrapes('ok')) === 2);

    const euFailed = await call(eu.port, 40);
    const usFailed = await call(us.port, 60);
    expect(euFailed).toBe(0);
    expect(usFailed).toBeGreaterThan(0);
    expect(usFailed).toBeLessThan(60);

    await clock.advance(INTERVAL_MS);
    await until('the second scrapes', async () => (await scrapes('ok')) === 4);
    const snapshot = store.snapshot(KEY)!;
    const [euRead, usRead] = snapshot.regions;
    expect(snapshot.fresh).toBe(true);
    expect(euRead!.signals.requestRate.value).toBeCloseTo(40 / 10, 12);
    expect(usRead!.signals.requestRate.value).toBeCloseTo(60 / 10, 12);
    expect(euRead!.signals.errorRate.value).toBe(0);
    expect(usRead!.signals.errorRate.value).toBeCloseTo(usFailed / 60, 12);
    // Every call sleeps its median (no jitter), measured in whole ms by a timer that may fire up
    // to 1 ms early, and the quantile interpolates within its A66 bucket (16-20 ms, 4-5 ms, ...).
    expect(euRead!.signals.latencyP50.value).toBeGreaterThanOrEqual(16);
    expect(euRead!.signals.latencyP50.value).toBeLessThan(40);
    expect(usRead!.signals.latencyP50.value).toBeGreaterThanOrEqual(4);
    expect(usRead!.signals.latencyP50.value).toBeLessThan(10);
    for (const region of snapshot.regions) {
      for (const signal of ['latencyP50', 'latencyP90', 'latencyP99'] as const) expect(region.signals[signal]).toMatchObject({ fresh: true, source: 'scrape' });
      expect(region.signals.latencyP50.value!).toBeLessThanOrEqual(region.signals.latencyP99.value!);
    }
    expect(source.problem(KEY)).toBeUndefined();

    // us-east dies: its scrapes fail, its data ages into stale, and what the policy reads is
    // the last measured value marked stale, not a zero. eu-west keeps answering with no calls:
    // 0 calls per second is a measurement, its latency is not (no call, no quantile).
    await us.close();
    let stale: RouteSnapshot | undefined;
    for (let i = 0; i < 4; i++) {
      const before = (await scrapes('ok')) + (await scrapes('unreachable'));
      await clock.advance(INTERVAL_MS);
      await until('the next scrapes', async () => (await scrapes('ok')) + (await scrapes('unreachable')) >= before + 2, async () => (await registry.getSingleMetric('meshpilot_telemetry_queries_total')!.get()).values);
      stale = store.snapshot(KEY)!;
    }
    expect(await scrapes('unreachable')).toBe(4);
    expect(await scrapes('error')).toBe(0);
    expect(source.problem(KEY)).toMatch(new RegExp(`^us-east: scrape of ${us.metricsUrl.replace(/[.]/g, '\\.')}: cannot connect`));
    const [euLater, usLater] = stale!.regions;
    expect(euLater!.signals.requestRate).toMatchObject({ value: 0, fresh: true });
    expect(euLater!.signals.latencyP99.fresh).toBe(false);
    expect(usLater!.fresh).toBe(false);
    expect(usLater!.signals.requestRate).toMatchObject({ value: 6, fresh: false, source: 'scrape' });
    expect(stale!.fresh).toBe(false);
    const rejected = (await registry.getSingleMetric('meshpilot_telemetry_events_rejected_total')!.get()).values.reduce((a, v) => a + v.value, 0);
    expect(rejected).toBe(0);
  });
});
