// One xDS test world: our XdsServer on loopback, a fleet of echo backends in three regions
// behind a StaticEndpointResolver, and grpc-js-xds client processes pointed at the server.
// `close()` ends every client, the server and the backends, and is safe to call twice and
// after a failed test; tests call it from afterEach so nothing outlives a test.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { IntentOutlierDetection, RouteIntent } from '../../operator/routing/route-intent.ts';
import type { RetryOn } from '../../operator/api/types.ts';
import { StaticEndpointResolver } from '../../operator/xds/endpoints.ts';
import { XdsServer } from '../../operator/xds/server.ts';
import { BackendFleet, type FleetOptions } from './grpc-backends.ts';
import { XdsClientProcess } from './xds-client.ts';

export type SyncStatus = ReturnType<XdsServer['syncStatus']>;

export const TEST_NAMESPACE = 'xds-it';

export interface EchoRouteOptions {
  /** Percent per region, in failover order; regions at 0 only take failover traffic. */
  weights: Record<string, number>;
  /** Failover priority per region (default: 0 for regions with weight, else 1, 2, ... in order). */
  priorities?: Record<string, number>;
  retries?: { attempts: number; perTryTimeoutMs?: number; retryOn?: RetryOn[]; crossRegion?: boolean };
  timeoutMs?: number;
  outlierDetection?: Partial<IntentOutlierDetection>;
  failoverEnabled?: boolean;
}

/** The host clients target for route `name`: `xds:///<name>.echo.test`. */
export function echoHost(name: string): string {
  return `${name}.echo.test`;
}

/**
 * A RouteIntent for the echo backends of `fleet`: one destination per region named in
 * `weights`, whose service is the region's name in the endpoint resolver. Built by hand, not
 * through the CRD, so a test controls every field. Unless given: no retries, failover on,
 * and outlier detection that never ejects (max ejection 0%), so that a test sees only the
 * mechanism it is about.
 */
export function echoIntent(name: string, fleet: BackendFleet, options: EchoRouteOptions): RouteIntent {
  let nextFailover = 1;
  const destinations = Object.entries(options.weights).map(([region, weight]) => ({
    region,
    service: BackendFleet.serviceName(region),
    port: fleet.port,
    weight,
    priority: options.priorities?.[region] ?? (weight > 0 ? 0 : nextFailover++),
  }));
  return {
    key: `${TEST_NAMESPACE}/${name}`,
    namespace: TEST_NAMESPACE,
    name,
    host: echoHost(name),
    destinations,
    retries: {
      attempts: options.retries?.attempts ?? 0,
      perTryTimeoutMs: options.retries?.perTryTimeoutMs ?? 1_000,
      retryOn: options.retries?.retryOn ?? ['unavailable'],
      crossRegion: options.retries?.crossRegion ?? false,
    },
    timeoutMs: options.timeoutMs ?? 5_000,
    outlierDetection: {
      consecutive5xx: 5,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 0,
      ...options.outlierDetection,
    },
    failoverEnabled: options.failoverEnabled ?? true,
    tlsMode: 'classical',
    outputs: { xds: true, istio: false },
    source: { generation: 1, mode: 'static', decidedBy: 'spec' },
  };
}

export interface XdsWorldOptions extends FleetOptions {
  debounceMs?: number;
}

export class XdsWorld {
  readonly fleet: BackendFleet;
  readonly resolver: StaticEndpointResolver;
  readonly registry = new Registry();
  readonly #debounceMs: number | undefined;
  readonly #clients: XdsClientProcess[] = [];
  /** The intents published last, by key: what a restarted server is given again. */
  readonly intents = new Map<string, RouteIntent>();
  #server: XdsServer | undefined;
  #port = 0;
  #nextNode = 1;

  private constructor(fleet: BackendFleet, options: XdsWorldOptions) {
    this.fleet = fleet;
    this.resolver = new StaticEndpointResolver(fleet.endpointMap());
    this.#debounceMs = options.debounceMs;
  }

  /** Starts the backends and the xDS server; cleans up what started when a later step fails. */
  static async start(options: XdsWorldOptions): Promise<XdsWorld> {
    const world = new XdsWorld(await BackendFleet.start(options), options);
    try {
      await world.startServer();
    } catch (e) {
      await world.close();
      throw e;
    }
    return world;
  }

  get server(): XdsServer {
    if (!this.#server) throw new Error('the xDS server is not running');
    return this.#server;
  }

  get port(): number {
    return this.#port;
  }

  /**
   * Starts the server (again, on the same port once it had one) and publishes the known
   * intents. As the operator does, it answers proxies only once they are published: a client
   * reconnecting in between would otherwise be told its listener does not exist.
   */
  async startServer(): Promise<void> {
    if (this.#server) return;
    this.#server = await XdsServer.start({
      logger: pino({ level: 'silent' }),
      registry: this.registry,
      resolver: this.resolver,
      host: '127.0.0.1',
      port: this.#port,
      holdUntilLoaded: true,
      ...(this.#debounceMs === undefined ? {} : { debounceMs: this.#debounceMs }),
    });
    this.#port = this.#server.port;
    for (const intent of this.intents.values()) await this.#server.publish(intent);
    await this.#server.flush();
    this.#server.markLoaded();
  }

  async stopServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  /** Publishes and flushes, so the intent is on its way to every subscribed node. */
  async publish(intent: RouteIntent): Promise<void> {
    this.intents.set(intent.key, intent);
    await this.server.publish(intent);
    await this.server.flush();
  }

  /** Starts a grpc-js-xds client process for `host` against this world's server. */
  async client(host: string, options: { nodeId?: string; env?: Record<string, string> } = {}): Promise<XdsClientProcess> {
    const client = await XdsClientProcess.start({
      xdsPort: this.#port,
      nodeId: options.nodeId ?? `xds-it-client-${this.#nextNode++}`,
      host,
      ...(options.env ? { env: options.env } : {}),
    });
    this.#clients.push(client);
    return client;
  }

  /**
   * Waits until `nodes` nodes have ACKed the current version of route `key` (one other than
   * `newerThan`, when given) and none is pending: from then on every client runs on it.
   * Returns the sync status.
   */
  async synced(key: string, options: { nodes?: number; newerThan?: string; timeoutMs?: number } = {}): Promise<SyncStatus> {
    const nodes = options.nodes ?? 1;
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const status = this.#server?.syncStatus(key);
      if (
        status &&
        status.version !== undefined &&
        status.version !== options.newerThan &&
        status.nodes >= nodes &&
        status.acked >= nodes &&
        status.pending === 0
      ) {
        return status;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${nodes} node(s) to ACK ${key}: ${JSON.stringify(status)}; nodes: ${this.#describeNodes()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What each connected node holds, per type and resource (without the decoded resources), for a timeout's message. */
  #describeNodes(): string {
    const server = this.#server;
    if (!server) return 'server not running';
    return JSON.stringify(
      server.nodes().map((n) => {
        const dump = server.configDump(n.id) as { configs?: { resources: { resource?: unknown }[] }[] } | undefined;
        for (const c of dump?.configs ?? []) for (const r of c.resources) delete r.resource;
        return dump;
      }),
    );
  }

  /** Waits until some node has NACKed route `key`; returns the sync status. */
  async nacked(key: string, timeoutMs = 20_000): Promise<SyncStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.#server?.syncStatus(key);
      if (status && status.nacked > 0) return status;
      if (Date.now() > deadline) throw new Error(`timed out waiting for a NACK of ${key}: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ends every client, the server and the backends. Idempotent; never throws. */
  async close(): Promise<void> {
    const clients = this.#clients.splice(0);
    await Promise.allSettled(clients.map((c) => c.close()));
    await this.stopServer().catch(() => undefined);
    this.fleet.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
