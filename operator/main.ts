// The composition root: wires configuration, logging, metrics, probes, the Kubernetes client,
// the controller manager and (for `local`) the embedded control plane, and owns the process
// lifecycle (signals, graceful shutdown, exit codes). Nothing else builds these objects; the
// commands (operator/commands/) parse their flags and hand the configuration here.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { setLogger as setGrpcLogger } from '@grpc/grpc-js';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { DEFAULT_CRD_DIR } from './api/crds.ts';
import { ConfigError } from './base/errors.ts';
import { parseYamlDocuments } from './api/manifests.ts';
import type { AdaptiveRoute } from './api/types.ts';
import { Manager } from './manager.ts';
import { KubeApi, loadKubeConfig } from './kube/client.ts';
import { LocalApiServer } from './local/server.ts';
import type { LocalConfig, OperatorConfig } from './process/config.ts';
import { version } from './process/version.ts';
import { localHolderGone } from './process/local-lease-holder.ts';
import { serveEndpoints } from './process/http-endpoints.ts';
import { listenFailed, listeningOn } from './process/listen-error.ts';
import { createLogger, type LogFormat, type Logger } from './process/logger.ts';
import { Probes } from './process/probes.ts';
import { Shutdown } from './process/shutdown.ts';
import { OutputFanout } from './routing/output-fanout.ts';
import { DnsEndpointResolver } from './xds/endpoints.ts';
import { XdsServer } from './xds/server.ts';
import { ListenerBindError } from './xds/listeners.ts';
import { bindAddress } from './xds/server-options.ts';
import { buildTelemetry } from './telemetry/stack.ts';
import { systemClock } from './base/clock.ts';
import { startDemoMesh } from './demo/demo-mesh.ts';
import { DEMO_LABEL, DEMO_ROUTE } from './demo/demo-manifest.ts';
import { adaptExampleForLocal, type LocalAddresses } from './demo/local-examples.ts';
import { applyObject } from './kube/apply.ts';
import { ADAPTIVE_ROUTES } from './adaptive-route/resource.ts';
import { decisionBatcher } from './adaptive-route/decision-batcher.ts';
import { warmUpXds } from './adaptive-route/xds-warmup.ts';
import { ModelRegistry } from './policy/model/registry.ts';
import { policyMetrics } from './policy/metrics.ts';
import { PolicyService } from './policy/policy.ts';
import type { CredentialFiles } from './tls/credentials.ts';
import { localAuthority } from './tls/local-authority.ts';
import { namespacedKey } from './base/object-key.ts';

const EXAMPLES_DIR = new URL('../deploy/examples/', import.meta.url);

export interface RunningOperator {
  manager: Manager;
  /** The xDS server's TLS port (resolved when --xds-addr asks for port 0), when it has one. */
  xdsPort: number | undefined;
  /** Its plaintext port, when it has one. */
  xdsPlaintextPort: number | undefined;
  /** Resolves when the operator has stopped (after shutdown), rejects if it failed. */
  done: Promise<void>;
}

/**
 * Starts metrics and probe endpoints and the controller manager (under leader election when
 * enabled), registering their shutdown with `shutdown`. Throws ConfigError for an unusable
 * kubeconfig or an address already in use.
 */
export async function startOperator(
  config: OperatorConfig,
  logger: Logger,
  shutdown: Shutdown,
  hooks: { afterXdsClosed?: () => Promise<void>; registry?: Registry } = {},
): Promise<RunningOperator> {
  const registry = hooks.registry ?? operatorRegistry();
  const api = new KubeApi(loadKubeConfig({ kubeconfigPath: config.kubeconfig }));
  const xds = await startXds(config, logger, registry, shutdown, hooks);
  const telemetry = buildTelemetry(config.telemetry, { logger, registry, clock: systemClock });
  // Registered before the manager, so it stops after it: the last decisions reach the log.
  shutdown.add('telemetry', () => telemetry.close());
  const policyMeters = policyMetrics(registry);
  const models = new ModelRegistry({ ...(config.modelsDir ? { root: config.modelsDir } : {}), metrics: policyMeters });
  shutdown.add('models', () => models.dispose());
  const policy = new PolicyService({ models, clock: systemClock, metrics: policyMeters });
  const manager = new Manager({
    api,
    decide: decisionBatcher(policy),
    sink: new OutputFanout({ xds }),
    sync: xds,
    telemetry: telemetry.telemetry,
    ...(telemetry.decisionLog ? { decisionLog: telemetry.decisionLog } : {}),
    logger,
    registry,
    namespace: config.namespace,
    workers: config.workers,
    identity: config.leaderElection.identity,
    leaderElection: config.leaderElection.enabled ? config.leaderElection : undefined,
  });
  await serveEndpointsOf(config, { registry, manager, xds, logger, shutdown });

  const stop = new AbortController();
  logger.info(
    { identity: config.leaderElection.identity, leaderElection: config.leaderElection.enabled, namespace: config.namespace ?? '(all)' },
    'starting operator',
  );
  const done = manager.run(stop.signal);
  void warmUpXds({ routes: manager.routes, xds, logger, signal: stop.signal });
  shutdown.add('manager', async () => {
    stop.abort();
    await done;
  });
  return { manager, ...xdsPorts(config, xds), done };
}

/** The xDS server's TLS and plaintext ports. */
function xdsPorts(config: OperatorConfig, xds: XdsServer): { xdsPort: number | undefined; xdsPlaintextPort: number | undefined } {
  return config.xdsAddr ? { xdsPort: xds.port, xdsPlaintextPort: xds.plaintextPort } : { xdsPort: undefined, xdsPlaintextPort: xds.port };
}

/** `local`'s own certificates for the xDS channel (mTLS), issued in the state directory when none are named. */
function localXdsTls(config: LocalConfig, logger: Logger): CredentialFiles | undefined {
  if (!config.xdsAddr) return undefined;
  const authority = localAuthority(join(config.stateDir, 'xds-tls'));
  logger.info(
    { ca: authority.client.caFile, clientCert: authority.client.certFile, clientKey: authority.client.keyFile, identity: authority.client.identity },
    'xDS over mTLS with certificates issued by local: a client presents the client certificate and trusts the CA',
  );
  return authority.server;
}

/** The operator's metrics registry: process metrics, and meshpilot_build_info. */
function operatorRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meshpilot_' });
  new Gauge({ name: 'meshpilot_build_info', help: 'meshpilot version; always 1', labelNames: ['version'], registers: [registry] })
    .labels(version())
    .set(1);
  return registry;
}

/** The xDS server on --xds-addr, answering only once the routes are loaded (xds-warmup.ts). */
async function startXds(config: OperatorConfig, logger: Logger, registry: Registry, shutdown: Shutdown, hooks: { afterXdsClosed?: () => Promise<void> }): Promise<XdsServer> {
  const resolver = new DnsEndpointResolver();
  let xds: XdsServer;
  const plaintext = config.xdsPlaintextAddr;
  // A TLS address (with, maybe, a plaintext one beside it), or a plaintext one alone.
  const main = config.xdsAddr ?? plaintext!;
  const tlsFiles = config.xdsTls.files;
  try {
    xds = await listeningOn('the xDS server', main, config.xdsAddr ? '--xds-addr' : '--xds-plaintext-addr', () =>
      XdsServer.start({
        logger,
        registry,
        resolver,
        host: main.host,
        port: main.port,
        ...(config.xdsAddr && tlsFiles
          ? {
              tls: { profile: config.xdsTls.profile, files: tlsFiles, fieldNames: { certFile: '--xds-tls-cert', keyFile: '--xds-tls-key', caFile: '--xds-tls-client-ca' } },
              ...(plaintext ? { plaintext } : {}),
            }
          : {}),
        envoyListenerPort: config.envoyListenerPort,
        holdUntilLoaded: true,
      }).catch((e: unknown) => {
        if (e instanceof ListenerBindError && e.listener === 'plaintext' && plaintext) {
          throw listenFailed('the xDS server', bindAddress(plaintext.host, plaintext.port), '--xds-plaintext-addr', e);
        }
        throw e;
      }),
    );
  } catch (e) {
    resolver.close();
    throw e;
  }
  // Registered before the manager, so it stops after it: proxies keep their config until the end.
  shutdown.add('xds server', async () => {
    await xds.close();
    resolver.close();
    await hooks.afterXdsClosed?.();
  });
  return xds;
}

/** /metrics and /debug/xds on --metrics-addr, /healthz and /readyz on --health-addr (one listener when they are the same). */
async function serveEndpointsOf(config: OperatorConfig, parts: { registry: Registry; manager: Manager; xds: XdsServer; logger: Logger; shutdown: Shutdown }): Promise<void> {
  const { registry, manager, xds, shutdown } = parts;
  const healthz = new Probes();
  healthz.set('ping', () => undefined);
  const readyz = new Probes();
  // Ready once the caches are warm, leader or not: a standby must be ready to take over
  // (rolling updates and the PodDisruptionBudget count on it).
  readyz.set('informers', () => (manager.ready() ? undefined : 'informer caches not synced'));

  const same = config.metricsAddr.host === config.healthAddr.host && config.metricsAddr.port === config.healthAddr.port && config.metricsAddr.port !== 0;
  const debug = {
    'xds/nodes': () => xds.nodes(),
    'xds/config_dump': (q: URLSearchParams) => {
      const node = q.get('node');
      if (!node) throw new ConfigError('node: query parameter required');
      return xds.configDump(node);
    },
  };
  const metricsServer = await listeningOn('the metrics endpoint', config.metricsAddr, '--metrics-addr', () =>
    serveEndpoints(config.metricsAddr.host, config.metricsAddr.port, same ? { metrics: registry, healthz, readyz, debug } : { metrics: registry, debug }),
  );
  shutdown.add('metrics endpoint', () => metricsServer.close());
  const healthServer = same
    ? metricsServer
    : await listeningOn('the health endpoint', config.healthAddr, '--health-addr', () =>
        serveEndpoints(config.healthAddr.host, config.healthAddr.port, { healthz, readyz }),
      );
  if (!same) shutdown.add('health endpoint', () => healthServer.close());
  parts.logger.info({ metricsPort: metricsServer.port, healthPort: healthServer.port, ...xdsPorts(config, xds) }, 'serving endpoints');
}

function operatorLogger(config: { logLevel: string; logFormat: LogFormat }): Logger {
  const chosen = config.logFormat === 'auto' ? (process.stdout.isTTY ? 'text' : 'json') : config.logFormat;
  const logger = createLogger(config.logLevel, 1, chosen).child({ version: version() });
  // grpc-js writes its own errors to stderr as bare "E ..." lines; they belong in the JSON log.
  const grpcLog = logger.child({ component: 'grpc' });
  setGrpcLogger({
    error: (message: unknown, ...rest: unknown[]) => grpcLog.warn(format(message, ...rest)),
    info: (message: unknown, ...rest: unknown[]) => grpcLog.info(format(message, ...rest)),
    debug: (message: unknown, ...rest: unknown[]) => grpcLog.debug(format(message, ...rest)),
  });
  return logger;
}

/** Runs until the operator stops; a failure of the manager is fatal (exit 1: the pod restarts). */
async function runUntilStopped(logger: Logger, shutdown: Shutdown, done: Promise<void>): Promise<number> {
  try {
    await done;
    await shutdown.run();
    return 0;
  } catch (e) {
    logger.fatal({ err: e }, 'operator failed');
    await shutdown.run();
    return 1;
  }
}

/**
 * Runs `start`; when it fails, releases whatever it had taken (ports, the state directory's
 * lock, child servers) before the error reaches the command line, which exits non-zero.
 */
async function startOrRelease<T>(shutdown: Shutdown, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    await shutdown.run();
    throw e;
  }
}

/** `meshpilot run`: the operator against a cluster, until a signal stops it. */
export async function runOperator(config: OperatorConfig): Promise<number> {
  const logger = operatorLogger(config);
  const shutdown = new Shutdown(logger);
  shutdown.installSignalHandlers();
  const { done } = await startOrRelease(shutdown, () => startOperator(config, logger, shutdown));
  return runUntilStopped(logger, shutdown, done);
}

/**
 * `meshpilot local`: the embedded control plane, the CRDs, the examples (on first start)
 * and the operator against it, in one process.
 */
export async function runLocal(config: LocalConfig): Promise<number> {
  const logger = operatorLogger(config);
  const shutdown = new Shutdown(logger);
  shutdown.installSignalHandlers();
  const { operator } = await startOrRelease(shutdown, () => startLocal(config, logger, shutdown));
  return runUntilStopped(logger, shutdown, operator.done);
}

/**
 * Starts everything `meshpilot local` runs, registering each part with `shutdown` as it comes
 * up. Any failure rejects: a half-started local mode (the operator up, the demo's route
 * pointing at the previous run's ports) is worse than none.
 */
async function startLocal(config: LocalConfig, logger: Logger, shutdown: Shutdown): Promise<{ server: LocalApiServer; operator: RunningOperator }> {
  const registry = operatorRegistry();
  logger.info({ stateDir: config.stateDir }, 'starting embedded control plane');
  const server = await listeningOn('the local API server', { host: '127.0.0.1', port: config.apiPort }, '--api-port', () =>
    LocalApiServer.start({
      stateDir: config.stateDir,
      port: config.apiPort,
      crdDir: DEFAULT_CRD_DIR,
      logger,
      salvageState: config.salvageState,
      tlsProfile: config.apiTlsProfile,
      // The operator's registry: the control plane's requests and handshakes show on its /metrics.
      metricsRegistry: registry,
    }),
  );
  shutdown.add('control plane', () => server.close());
  logger.info({ url: server.url, kubeconfig: server.kubeconfigPath }, 'control plane ready');
  // What a person needs first, before the operator's own lines: where it runs and how to look.
  process.stderr.write(
    [
      '',
      `meshpilot local: control plane at ${server.url}, state in ${config.stateDir}`,
      `  kubectl --kubeconfig ${server.kubeconfigPath} get adaptiveroutes -A`,
      `  ${config.demo ? 'demo mesh: on (3 regions on loopback, route default/demo; --demo false turns it off)' : 'demo mesh: off'}`,
      '  Ctrl-C stops it; the next start resumes from the same state.',
      '',
    ].join('\n'),
  );

  const marker = join(config.stateDir, 'examples-applied');
  if (config.applyExamples && !existsSync(marker)) {
    const applied = await applyExamples(server.kubeconfigPath, { prometheusUrl: config.telemetry.prometheusUrl, kafkaBrokers: config.telemetry.kafkaBrokers }, logger);
    writeFileSync(marker, `${applied.join('\n')}\n`);
  }

  // The demo's proxyless client is closed only after the xDS server: grpc-js-xds 1.14 throws
  // (an uncaught TypeError in its resolver) when a config update reaches a channel it has
  // just closed, and while the server runs an update can arrive at any moment.
  let mesh: Awaited<ReturnType<typeof startDemoMesh>> | undefined;
  // The lease lives in this state directory's control plane: a holder named as a process of
  // this host that no longer runs crashed with its control plane, and is not waited for.
  const leaderElection = { ...config.leaderElection, holderGone: localHolderGone(config.host) };
  const xdsTls = config.xdsTls.files ? config.xdsTls : { ...config.xdsTls, files: localXdsTls(config, logger) };
  const operator = await startOperator({ ...config, leaderElection, xdsTls, kubeconfig: server.kubeconfigPath }, logger, shutdown, {
    registry,
    afterXdsClosed: async () => mesh?.close(),
  });
  reportRoutes(operator.manager, logger);
  const api = new KubeApi(loadKubeConfig({ kubeconfigPath: server.kubeconfigPath }));
  if (config.demo) {
    mesh = await startDemoMesh({
      xdsPort: operator.xdsPlaintextPort!,
      logger,
      brownout: config.demoBrownout,
    });
    const result = await applyObject(api, ADAPTIVE_ROUTES, mesh.manifest as unknown as AdaptiveRoute);
    logger.info({ route: `${DEMO_ROUTE.namespace}/${DEMO_ROUTE.name}` }, `demo route ${result}`);
  } else {
    await removeDemoRoute(api, logger);
  }
  return { server, operator };
}

/**
 * With the demo off, the route an earlier run's demo left behind points at ports nothing
 * listens on any more: remove it (only if it carries the demo's label, never a user's route).
 */
async function removeDemoRoute(api: KubeApi, logger: Logger): Promise<void> {
  const route = await api.get<AdaptiveRoute>(ADAPTIVE_ROUTES, DEMO_ROUTE.namespace, DEMO_ROUTE.name);
  if (route?.metadata.labels?.[DEMO_LABEL.key] !== DEMO_LABEL.value) return;
  await api.delete(ADAPTIVE_ROUTES, DEMO_ROUTE.namespace, DEMO_ROUTE.name);
  logger.info({ route: `${DEMO_ROUTE.namespace}/${DEMO_ROUTE.name}` }, 'removed the demo route left by an earlier run: the demo is off (--demo false)');
}

/** Creates each object of deploy/examples/ that does not exist yet; returns their names. */
async function applyExamples(kubeconfigPath: string, local: LocalAddresses, logger: Logger): Promise<string[]> {
  const objects = KubernetesObjectApi.makeApiClient(loadKubeConfig({ kubeconfigPath }));
  const applied: string[] = [];
  for (const file of readdirSync(EXAMPLES_DIR).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = parseYamlDocuments(readFileSync(new URL(file, EXAMPLES_DIR), 'utf8'), `deploy/examples/${file}`);
    for (const raw of docs as KubernetesObject[]) {
      const { doc, changes } = adaptExampleForLocal(raw as unknown as Record<string, unknown>, local, new Date());
      const name = `${raw.kind}/${namespacedKey(raw.metadata ?? {})}`;
      try {
        await objects.create(doc as KubernetesObject);
        logger.info({ object: name, file, ...(changes.length > 0 ? { adapted: changes } : {}) }, changes.length > 0 ? `applied example, adapted to local mode: ${changes.join('; ')}` : 'applied example');
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
      applied.push(name);
    }
  }
  return applied;
}

/** In local mode, says in words what happens to each route as the operator reconciles it. */
function reportRoutes(manager: Manager, logger: Logger): void {
  const seen = new Map<string, string>();
  const say = (route: AdaptiveRoute) => {
    const ready = route.status?.conditions?.find((c) => c.type === 'Ready');
    if (!ready || ready.observedGeneration !== route.metadata.generation) return;
    const key = `${route.metadata.namespace}/${route.metadata.name}`;
    const line = ready.status === 'True' ? `Ready, weights ${route.status?.weightSummary ?? '-'}` : `not ready: ${ready.reason}: ${ready.message}`;
    if (seen.get(key) === line) return;
    seen.set(key, line);
    logger.info({ route: key, ready: ready.status, weights: route.status?.weightSummary }, `route ${key}: ${line}`);
  };
  manager.routes.addHandler({ onAdd: say, onUpdate: (_old, route) => say(route) });
}
