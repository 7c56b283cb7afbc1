// The xDS server: an Envoy v3 Aggregated Discovery Service (state-of-the-world and delta
// streams on one gRPC server) that serves the route intents it is given as consistent,
// versioned snapshots, one per client flavour. It is an IntentSink: the controller publishes
// intents and withdraws them; bursts are debounced into one snapshot; each node gets what
// it subscribed to in make-before-break order, and its ACKs and NACKs become per-route sync
// status, metrics and log lines.
import { randomInt } from 'node:crypto';
import type { Server, ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../base/clock.ts';
import { ConfigError, ERROR_CODES, MeshpilotError, toMeshpilotError } from '../base/errors.ts';
import type { TlsListener } from '../tls/tls-listener.ts';
import type { IntentSink } from '../routing/intent-sink.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import type { AdsStream } from './ads-stream.ts';
import type { StreamHost } from './stream-host.ts';
import { FLAVORS, flavorLimits, type NodeFlavor } from './capabilities.ts';
import { configDump, nodeSummary, type NodeSummary } from './config-dump.ts';
import { DeltaStream } from './delta-stream.ts';
import { resolveDestinations, type Endpoint, type EndpointResolver } from './endpoints.ts';
import { checkIntent } from './intent-check.ts';
import { grpcServer, XdsListeners } from './listeners.ts';
import { XdsMetrics } from './metrics.ts';
import { ScopedSnapshots } from './scoped-snapshots.ts';
import { loadXdsProtos, type XdsProtos } from './protos.ts';
import { ResourceEncoder } from './resource-cache.ts';
import { SERVER_DEFAULTS, streamLimits, type XdsServerOptions } from './server-options.ts';
import { nameIndex, SnapshotBuilder, snapshotDiff, type Changed, type FlavorSnapshot } from './snapshot.ts';
import { SotwStream } from './sotw-stream.ts';
import { SyncTracker, type RouteSyncStatus } from './sync-tracker.ts';
import { adsServiceDefinition, type Decoded } from './wire.ts';

export type { RouteSyncStatus } from './sync-tracker.ts';
export type { NodeFlavor } from './capabilities.ts';

interface Waiter {
  key: string | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class XdsServer implements IntentSink {
  /** The main address's port (TLS when configured). */
  readonly port: number;
  /** The separate plaintext address's port, when configured. */
  readonly plaintextPort: number | undefined;
  readonly #listeners: XdsListeners;
  readonly #scoped: ScopedSnapshots;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #resolver: EndpointResolver;
  readonly #metrics: XdsMetrics;
  readonly #protos: XdsProtos;
  readonly #builder: SnapshotBuilder;
  readonly #sync: SyncTracker;
  readonly #server: Server;
  readonly #debounceMs: number;
  readonly #versionPrefix: string;
  readonly #streams = new Set<AdsStream>();
  readonly #intents = new Map<string, RouteIntent>();
  readonly #endpoints = new Map<string, Map<string, Endpoint[]>>();
  readonly #dirty = new Set<string>();
  readonly #publishedAt = new Map<string, number>();
  readonly #unsubscribeResolver: () => void;
  #snapshots: Record<NodeFlavor, FlavorSnapshot>;
  #names = new Map<string, string>();
  #counter = 0;
  #resolverDirty = false;
  #waiters: Waiter[] = [];
  #loop: Promise<void> | undefined;
  #debounce: AbortController | undefined;
  #flushNow = false;
  #closed = false;
  #nextStreamId = 1;
  #loaded: boolean;

  private constructor(options: XdsServerOptions, server: Server, listeners: XdsListeners, protos: XdsProtos) {
    this.port = listeners.port;
    this.plaintextPort = listeners.plaintextPort;
    this.#listeners = listeners;
    this.#server = server;
    this.#protos = protos;
    this.#log = options.logger.child({ component: 'xds' });
    this.#clock = options.clock ?? systemClock;
    this.#resolver = options.resolver;
    this.#metrics = new XdsMetrics(options.registry);
    this.#debounceMs = options.debounceMs ?? SERVER_DEFAULTS.debounceMs;
    this.#loaded = !(options.holdUntilLoaded ?? false);
    this.#versionPrefix = `${this.#clock.now().toString(36)}${randomInt(36 ** 3).toString(36).padStart(3, '0')}`;
    this.#builder = new SnapshotBuilder({
      encoder: new ResourceEncoder(protos),
      envoyListenerPort: options.envoyListenerPort ?? SERVER_DEFAULTS.envoyListenerPort,
    });
    this.#snapshots = this.#builder.build([], this.#nextVersion()).snapshots;
    this.#scoped = new ScopedSnapshots(this.#builder);
    this.#names = nameIndex(this.#snapshots);
    this.#sync = new SyncTracker({
      snapshot: (f, scope) => this.snapshot(f, scope),
      metrics: this.#metrics,
      clock: this.#clock,
      onListenerError: (e) => this.#log.error({ err: e }, 'onSyncChange listener threw'),
    });
    this.#unsubscribeResolver = this.#resolver.onChange(() => {
      if (this.#closed) return;
      this.#resolverDirty = true;
      this.#kick();
    });
  }

  /**
   * Starts serving on host:port. Rejects when the address cannot be bound or the Envoy API
   * protos cannot be loaded.
   */
  static async start(options: XdsServerOptions): Promise<XdsServer> {
    const protos = loadXdsProtos();
    const maxRequestBytes = options.maxRequestBytes ?? SERVER_DEFAULTS.maxRequestBytes;
    const limits = streamLimits(options);
    const server = grpcServer(maxRequestBytes);
    const listeners = await XdsListeners.start(server, {
      host: options.host ?? SERVER_DEFAULTS.host,
      port: options.port ?? SERVER_DEFAULTS.port,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.plaintext ? { plaintext: options.plaintext } : {}),
      logger: options.logger,
      registry: options.registry,
      clock: options.clock ?? systemClock,
    }).catch((e: unknown) => {
      // A failed start leaves the server's other resources open: release them, or the process never exits.
      server.forceShutdown();
      throw e;
    });
    const xds = new XdsServer(options, server, listeners, protos);
    server.addService(adsServiceDefinition(protos, maxRequestBytes), {
      StreamAggregatedResources: (call: ServerDuplexStream<Decoded<unknown>, Buffer>) => xds.#accept(new SotwStream(xds.#host(), call, xds.#nextStreamId++, limits)),
      DeltaAggregatedResources: (call: ServerDuplexStream<Decoded<unknown>, Buffer>) => xds.#accept(new DeltaStream(xds.#host(), call, xds.#nextStreamId++, limits)),
    });
    listeners.announce(xds.#log, xds.#snapshots.grpc.version);
    return xds;
  }

  #hostObject: StreamHost<AdsStream> | undefined;

  #host(): StreamHost<AdsStream> {
    this.#hostObject ??= {
      metrics: this.#metrics,
      clock: this.#clock,
      logger: this.#log,
      snapshot: (f, scope) => this.snapshot(f, scope),
      loaded: () => this.#loaded,
      intern: (n) => this.#names.get(n) ?? n,
      identified: (s) => this.#sync.addStream(s),
      answered: (s, resources, apply) => this.#sync.answered(s, resources, apply),
      closed: (s) => {
        this.#streams.delete(s);
        this.#sync.removeStream(s);
      },
    };
    return this.#hostObject;
  }

  #accept(stream: AdsStream): void {
    if (this.#closed) {
      stream.end();
      return;
    }
    this.#streams.add(stream);
    stream.start();
  }

  /**
   * Makes `intent` the one served for its key. Resolves once a snapshot carrying it is served
   * and pushed to the streams (after the debounce window); idempotent (an equal intent makes
   * no new version). Rejects with ConfigError naming the field when the intent cannot be
   * served, e.g. its host is already served by another route; the served snapshot is then
   * unchanged. An intent with `outputs.xds` false is withdrawn.
   */
  publish(intent: RouteIntent): Promise<void> {
    if (this.#closed) return Promise.reject(new MeshpilotError(ERROR_CODES.INTERNAL, 'the xDS server is closed', { retriable: true }));
    try {
      checkIntent(intent);
      if (!intent.outputs?.xds) return this.withdraw(intent.key);
      for (const other of this.#intents.values()) {
        if (other.key !== intent.key && other.host === intent.host) {
          throw new ConfigError(`route ${intent.key}: host: "${intent.host}" is already served by route ${other.key}`);
        }
      }
    } catch (e) {
      return Promise.reject(e);
    }
    this.#intents.set(intent.key, structuredClone(intent));
    this.#markDirty(intent.key);
    return this.#wait(intent.key);
  }

  /** Stops serving `routeKey`; resolves once the snapshot without it is pushed. Idempotent. */
  withdraw(routeKey: string): Promise<void> {
    if (this.#closed) return Promise.reject(new MeshpilotError(ERROR_CODES.INTERNAL, 'the xDS server is closed', { retriable: true }));
    if (!this.#intents.delete(routeKey) && !this.#dirty.has(routeKey) && !this.#sync.routeVersions.has(routeKey)) return Promise.resolve();
    this.#markDirty(routeKey);
    return this.#wait(routeKey);
  }

  /** Resolves when every publish and withdraw so far is in the served snapshot and pushed (skips the debounce wait). */
  async flush(): Promise<void> {
    while (this.#loop) {
      this.#flushNow = true;
      this.#debounce?.abort();
      await this.#loop.catch(() => undefined);
    }
  }

  syncStatus(routeKey: string): RouteSyncStatus {
    const intent = this.#intents.get(routeKey);
    return this.#sync.status(routeKey, (flavor) => (intent ? flavorLimits(intent.retries, flavor) : []));
  }

  /**
   * `listener` is called with a route key whenever that route's RouteSyncStatus may have
   * changed: a node ACKed, NACKed or disconnected, or a new snapshot gave the route a new
   * version. Returns an unsubscribe function.
   */
  onSyncChange(listener: (routeKey: string) => void): () => void {
    return this.#sync.onChange(listener);
  }

  /** Connected nodes, by id. */
  nodes(): NodeSummary[] {
    return [...this.#sync.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(nodeSummary);
  }

  /** What node `nodeId` holds (see ConfigDump), or undefined when it is not connected. */
  configDump(nodeId: string): unknown | undefined {
    const node = this.#sync.nodes.get(nodeId);
    return node ? configDump(node, this.#snapshots[node.flavor].version, this.#protos) : undefined;
  }

  /** The snapshot served now to a node of `flavor` that sees every route, or only namespace `scope`'s (mTLS). */
  snapshot(flavor: NodeFlavor, scope?: string): FlavorSnapshot {
    const all = this.#snapshots[flavor];
    return scope === undefined ? all : this.#scoped.get(flavor, scope, all);
  }

  /** The TLS listener of the main address, when it speaks TLS (its credentials, reload). */
  get tls(): TlsListener | undefined {
    return this.#listeners.tls;
  }

  /** Whether an intent for `routeKey` is published (and not withdrawn). */
  serves(routeKey: string): boolean {
    return this.#intents.has(routeKey);
  }

  /** False until markLoaded() on a server started with holdUntilLoaded. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /**
   * Ends the hold of XdsServerOptions.holdUntilLoaded: the configuration published so far is
   * what the server should serve, so every stream gets its answers now. Idempotent.
   */
  markLoaded(): void {
    if (this.#loaded || this.#closed) return;
    this.#loaded = true;
    this.#log.info({ streams: this.#streams.size, routes: this.#intents.size, version: this.#snapshots.grpc.version }, 'xDS configuration loaded: answering proxies');
    for (const stream of this.#streams) stream.push();
  }

  /** Ends every stream, stops listening and rejects unfinished publishes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeResolver();
    this.#debounce?.abort();
    const closedError = new MeshpilotError(ERROR_CODES.INTERNAL, 'the xDS server closed before the change was served', { retriable: true });
    for (const w of this.#waiters.splice(0)) w.reject(closedError);
    this.#listeners.stopAccepting();
    for (const s of [...this.#streams]) s.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 1000);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#listeners.destroyConnections();
    await this.#loop?.catch(() => undefined);
    this.#log.info('xDS server stopped');
  }

  #markDirty(key: string): void {
    this.#dirty.add(key);
    if (!this.#publishedAt.has(key)) this.#publishedAt.set(key, this.#clock.now());
  }

  #wait(key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ key, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      if (!this.#closed && (this.#dirty.size > 0 || this.#resolverDirty || this.#waiters.length > 0)) this.#kick();
    });
  }

  async #run(): Promise<void> {
    while (!this.#closed && (this.#dirty.size > 0 || this.#resolverDirty || this.#waiters.length > 0)) {
      if (!this.#flushNow && this.#debounceMs > 0) {
        this.#debounce = new AbortController();
        await this.#clock.sleep(this.#debounceMs, this.#debounce.signal).catch(() => undefined);
        this.#debounce = undefined;
      }
      this.#flushNow = false;
      if (this.#closed) return;
      const waiters = this.#waiters.splice(0);
      const dirty = new Set(this.#dirty);
      this.#dirty.clear();
      const all = this.#resolverDirty;
      this.#resolverDirty = false;
      try {
        const failures = await this.#rebuild(dirty, all);
        for (const w of waiters) {
          const failure = w.key === undefined ? undefined : failures.get(w.key);
          if (failure) w.reject(failure);
          else w.resolve();
        }
      } catch (e) {
        this.#log.error({ err: e }, 'xDS snapshot build failed; the previous snapshot stays served');
        const error = toMeshpilotError(e);
        for (const w of waiters) w.reject(error);
      }
    }
  }

  async #rebuild(dirty: ReadonlySet<string>, all: boolean): Promise<Map<string, Error>> {
    const startedAt = this.#clock.now();
    for (const key of [...this.#endpoints.keys()]) if (!this.#intents.has(key)) this.#endpoints.delete(key);
    const toResolve = [...this.#intents.values()].filter((i) => all || dirty.has(i.key) || !this.#endpoints.has(i.key));
    const resolved = await Promise.all(toResolve.map(async (i) => [i.key, await resolveDestinations(this.#resolver, i, this.#endpoints.get(i.key), this.#log)] as const));
    for (const [key, endpoints] of resolved) this.#endpoints.set(key, endpoints);

    const version = `${this.#versionPrefix}-${this.#counter + 1}`;
    const routes = [...this.#intents.values()].map((intent) => ({ intent, endpoints: this.#endpoints.get(intent.key) ?? new Map<string, Endpoint[]>() }));
    const result = this.#builder.build(routes, version);
    for (const [key, e] of result.failures) this.#log.error({ route: key, err: e }, 'cannot build the xDS resources of a route; its previous resources stay served');

    const changed = {} as Record<NodeFlavor, Changed>;
    let any = false;
    for (const flavor of FLAVORS) {
      changed[flavor] = snapshotDiff(this.#snapshots[flavor], result.snapshots[flavor]);
      for (const names of changed[flavor].values()) if (names.size > 0) any = true;
    }

    const publishedAt = new Map(this.#publishedAt);
    for (const key of dirty) this.#publishedAt.delete(key);
    const routeChanges: string[] = [];
    if (any) {
      this.#counter += 1;
      this.#snapshots = result.snapshots;
      this.#names = nameIndex(this.#snapshots);
      this.#metrics.snapshots.inc();
      for (const flavor of FLAVORS) {
        for (const [kind, map] of this.#snapshots[flavor].resources) this.#metrics.snapshotResources.set({ flavor, type: kind }, map.size);
      }
      for (const [key, fingerprint] of result.fingerprints) {
        const prev = this.#sync.routeVersions.get(key);
        if (prev?.fingerprint === fingerprint) continue;
        this.#sync.routeVersions.set(key, { version, fingerprint, since: publishedAt.get(key) ?? startedAt });
        routeChanges.push(key);
      }
      const changedScoped = this.#scoped.rebuild(this.#streams, version);
      for (const stream of this.#streams) if (stream.node) stream.onSnapshot(changedScoped(stream) ?? changed[stream.node.flavor]);
      this.#log.info(
        { version, routes: this.#intents.size, changedRoutes: routeChanges.length, streams: this.#streams.size, buildMs: this.#clock.now() - startedAt },
        'xDS snapshot served',
      );
    }
    for (const key of [...this.#sync.routeVersions.keys()]) {
      if (!result.fingerprints.has(key)) {
        this.#sync.routeVersions.delete(key);
        routeChanges.push(key);
      }
    }
    for (const key of routeChanges) this.#sync.emit(key);
    return new Map(result.failures);
  }

  #nextVersion(): string {
    return `${this.#versionPrefix}-${this.#counter}`;
  }
}
