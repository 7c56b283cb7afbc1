// The demo mesh that `npm start`'s local mode runs so that there is real traffic to steer and
// real telemetry to read: a gRPC backend per region on loopback (each with its own /metrics),
// a proxyless gRPC client sending a steady load through the operator's xDS server, and the
// AdaptiveRoute that ties them together. This folder is its own boundary: it may use
// operator/api and npm packages, nothing else of the operator.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../base/clock.ts';
import { DemoBackend, type BackendCounts } from './demo-backend.ts';
import { DemoLoad, type DemoStats } from './demo-load.ts';
import { DEMO_HOST, demoManifest, type DemoRouteManifest } from './demo-manifest.ts';
import { DEFAULT_SCHEDULE, DEMO_REGIONS, DemoProfile } from './demo-profile.ts';

export interface DemoMeshOptions {
  /** The operator's xDS server on 127.0.0.1. */
  xdsPort: number;
  logger: Logger;
  /** Paces the load and drives the regions' behaviour over time (default: the system clock). */
  clock?: Clock;
  /** Picks the brownout region and its schedule, and seeds every random draw (default 1). */
  seed?: number;
  /** Calls per second of the load (default 20). */
  ratePerSecond?: number;
  /** How often the brownout comes back and how long it lasts (default every 4 minutes for 1); the first comes 30 s after the start. */
  brownout?: { periodMs: number; durationMs: number };
}

export interface DemoMesh {
  /** The AdaptiveRoute to create or update (default/demo); fresh at every start, its ports are ephemeral. */
  manifest: DemoRouteManifest;
  /** The region that browns out on the schedule. */
  brownoutRegion: string;
  /** What the client saw. */
  stats(): DemoStats;
  /** What each region's backend served, by region. */
  backendCounts(): Record<string, BackendCounts>;
  /** Stops the load, then the backends. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the backends of every demo region, then the load against xds:///demo.meshpilot.local.
 * Calls wait until the xDS server serves the route (apply `manifest` for that). Rejects, with
 * nothing left running, when a port cannot be bound or the xDS client cannot be registered
 * (ConfigError: see registerDemoXdsClient).
 */
export async function startDemoMesh(options: DemoMeshOptions): Promise<DemoMesh> {
  const clock = options.clock ?? systemClock;
  const profile = new DemoProfile(options.seed ?? 1, clock.now(), { ...DEFAULT_SCHEDULE, ...options.brownout });
  const log = options.logger.child({ component: 'demo' });
  const backends: DemoBackend[] = [];
  let load: DemoLoad | undefined;
  const close = async (): Promise<void> => {
    await load?.close();
    await Promise.all(backends.map((b) => b.close()));
  };
  try {
    for (const { region } of DEMO_REGIONS) {
      backends.push(await DemoBackend.start({ region, clock, seed: profile.seed, condition: (nowMs) => profile.condition(region, nowMs) }));
    }
    load = DemoLoad.start({
      xdsPort: options.xdsPort,
      host: DEMO_HOST,
      clock,
      logger: log,
      ...(options.ratePerSecond ? { ratePerSecond: options.ratePerSecond } : {}),
    });
  } catch (e) {
    await close();
    throw e;
  }
  const manifest = demoManifest(
    backends.map((b) => ({ region: b.region, port: b.port, metricsUrl: b.metricsUrl, weight: DEMO_REGIONS.find((r) => r.region === b.region)!.weight })),
  );
  log.info(
    { host: DEMO_HOST, brownoutRegion: profile.brownoutRegion, backends: Object.fromEntries(backends.map((b) => [b.region, { port: b.port, metrics: b.metricsUrl }])) },
    'demo mesh started',
  );
  let closed: Promise<void> | undefined;
  return {
    manifest,
    brownoutRegion: profile.brownoutRegion,
    stats: () => load!.stats(),
    backendCounts: () => Object.fromEntries(backends.map((b) => [b.region, { ...b.counts }])),
    close: () => (closed ??= close()),
  };
}
