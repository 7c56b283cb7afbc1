// Route intents and server set-up shared by the xDS unit tests.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { RouteIntent } from '../../../operator/routing/route-intent.ts';
import { StaticEndpointResolver, type Endpoint } from '../../../operator/xds/endpoints.ts';
import { XdsServer } from '../../../operator/xds/server.ts';
import type { XdsServerOptions } from '../../../operator/xds/server-options.ts';

export interface IntentOptions {
  name?: string;
  host?: string;
  /** region → [weight, priority]; default eu-west 70/0, us-east 30/0, ap-south 0/1. */
  regions?: Record<string, [number, number]>;
  attempts?: number;
  retryOn?: RouteIntent['retries']['retryOn'];
  crossRegion?: boolean;
  perTryTimeoutMs?: number;
  timeoutMs?: number;
  failoverEnabled?: boolean;
}

export function intent(options: IntentOptions = {}): RouteIntent {
  const name = options.name ?? 'checkout';
  const regions = options.regions ?? { 'eu-west': [70, 0], 'us-east': [30, 0], 'ap-south': [0, 1] };
  return {
    key: `shop/${name}`,
    namespace: 'shop',
    name,
    host: options.host ?? `${name}.shop.svc`,
    destinations: Object.entries(regions).map(([region, [weight, priority]]) => ({ region, service: `${name}.${region}.svc`, port: 8080, weight, priority })),
    retries: { attempts: options.attempts ?? 2, perTryTimeoutMs: options.perTryTimeoutMs ?? 250, retryOn: options.retryOn ?? ['connect-failure', 'unavailable', '5xx'], crossRegion: options.crossRegion ?? false },
    timeoutMs: options.timeoutMs ?? 1500,
    outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
    failoverEnabled: options.failoverEnabled ?? true,
    tlsMode: 'classical',
    outputs: { xds: true, istio: false },
    source: { generation: 1, mode: 'static', decidedBy: 'spec' },
  };
}

/** Endpoints for every region of `intents`: 10.<route>.<region>.1 and .2 on port 8080. */
export function endpointsFor(...intents: RouteIntent[]): Record<string, Endpoint[]> {
  const map: Record<string, Endpoint[]> = {};
  intents.forEach((it, r) =>
    it.destinations.forEach((d, i) => {
      map[d.service] = [
        { address: `10.${r + 1}.${i + 1}.1`, port: d.port },
        { address: `10.${r + 1}.${i + 1}.2`, port: d.port },
      ];
    }),
  );
  return map;
}

export interface TestServer {
  server: XdsServer;
  registry: Registry;
  resolver: StaticEndpointResolver;
  close(): Promise<void>;
}

export async function startServer(options: Partial<XdsServerOptions> & { endpoints?: Record<string, Endpoint[]> } = {}): Promise<TestServer> {
  const registry = new Registry();
  const resolver = options.resolver instanceof StaticEndpointResolver ? options.resolver : new StaticEndpointResolver(options.endpoints ?? {});
  const server = await XdsServer.start({ logger: pino({ level: 'silent' }), registry, resolver, debounceMs: 1, ...options });
  return { server, registry, resolver, close: () => server.close() };
}

/** The value of a metric (summed over series matching `labels`). */
export async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Polls `check` until it returns a value (not undefined), for state that settles asynchronously. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
