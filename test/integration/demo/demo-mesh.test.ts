// The demo mesh against the operator's real xDS server: its manifest is a valid
// AdaptiveRoute, its proxyless gRPC client follows the intent built from it to backends in
// three regions, and the scrape source reads fresh telemetry for every region from their
// /metrics. Nothing here asserts on time.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../../operator/api/validate.ts';
import { telemetryTarget } from '../../../operator/adaptive-route/telemetry-target.ts';
import { BROWNOUT, DEFAULT_SCHEDULE, DEMO_REGIONS, DemoProfile } from '../../../operator/demo/demo-profile.ts';
import { startDemoMesh, type DemoMesh } from '../../../operator/demo/demo-mesh.ts';
import { registerDemoXdsClient } from '../../../operator/demo/xds-registration.ts';
import { intentFromSpec } from '../../../operator/routing/route-intent.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { ScrapeSource } from '../../../operator/telemetry/scrape/scrape-source.ts';
import type { RouteSnapshot } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { DnsEndpointResolver } from '../../../operator/xds/endpoints.ts';
import { XdsServer } from '../../../operator/xds/server.ts';

const logger = pino({ level: 'silent' });

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000, detail: () => unknown = () => undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('demo mesh', () => {
  const registry = new Registry();
  const resolver = new DnsEndpointResolver();
  let xds: XdsServer | undefined;
  let mesh: DemoMesh | undefined;
  let scrape: ScrapeSource | undefined;

  afterAll(async () => {
    await scrape?.close();
    await mesh?.close();
    await xds?.close();
    resolver.close();
  });

  it('carries RPCs through the operator xDS server to all three regions, and the scrape source reads fresh samples for each', async () => {
    xds = await XdsServer.start({ logger, registry, resolver, host: '127.0.0.1', port: 0 });
    mesh = await startDemoMesh({ xdsPort: xds.port, logger, seed: 7 });

    const validated = validateAdaptiveRoute(mesh.manifest);
    if (!validated.ok) throw new Error(`demo manifest is not a valid AdaptiveRoute: ${JSON.stringify(validated.issues)}`);
    const route: AdaptiveRoute = validated.value;
    expect(route.metadata).toMatchObject({ namespace: 'default', name: 'demo' });
    expect(route.spec.telemetry).toMatchObject({ scrape: { interval: '2s' }, staleAfter: '30s' });
    expect(route.spec.destinations.map((d) => d.region)).toEqual(DEMO_REGIONS.map((r) => r.region));
    expect(route.spec.destinations.every((d) => d.service === '127.0.0.1')).toBe(true);
    expect(route.spec.telemetry.scrape!.targets.map((t) => t.url)).toEqual(
      route.spec.destinations.map(() => expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)),
    );

    await xds.publish(intentFromSpec(route));
    await xds.flush();
    const stats = await until(
      'successful calls in every region',
      () => {
        const s = mesh!.stats();
        return DEMO_REGIONS.every((r) => (s.byRegion[r.region]?.ok ?? 0) >= 5) && s;
      },
      20_000,
      () => mesh!.stats(),
    );
    expect(stats.sent).toBeGreaterThanOrEqual(stats.ok + stats.failed);
    const served = mesh.backendCounts();
    for (const r of DEMO_REGIONS) expect(served[r.region]!.calls).toBeGreaterThanOrEqual(stats.byRegion[r.region]!.ok);

    const store = new WindowStore({ clock: systemClock, metrics: telemetryMetrics(registry), logger, windowMs: 60_000 });
    const target = telemetryTarget(route);
    store.track(target);
    scrape = new ScrapeSource({ sink: store, logger, metrics: telemetryMetrics(registry) });
    scrape.watch(target);

    const snapshot = await until<RouteSnapshot>(
      'a fresh snapshot of every region with a request rate and latency',
      () => {
        const s = store.snapshot(target.key);
        return s && s.regions.every((r) => r.signals.requestRate.fresh && (r.signals.requestRate.value ?? 0) > 0 && r.signals.latencyP99.value !== null) && s;
      },
      20_000,
      () => ({ snapshot: store.snapshot(target.key), problem: scrape!.problem(target.key) }),
    );
    expect(snapshot.sources).toEqual(['scrape']);
    for (const region of snapshot.regions) {
      const median = DEMO_REGIONS.find((r) => r.region === region.region)!.medianLatencyMs;
      expect(region.signals.requestRate.source).toBe('scrape');
      expect(region.signals.latencyP50.value).toBeGreaterThan(0);
      // Within the drift (+-25%), the jitter and, for the brownout region, the brownout factor.
      expect(region.signals.latencyP50.value).toBeLessThan(median * BROWNOUT.latencyFactor * 3);
      expect(region.signals.errorRate.value).toBeGreaterThanOrEqual(0);
      expect(region.signals.errorRate.value).toBeLessThanOrEqual(1);
    }
    expect(scrape.problem(target.key)).toBeUndefined();

    // The xDS client belongs to the process: a demo for another xDS server must not silently reuse it.
    expect(() => registerDemoXdsClient(xds!.port + 1)).toThrow(/reads its bootstrap once per process/);

    await mesh.close();
    const after = mesh.stats();
    await new Promise((r) => setTimeout(r, 200));
    expect(mesh.stats().sent).toBe(after.sent);
  });

  it('scripts the same brownout for the same seed: one region, calm first, then on its schedule', () => {
    const start = 1_700_000_000_000;
    const a = new DemoProfile(42, start);
    const b = new DemoProfile(42, start);
    let brownoutMs = 0;
    let first: number | undefined;
    const stepMs = 1_000;
    for (let t = 0; t < DEFAULT_SCHEDULE.firstAfterMs + BROWNOUT.periodMs * 3; t += stepMs) {
      const now = start + t;
      for (const { region } of DEMO_REGIONS) {
        const condition = a.condition(region, now);
        expect(b.condition(region, now)).toEqual(condition);
        expect(condition.brownout).toBe(region === a.brownoutRegion && a.inBrownout(region, now));
        expect(condition.errorFraction).toBe(condition.brownout ? BROWNOUT.errorFraction : 0.002);
      }
      if (a.inBrownout(a.brownoutRegion, now)) {
        brownoutMs += stepMs;
        first ??= t;
      }
    }
    expect(first).toBe(DEFAULT_SCHEDULE.firstAfterMs);
    expect(brownoutMs).toBe(BROWNOUT.durationMs * 3);
    const short = new DemoProfile(42, start, { periodMs: 60_000, durationMs: 10_000, firstAfterMs: 5_000 });
    expect([4_999, 5_000, 14_999, 15_000, 65_000].map((t) => short.inBrownout(short.brownoutRegion, start + t))).toEqual([false, true, true, false, true]);
    expect(() => new DemoProfile(1, start, { periodMs: 10_000, durationMs: 10_000, firstAfterMs: 0 })).toThrow(RangeError);
    const regions = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => new DemoProfile(seed).brownoutRegion));
    expect(regions.size).toBeGreaterThan(1);
  });
});
