// Process configuration: command-line flags over environment variables over defaults, parsed
// once at start-up with a schema. Every flag of the commands that run the operator is
// described here once (base/flags.ts builds the parsing and the help from it). Nothing else
// in meshpilot reads process.env (processEnvironment hands it to the command line).
import { z } from 'zod';
import { ConfigError } from '../base/errors.ts';
import { booleanValue, envName, flag, oneOf, parseFlags, rawFlag, type Env } from '../base/flags.ts';
import { isDuration, parseDuration } from '../base/duration.ts';
import { DEFAULT_NAMESPACE } from '../base/object-key.ts';
import type { TelemetryStackConfig } from '../telemetry/stack.ts';
import { localIdentity } from './local-lease-holder.ts';
import { LOG_FORMATS, type LogFormat } from './logger.ts';
import { TLS_PROFILES, type TlsProfile } from '../tls/profiles.ts';
import type { CredentialFiles } from '../tls/credentials.ts';

/** Slots the telemetry window is cut into (the window store's default). */
export const TELEMETRY_SLOTS = 6;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const address = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'must look like HOST:PORT or :PORT')
  .transform((s) => {
    const i = s.lastIndexOf(':');
    const host = s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
    return { host, port: Number(s.slice(i + 1)) };
  });

/** An address, or "none" for no listener there. */
const optionalAddress = z.union([z.literal('none').transform(() => undefined), address]);

const duration = z.string().transform((s, ctx) => {
  if (!isDuration(s)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration like 250ms, 15s or 1m` });
    return z.NEVER;
  }
  return parseDuration(s);
});

const brokerList = z.string().transform((s, ctx) => {
  const brokers = s.split(',').map((b) => b.trim()).filter(Boolean);
  const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  if (bad !== undefined || brokers.length === 0) {
    ctx.addIssue({ code: 'custom', message: `"${bad ?? s}" is not a broker list like kafka-0:9092,kafka-1:9092` });
    return z.NEVER;
  }
  return brokers;
});

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');

/** The flags of every command that runs the operator (`run`, `local`, `start`): described once, here. */
export const OPERATOR_FLAGS = {
  kubeconfig: flag(z.string().optional(), { arg: 'PATH', help: 'kubeconfig to use', defaultText: '$KUBECONFIG, then in-cluster' }),
  namespace: flag(z.string().optional(), { arg: 'NS', help: 'watch only this namespace', defaultText: 'all namespaces' }),
  'metrics-addr': flag(address.prefault(':8080'), { arg: 'ADDR', help: 'serve Prometheus metrics (and /debug/xds) on ADDR' }),
  'health-addr': flag(address.prefault(':8081'), { arg: 'ADDR', help: 'serve /healthz and /readyz on ADDR' }),
  'leader-elect': flag(booleanValue.default(true), { arg: 'BOOL', help: 'elect a leader through a Lease before reconciling' }),
  'lease-name': flag(z.string().min(1).default('meshpilot-operator'), { arg: 'NAME', help: 'name of the Lease' }),
  'lease-namespace': flag(z.string().optional(), { arg: 'NS', help: 'namespace of the Lease', defaultText: '$POD_NAMESPACE, then default' }),
  'lease-duration': flag(duration.prefault('15s'), { arg: 'DUR', help: 'how long a lease is valid without renewal' }),
  'renew-deadline': flag(duration.prefault('10s'), { arg: 'DUR', help: 'how long the leader keeps retrying to renew' }),
  'retry-period': flag(duration.prefault('2s'), { arg: 'DUR', help: 'how often candidates retry and the leader renews' }),
  identity: flag(z.string().optional(), { arg: 'ID', help: "this replica's identity in the Lease", defaultText: '$POD_NAME + random' }),
  workers: flag(z.coerce.number().int().min(1).max(64).default(4), { arg: 'N', help: 'concurrent reconciles per controller' }),
  'log-level': flag(oneOf(LOG_LEVELS).default('info'), { arg: 'LEVEL', help: LOG_LEVELS.join('|') }),
  'log-format': flag(oneOf(LOG_FORMATS).default('auto'), { arg: 'FORMAT', help: 'json, text, or auto: text when stdout is a terminal' }),
  'xds-addr': flag(optionalAddress.prefault(':18000'), {
    arg: 'ADDR',
    help: 'serve xDS (Envoy v3 ADS, gRPC) over TLS on ADDR, mTLS with --xds-tls-client-ca; none: no TLS address',
  }),
  'xds-tls-cert': flag(z.string().min(1).optional(), { arg: 'FILE', help: "the xDS server's PEM certificate chain (tls.crt of a mounted Secret); reloaded when it changes", defaultText: 'none' }),
  'xds-tls-key': flag(z.string().min(1).optional(), { arg: 'FILE', help: 'its PEM private key (tls.key)', defaultText: 'none' }),
  'xds-tls-client-ca': flag(z.string().min(1).optional(), {
    arg: 'FILE',
    help: 'PEM CA bundle that signs client certificates: with it, every client must present one, and is the SPIFFE ID in it (it sees only its namespace)',
    defaultText: 'none: clients are not authenticated',
  }),
  'xds-tls-profile': flag(oneOf(TLS_PROFILES).default('pq-hybrid'), { arg: 'PROFILE', help: `key exchange on the TLS address: ${TLS_PROFILES.join('|')}` }),
  'xds-plaintext-addr': flag(optionalAddress.prefault('none'), {
    arg: 'ADDR',
    help: 'also serve xDS in PLAINTEXT on ADDR, for clients that cannot speak TLS to a control plane (grpc-js-xds 1.14); unauthenticated, sees every route',
  }),
  'envoy-listener-port': flag(z.coerce.number().int().min(1).max(65535).default(10000), { arg: 'N', help: 'port of the HTTP listener given to Envoy proxies' }),
  'prometheus-url': flag(httpUrl.optional(), { arg: 'URL', help: 'Prometheus for routes that name no telemetry source', defaultText: 'none' }),
  'prometheus-timeout': flag(duration.prefault('5s'), { arg: 'DUR', help: 'timeout of one Prometheus query' }),
  'kafka-brokers': flag(brokerList.optional(), { arg: 'LIST', help: 'brokers (host:port,...) for telemetry topics and the decision log' }),
  'kafka-client-id': flag(z.string().min(1).default('meshpilot'), { arg: 'ID', help: 'Kafka client id' }),
  'kafka-group-id': flag(z.string().min(1).default('meshpilot-telemetry'), { arg: 'ID', help: 'consumer group of the telemetry consumer' }),
  'kafka-max-message-bytes': flag(z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024), { arg: 'N', help: 'larger telemetry messages are dead-lettered' }),
  'decision-log-topic': flag(z.string().regex(/^[a-zA-Z0-9._-]*$/, 'must be a Kafka topic name (or empty to disable)').default('meshpilot.decisions'), {
    arg: 'T',
    help: 'topic every decision is produced to; empty disables',
  }),
  'telemetry-window': flag(duration.prefault('60s'), { arg: 'DUR', help: 'sliding window for rates and latency quantiles' }),
  'telemetry-max-clock-skew': flag(duration.prefault('30s'), { arg: 'DUR', help: 'how far in the future a timestamp may be' }),
  'scrape-timeout': flag(duration.prefault('5s'), { arg: 'DUR', help: 'timeout of one direct /metrics scrape' }),
  'models-dir': flag(z.string().min(1).optional(), { arg: 'DIR', help: 'where spec.policy.modelRef names models', defaultText: 'the models/ folder' }),
};

/** The embedded control plane's own flags (`control-plane`, and `local` with the operator's). */
export const CONTROL_PLANE_FLAGS = {
  'state-dir': flag(z.string().min(1).default('.state/local'), { arg: 'DIR', help: 'where the control plane keeps its objects' }),
  'api-port': flag(z.coerce.number().int().min(0).max(65535).default(0), { arg: 'PORT', help: 'port of the embedded API server', defaultText: 'a free port' }),
  'api-tls-profile': flag(oneOf(TLS_PROFILES).default('pq-hybrid'), {
    arg: 'PROFILE',
    help: `key exchange of the embedded API server's HTTPS: ${TLS_PROFILES.join('|')} (pq-only refuses clients built before X25519MLKEM768, e.g. kubectl older than Go 1.24)`,
  }),
  'salvage-state': flag(booleanValue.default(false), {
    switch: true,
    help: 'start even though the state log is damaged: keep every record whose checksum is valid, copy the original aside, report the loss',
  }),
};

/** `local`'s flags: the control plane's, the demo's and the operator's. */
export const LOCAL_FLAGS = {
  ...CONTROL_PLANE_FLAGS,
  examples: flag(booleanValue.default(true), { arg: 'BOOL', help: 'apply deploy/examples/ on first start' }),
  demo: flag(booleanValue.default(true), {
    arg: 'BOOL',
    help: 'run the demo mesh: gRPC backends in 3 regions on loopback, a proxyless client sending load through the xDS server, and the route default/demo steering it, read by direct scrape',
  }),
  'demo-brownout-every': flag(duration.prefault('4m'), { arg: 'DUR', help: 'how often one demo region browns out; the first comes 30s after the start' }),
  'demo-brownout-for': flag(duration.prefault('1m'), { arg: 'DUR', help: 'how long each brownout lasts' }),
  ...OPERATOR_FLAGS,
  'xds-tls-cert': flag(z.string().min(1).optional(), {
    arg: 'FILE',
    help: "the xDS server's PEM certificate chain; without it local issues a CA, a serving and a client certificate in STATE-DIR/xds-tls/ (mTLS)",
    defaultText: 'issued by local',
  }),
  'xds-plaintext-addr': flag(optionalAddress.prefault('127.0.0.1:18001'), {
    arg: 'ADDR',
    help: "also serve xDS in PLAINTEXT on ADDR: the demo's grpc-js-xds client cannot speak TLS to a control plane; none turns it off (and needs --demo false)",
  }),
};

export interface OperatorConfig {
  kubeconfig: string | undefined;
  /** Namespace to watch; undefined = all namespaces. */
  namespace: string | undefined;
  metricsAddr: { host: string; port: number };
  healthAddr: { host: string; port: number };
  leaderElection: {
    enabled: boolean;
    leaseName: string;
    leaseNamespace: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
    identity: string;
    /** See LeaderElectorOptions.holderGone. */
    holderGone?: (identity: string) => boolean;
  };
  workers: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** json, text, or auto: text when stdout is a terminal. */
  logFormat: LogFormat;
  /** Where the ADS server listens over TLS (undefined: nowhere). */
  xdsAddr: { host: string; port: number } | undefined;
  /** Its certificate, key and client CA (mTLS), and profile; undefined until given (`local` issues its own). */
  xdsTls: { profile: TlsProfile; files: CredentialFiles | undefined };
  /** Where it also listens in plaintext (undefined: nowhere). */
  xdsPlaintextAddr: { host: string; port: number } | undefined;
  /** Port of the HTTP listener the xDS server gives Envoy proxies. */
  envoyListenerPort: number;
  telemetry: TelemetryConfig;
  /** Where spec.policy.modelRef names are looked up (undefined: the repository's models/). */
  modelsDir: string | undefined;
}

/** The telemetry flags, as the telemetry stack takes them. */
export type TelemetryConfig = TelemetryStackConfig;

export interface LocalConfig extends OperatorConfig {
  stateDir: string;
  apiPort: number;
  /** Key exchange of the embedded API server's HTTPS. */
  apiTlsProfile: TlsProfile;
  applyExamples: boolean;
  /** Run the demo mesh (backends, load, and its route) beside the operator. */
  demo: boolean;
  /** How often the demo's brownout comes back, and how long it lasts (ms). */
  demoBrownout: { periodMs: number; durationMs: number };
  /** Start from a corrupt state log, keeping every valid record and a copy of the original. */
  salvageState: boolean;
  /** This host's name, as lease identities carry it. */
  host: string;
}

/**
 * Whether a fatal error should print its stack trace: asked for with `--log-level debug|trace`
 * (or MESHPILOT_LOG_LEVEL). Read from raw argv, because the error may be that parsing failed.
 */
export function stackTracesWanted(args: string[], env: Env): boolean {
  const level = rawFlag(args, 'log-level') ?? env[envName('log-level')];
  return level === 'debug' || level === 'trace';
}

/** This process's environment: the one place meshpilot reads it; commands get it from here. */
export function processEnvironment(): Env {
  return process.env;
}

/**
 * Points this process's grpc-js-xds at `bootstrap` (JSON). grpc-js-xds 1.14 takes its
 * bootstrap only from the environment, so the demo's proxyless client is configured here, in
 * the one module that touches process.env.
 */
export function setGrpcXdsBootstrapConfig(bootstrap: string): void {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = bootstrap;
}

/** Configuration for `meshpilot run`. Throws ConfigError naming the flag on bad input. */
export function operatorConfig(args: string[], env: Env): OperatorConfig {
  const config = toOperatorConfig(parseFlags(OPERATOR_FLAGS, args, { env }), env);
  if (config.xdsAddr && !config.xdsTls.files) {
    throw new ConfigError(
      'invalid configuration: --xds-tls-cert and --xds-tls-key are required: --xds-addr serves xDS over TLS only. ' +
        'Name the files of the serving certificate (a mounted kubernetes.io/tls Secret), or, for clients that cannot speak TLS to a control plane, ' +
        'serve plaintext on a separate address with --xds-plaintext-addr and set --xds-addr=none',
    );
  }
  return config;
}

/** The xDS TLS files of the flags; ConfigError when only some are given. */
function xdsTlsFiles(o: z.output<z.ZodObject<typeof OPERATOR_FLAGS>>): CredentialFiles | undefined {
  const cert = o['xds-tls-cert'], key = o['xds-tls-key'], ca = o['xds-tls-client-ca'];
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new ConfigError(`invalid configuration: ${cert === undefined ? '--xds-tls-cert' : '--xds-tls-key'} is required with ${cert === undefined ? '--xds-tls-key' : '--xds-tls-cert'}${ca !== undefined ? ' and --xds-tls-client-ca' : ''}`);
  }
  return { certFile: cert, keyFile: key, ...(ca !== undefined ? { caFile: ca } : {}) };
}

/**
 * Configuration for `meshpilot local`. Its default lease identity names this process (`pid`),
 * so that the next start after a crash can tell the holder is gone (local-lease-holder.ts).
 * Throws ConfigError naming the flag on bad input.
 */
export function localConfig(args: string[], env: Env, pid: number = process.pid): LocalConfig {
  const o = parseFlags(LOCAL_FLAGS, args, { env });
  if (o['demo-brownout-for'] < 1000 || o['demo-brownout-for'] >= o['demo-brownout-every']) {
    throw new ConfigError('invalid configuration: --demo-brownout-for must be at least 1s and shorter than --demo-brownout-every');
  }
  if (o.demo && o['xds-plaintext-addr'] === undefined) {
    throw new ConfigError("invalid configuration: --demo needs --xds-plaintext-addr: the demo's grpc-js-xds client cannot speak TLS to a control plane (turn the demo off with --demo false)");
  }
  const operator = toOperatorConfig(o, env);
  if (o.identity === undefined) operator.leaderElection.identity = localIdentity(hostOf(env), pid, Math.random().toString(36).slice(2, 10));
  return {
    ...operator,
    stateDir: o['state-dir'],
    apiPort: o['api-port'],
    apiTlsProfile: o['api-tls-profile'],
    applyExamples: o.examples,
    demo: o.demo,
    demoBrownout: { periodMs: o['demo-brownout-every'], durationMs: o['demo-brownout-for'] },
    salvageState: o['salvage-state'],
    host: hostOf(env),
  };
}

/** The pod's (or host's) name, for lease identities. */
function hostOf(env: Env): string {
  return env.POD_NAME ?? env.HOSTNAME ?? 'meshpilot';
}

function toOperatorConfig(o: z.output<z.ZodObject<typeof OPERATOR_FLAGS>>, env: Env): OperatorConfig {
  if (o['renew-deadline'] >= o['lease-duration']) {
    throw new ConfigError('invalid configuration: --renew-deadline must be shorter than --lease-duration');
  }
  if (o['retry-period'] >= o['renew-deadline']) {
    throw new ConfigError('invalid configuration: --retry-period must be shorter than --renew-deadline');
  }
  if (o['telemetry-window'] < 6000 || o['telemetry-window'] % TELEMETRY_SLOTS !== 0) {
    throw new ConfigError(`invalid configuration: --telemetry-window must be at least 6s and a multiple of ${TELEMETRY_SLOTS}ms (it is cut into ${TELEMETRY_SLOTS} slots)`);
  }
  if (o['xds-addr'] === undefined && o['xds-plaintext-addr'] === undefined) {
    throw new ConfigError('invalid configuration: --xds-addr is none and no --xds-plaintext-addr is given: the xDS server would listen nowhere');
  }
  const xdsTls = { profile: o['xds-tls-profile'], files: xdsTlsFiles(o) };
  const host = hostOf(env);
  return {
    kubeconfig: o.kubeconfig ?? env.KUBECONFIG,
    namespace: o.namespace,
    metricsAddr: o['metrics-addr'],
    healthAddr: o['health-addr'],
    leaderElection: {
      enabled: o['leader-elect'],
      leaseName: o['lease-name'],
      leaseNamespace: o['lease-namespace'] ?? env.POD_NAMESPACE ?? DEFAULT_NAMESPACE,
      leaseDurationMs: o['lease-duration'],
      renewDeadlineMs: o['renew-deadline'],
      retryPeriodMs: o['retry-period'],
      identity: o.identity ?? `${host}_${Math.random().toString(36).slice(2, 10)}`,
    },
    workers: o.workers,
    logLevel: o['log-level'],
    logFormat: o['log-format'],
    xdsAddr: o['xds-addr'],
    xdsTls,
    xdsPlaintextAddr: o['xds-plaintext-addr'],
    envoyListenerPort: o['envoy-listener-port'],
    modelsDir: o['models-dir'],
    telemetry: {
      prometheusUrl: o['prometheus-url'],
      prometheusTimeoutMs: o['prometheus-timeout'],
      kafkaBrokers: o['kafka-brokers'],
      kafkaClientId: o['kafka-client-id'],
      kafkaGroupId: o['kafka-group-id'],
      kafkaMaxMessageBytes: o['kafka-max-message-bytes'],
      decisionLogTopic: o['kafka-brokers'] && o['decision-log-topic'] ? o['decision-log-topic'] : undefined,
      windowMs: o['telemetry-window'],
      maxClockSkewMs: o['telemetry-max-clock-skew'],
      scrapeTimeoutMs: o['scrape-timeout'],
    },
  };
}
