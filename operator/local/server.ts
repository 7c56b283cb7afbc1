// LocalApiServer: the embedded Kubernetes-API-compatible server behind `meshpilot local` and
// the tests that run without a cluster. It owns the HTTP listener, bearer-token auth, the
// non-resource endpoints (version, health, discovery, OpenAPI), request logging and metrics,
// start-up (lock, load, built-in namespaces, CRDs from crdDir) and graceful shutdown.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { systemClock } from '../base/clock.ts';
import type { Clock } from '../base/clock.ts';
import { ConfigError } from '../base/errors.ts';
import { eventType, leaseType, namespaceType } from './builtin-resources.ts';
import { coreVersions, group, groupList, resourceList } from './discovery.ts';
import { sendJson, sendStatus } from './http-io.ts';
import { isObject } from '../base/plain-value.ts';
import type { KubeObject } from './kube-object.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { apiServerMetrics } from './metrics.ts';
import { ObjectStore } from './object-store.ts';
import { AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, wantsAggregated } from './aggregated-discovery.ts';
import { openApiV2Json, openApiV2Protobuf, openApiV3Document, openApiV3Index } from './openapi.ts';
import { ResourceRegistry, storageTypeOf } from './resource-registry.ts';
import { handleResourceRequest } from './resource-handler.ts';
import type { ResourceHandlerContext } from './resource-handler.ts';
import { parseResourceRequest } from './request-info.ts';
import { ResourceStorage } from './resource-storage.ts';
import { loadServingCert } from './serving-cert.ts';
import { countHandshakes, HandshakeMetrics } from '../tls/handshakes.ts';
import { profileOptions, type TlsProfile } from '../tls/profiles.ts';
import type { RequestScope } from './storage-requests.ts';
import { StateDirLock } from './state-lock.ts';
import { describeSalvage, type LogRecovery } from './state-log.ts';
import { ApiError, badRequest, internal, methodNotAllowed, notFoundPath, unauthorized } from './status.ts';
import type { ActiveWatch } from './watch-stream.ts';

/** The Kubernetes version this server reports (its API follows that release's behaviour). */
export const SERVER_VERSION = { major: '1', minor: '30', gitVersion: 'v1.30.0-meshpilot-local' } as const;

export interface LocalApiServerOptions {
  /** Directory holding the state log, snapshot, lock, token and kubeconfig. Created if missing. */
  stateDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** CRD manifests (*.yaml, *.yml, *.json) applied at every start, as `kubectl apply -f` would. */
  crdDir?: string;
  logger?: Logger;
  clock?: Clock;
  /** Events retained for watches resuming from a resourceVersion (default 1000). */
  watchHistory?: number;
  /** Registry for `meshpilot_local_apiserver_requests_total`; no metrics without one. */
  metricsRegistry?: Registry;
  /** Key exchange of its HTTPS (default pq-hybrid: X25519MLKEM768, X25519 for a client that offers nothing else). */
  tlsProfile?: TlsProfile;
  /** Interval of BOOKMARK events on watches that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Longest (and default) watch duration in seconds (default 1800, like a real server's minimum). */
  maxWatchSeconds?: number;
  /** Log records between snapshots (default 5000). */
  compactEvery?: number;
  /** Start from a corrupt state log, keeping every valid record (`--salvage-state`). */
  salvageState?: boolean;
}

/** Says what loading the state directory repaired: a torn append is routine after a crash, a salvage is not. */
function reportRecovery(log: Logger, stateDir: string, recovery: LogRecovery): void {
  if (recovery.tornTail) {
    log.warn(
      { stateDir, offset: recovery.tornTail.offset, bytes: recovery.tornTail.bytes },
      `state log ended in a torn append (a crash during a write that was never acknowledged): truncated ${recovery.tornTail.bytes} bytes at offset ${recovery.tornTail.offset}`,
    );
  }
  if (recovery.salvaged) {
    const lost = describeSalvage(recovery.salvaged);
    log.error(
      { stateDir, kept: recovery.salvaged.kept, lost, original: recovery.salvaged.original },
      `salvaged a corrupt state log: kept ${recovery.salvaged.kept} valid record(s), lost ${lost.length}; the original is kept as ${recovery.salvaged.original}`,
    );
  }
}

const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;
const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public'];

function loadToken(stateDir: string): string {
  const path = join(stateDir, 'token');
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return token;
  }
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Parses every CRD document under `dir`. @throws ConfigError naming the file that does not parse. */
function readCrdManifests(dir: string): { file: string; crd: KubeObject }[] {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  const crds: { file: string; crd: KubeObject }[] = [];
  for (const f of files) {
    const path = join(dir, f);
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new ConfigError(`${path}: ${doc.errors[0]?.message}`);
      const value: unknown = doc.toJS();
      if (isObject(value) && value.kind === 'CustomResourceDefinition' && isObject(value.metadata)) crds.push({ file: path, crd: value as KubeObject });
    }
  }
  return crds;
}

/** A running local API server. */
export class LocalApiServer {
  /** Base URL, e.g. https://127.0.0.1:34567. */
  readonly url: string;
  /** A kubeconfig for this server, written into the state directory. */
  readonly kubeconfigPath: string;
  /** The bearer token clients must send (it is also in the kubeconfig). */
  readonly token: string;
  /** PEM of the server's self-signed certificate (the kubeconfig's CA). */
  readonly caCert: string;
  readonly stateDir: string;
  readonly #server: Server;
  readonly #storage: ResourceStorage;
  readonly #lock: StateDirLock;
  readonly #log: Logger;
  readonly #watches: Set<ActiveWatch>;
  #closing: Promise<void> | undefined;

  private constructor(init: { url: string; kubeconfigPath: string; token: string; caCert: string; stateDir: string; server: Server; storage: ResourceStorage; lock: StateDirLock; log: Logger; watches: Set<ActiveWatch> }) {
    this.url = init.url;
    this.kubeconfigPath = init.kubeconfigPath;
    this.token = init.token;
    this.caCert = init.caCert;
    this.stateDir = init.stateDir;
    this.#server = init.server;
    this.#storage = init.storage;
    this.#lock = init.lock;
    this.#log = init.log;
    this.#watches = init.watches;
  }

  /**
   * Locks and loads `stateDir`, registers the CRDs of `crdDir`, and listens.
   * @throws MeshpilotError STATE_LOCKED when a live server holds the directory, STORAGE_FAILED when its state is damaged, LISTEN_FAILED when the port cannot be bound; ConfigError when a CRD manifest is invalid.
   */
  static async start(options: LocalApiServerOptions): Promise<LocalApiServer> {
    const log = (options.logger ?? pino({ enabled: false })).child({ component: 'local-apiserver' });
    const clock = options.clock ?? systemClock;
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    const lock = StateDirLock.acquire(options.stateDir);
    let store: ObjectStore | undefined;
    try {
      const opened = openStorage(options, log, clock);
      store = opened.store;
      const { storage, registry } = opened;
      const token = loadToken(options.stateDir);
      const watches = new Set<ActiveWatch>();
      const ctx: ResourceHandlerContext = {
        storage,
        clock,
        watches,
        bookmarkIntervalMs: options.bookmarkIntervalMs ?? 10_000,
        maxWatchSeconds: options.maxWatchSeconds ?? 1800,
      };
      const host = options.host ?? '127.0.0.1';
      const tls = loadServingCert(options.stateDir, host);
      const state = { url: '' };
      const handle = requestHandler({ ctx, token, registry, log, metrics: apiServerMetrics(options.metricsRegistry), url: () => state.url });
      const profile = options.tlsProfile ?? 'pq-hybrid';
      const server = createServer({ cert: tls.cert, key: tls.key, ...profileOptions(profile) }, (req, res) => {
        void handle(req, res);
      });
      countHandshakes(server, new HandshakeMetrics('apiserver', options.metricsRegistry ?? new Registry(), log));
      server.on('clientError', (_err, socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        else socket.destroy();
      });
      const port = await listen(server, options.port ?? 0, host);
      state.url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
      const kubeconfigPath = join(options.stateDir, 'kubeconfig');
      writeKubeconfig(kubeconfigPath, state.url, token, tls.cert);
      log.info({ url: state.url, kubeconfig: kubeconfigPath, resourceVersion: store.resourceVersion, tlsProfile: profile }, 'local API server listening');
      return new LocalApiServer({ url: state.url, kubeconfigPath, token, caCert: tls.cert, stateDir: options.stateDir, server, storage, lock, log, watches });
    } catch (e) {
      store?.close();
      lock.release();
      throw e;
    }
  }

  /** The newest resourceVersion (for tests and diagnostics). */
  get resourceVersion(): number {
    return this.#storage.store.resourceVersion;
  }

  /**
   * Stops listening, ends every watch, lets in-flight requests finish (up to `graceMs`),
   * closes the state log and releases the lock. Idempotent.
   */
  close(graceMs = 2000): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const w of [...this.#watches]) w.close();
      this.#server.closeIdleConnections();
      const timer = setTimeout(() => this.#server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      this.#storage.store.close();
      this.#lock.release();
      this.#log.info({ url: this.url }, 'local API server stopped');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function serveNonResource(req: IncomingMessage, res: ServerResponse, url: URL, registry: ResourceRegistry, selfUrl: string): number {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter((p) => p !== '');
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
  const ok = (body: unknown) => {
    sendJson(res, 200, body);
    return 200;
  };
  if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return 200;
  }
  if (path === '/version') {
    return ok({ ...SERVER_VERSION, gitCommit: '', gitTreeState: 'clean', buildDate: '1970-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'node', platform: `${process.platform}/${process.arch}` });
  }
  if ((path === '/api' || path === '/apis') && wantsAggregated(req)) {
    const body = Buffer.from(JSON.stringify(aggregatedDiscovery(registry, path === '/api')));
    res.writeHead(200, { 'Content-Type': AGGREGATED_CONTENT_TYPE, 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' });
    res.end(body);
    return 200;
  }
  if (path === '/api') return ok(coreVersions(new URL(selfUrl).host));
  if (path === '/apis') return ok(groupList(registry));
  if (parts[0] === 'api' && parts.length === 2) {
    const list = resourceList(registry, '', parts[1] ?? '');
    if (list) return ok(list);
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const g = group(registry, parts[1] ?? '');
    if (g) return ok(g);
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const list = resourceList(registry, parts[1] ?? '', parts[2] ?? '');
    if (list) return ok(list);
  }
  if (path === '/openapi/v2') {
    if ((req.headers.accept ?? '').includes('protobuf')) {
      const body = openApiV2Protobuf(registry, SERVER_VERSION.gitVersion);
      // kube-openapi answers protobuf as octet-stream: Go's mime parser rejects the '@' of the Accept type.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
      return 200;
    }
    return ok(openApiV2Json(registry, SERVER_VERSION.gitVersion));
  }
  if (path === '/openapi/v3') return ok(openApiV3Index(registry, SERVER_VERSION.gitVersion));
  if (parts[0] === 'openapi' && parts[1] === 'v3') {
    const [, , prefix, a, b] = parts;
    const doc = prefix === 'api' && parts.length === 4 ? openApiV3Document(registry, '', a ?? '', SERVER_VERSION.gitVersion) : prefix === 'apis' && parts.length === 5 ? openApiV3Document(registry, a ?? '', b ?? '', SERVER_VERSION.gitVersion) : undefined;
    if (doc) return ok(doc);
  }
  throw notFoundPath();
}

/**
 * Opens the state directory's store and the storage over it: the built-in kinds, the CRDs it
 * stored, the built-in namespaces, and the CRDs of `options.crdDir` (ConfigError naming the
 * file for an invalid one).
 */
function openStorage(options: LocalApiServerOptions, log: Logger, clock: Clock): { store: ObjectStore; storage: ResourceStorage; registry: ResourceRegistry } {
  const store = ObjectStore.open({
    stateDir: options.stateDir,
    watchHistory: options.watchHistory ?? 1000,
    ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
    salvage: options.salvageState ?? false,
  });
  try {
    reportRecovery(log, options.stateDir, store.recovery);
    const registry = new ResourceRegistry();
    const storage = new ResourceStorage(store, registry, clock);
    for (const t of [namespaceType, eventType, leaseType, storage.crdType()]) registry.register(t);
    storage.registerStoredCrds();
    const nsScope: RequestScope = { type: namespaceType, version: 'v1', fieldValidation: 'Strict', dryRun: false };
    for (const name of BUILTIN_NAMESPACES) {
      if (!store.get(storageTypeOf('', 'namespaces'), undefined, name)) storage.create(nsScope, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    if (options.crdDir) registerCrds(storage, options.crdDir, log);
    return { store, storage, registry };
  } catch (e) {
    store.close();
    throw e;
  }
}

function registerCrds(storage: ResourceStorage, crdDir: string, log: Logger): void {
  const crdScope: RequestScope = { type: storage.crdType(), version: 'v1', fieldValidation: 'Strict', dryRun: false };
  for (const { file, crd } of readCrdManifests(crdDir)) {
    try {
      storage.ensure(crdScope, crd);
    } catch (e) {
      if (e instanceof ApiError) throw new ConfigError(`${file}: ${e.status.message}`, { cause: e });
      throw e;
    }
    log.info({ crd: crd.metadata.name, file }, 'registered CRD');
  }
}

interface HandlerParts {
  ctx: ResourceHandlerContext;
  token: string;
  registry: ResourceRegistry;
  log: Logger;
  metrics: ReturnType<typeof apiServerMetrics>;
  /** The server's URL, once it listens (discovery documents carry it). */
  url: () => string;
}

/** The server's request handler: authentication, routing to resources or discovery, errors as Status, metrics and a log line. */
function requestHandler(p: HandlerParts): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const started = performance.now();
    let verb = (req.method ?? 'GET').toLowerCase();
    let resource = '';
    let code = 500;
    try {
      const authorized = req.headers.authorization === `Bearer ${p.token}`;
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://local');
      } catch {
        // Who may not ask learns nothing, not even that the path was malformed.
        if (!authorized) throw unauthorized();
        throw badRequest(`the request path ${JSON.stringify(req.url)} is not a valid URL path`);
      }
      if (!PUBLIC_PATHS.test(url.pathname) && !authorized) throw unauthorized();
      const info = parseResourceRequest(req.method ?? 'GET', url.pathname, url.searchParams);
      if (info === 'method-not-allowed') throw methodNotAllowed();
      if (info) {
        verb = info.verb;
        resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
        code = await handleResourceRequest(p.ctx, req, res, info, url.searchParams);
      } else {
        code = serveNonResource(req, res, url, p.registry, p.url());
      }
    } catch (e) {
      if (e instanceof ApiError) {
        code = e.status.code;
        sendStatus(res, e.status);
      } else {
        code = 500;
        p.log.warn({ err: e, method: req.method, url: req.url }, 'request failed');
        sendStatus(res, internal((e as Error).message ?? String(e)).status);
      }
    }
    p.metrics.observe(verb, resource, code);
    const entry = { method: req.method, url: req.url, code, ms: Math.round(performance.now() - started) };
    if (code >= 500) p.log.warn(entry, 'request');
    else p.log.debug(entry, 'request');
  };
}

/** Listens on `host:port`; resolves with the port bound (the one chosen when `port` is 0). */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
