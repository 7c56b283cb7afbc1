// Process configuration: command-line flags over environment variables over defaults, parsed
// once at start-up with a schema. Nothing else in meshpilot reads process.env or argv.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../base/errors.ts';
import { isDuration, parseDuration } from '../base/duration.ts';
import { DEFAULT_NAMESPACE } from '../base/object-key.ts';
import type { TelemetryStackConfig } from '../telemetry/stack.ts';
import { localIdentity } from './local-lease-holder.ts';
import { LOG_FORMATS, type LogFormat } from './logger.ts';

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

const booleanFlag = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/** Options shared by every command that runs the operator. */
const operatorOptions = z.object({
  kubeconfig: z.string().optional(),
  namespace: z.string().optional(),
  'metrics-addr': address.prefault(':8080'),
  'health-addr': address.prefault(':8081'),
  'leader-elect': booleanFlag.default(true),
  'lease-name': z.string().min(1).default('meshpilot-operator'),
  'lease-namespace': z.string().optional(),
  'lease-duration': duration.prefault('15s'),
  'renew-deadline': duration.prefault('10s'),
  'retry-period': duration.prefault('2s'),
  identity: z.string().optional(),
  workers: z.coerce.number().int().min(1).max(64).default(4),
  'log-level': z.enum(LOG_LEVELS).default('info'),
  'log-format': z.enum(LOG_FORMATS).default('auto'),
  'xds-addr': address.prefault(':18000'),
  'envoy-listener-port': z.coerce.number().int().min(1).max(65535).default(10000),
  'prometheus-url': httpUrl.optional(),
  'prometheus-timeout': duration.prefault('5s'),
  'kafka-brokers': brokerList.optional(),
  'kafka-client-id': z.string().min(1).default('meshpilot'),
  'kafka-group-id': z.string().min(1).default('meshpilot-telemetry'),
  'kafka-max-message-bytes': z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  'decision-log-topic': z.string().regex(/^[a-zA-Z0-9._-]*$/, 'must be a Kafka topic name (or empty to disable)').default('meshpilot.decisions'),
  'telemetry-window': duration.prefault('60s'),
  'telemetry-max-clock-skew': duration.prefault('30s'),
  'scrape-timeout': duration.prefault('5s'),
  'models-dir': z.string().min(1).optional(),
});

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
  /** Where the ADS server listens. */
  xdsAddr: { host: string; port: number };
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

/** Flag definitions for node:util parseArgs; every flag also takes MESHPILOT_<FLAG> from the environment. */
export const OPERATOR_FLAGS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'metrics-addr': { type: 'string' },
  'health-addr': { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  identity: { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'xds-addr': { type: 'string' },
  'envoy-listener-port': { type: 'string' },
  'prometheus-url': { type: 'string' },
  'prometheus-timeout': { type: 'string' },
  'kafka-brokers': { type: 'string' },
  'kafka-client-id': { type: 'string' },
  'kafka-group-id': { type: 'string' },
  'kafka-max-message-bytes': { type: 'string' },
  'decision-log-topic': { type: 'string' },
  'telemetry-window': { type: 'string' },
  'telemetry-max-clock-skew': { type: 'string' },
  'scrape-timeout': { type: 'string' },
  'models-dir': { type: 'string' },
} as const;

export const LOCAL_FLAGS = {
  ...OPERATOR_FLAGS,
  'state-dir': { type: 'string' },
  'api-port': { type: 'string' },
  examples: { type: 'string' },
  demo: { type: 'string' },
  'demo-brownout-every': { type: 'string' },
  'demo-brownout-for': { type: 'string' },
  'salvage-state': { type: 'boolean' },
} as const;

type Env = Record<string, string | undefined>;

/**
 * Whether a fatal error should print its stack trace: asked for with `--log-level debug|trace`
 * (or MESHPILOT_LOG_LEVEL). Read from raw argv, because the error may be that parsing failed.
 */
export function stackTracesWanted(args: string[], env: Env): boolean {
  const i = args.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  const level = i < 0 ? env[envName('log-level')] : args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  return level === 'debug' || level === 'trace';
}

/** The environment variable a flag falls back to: --lease-name → MESHPILOT_LEASE_NAME. */
export function envName(flag: string): string {
  return `MESHPILOT_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Parses argv (after the command word) into flag values, falling back to MESHPILOT_* variables.
 * Throws ConfigError naming the flag or variable for unknown flags, stray arguments and bad values.
 */
export function readFlags(
  args: string[],
  flags: Record<string, { type: 'string' | 'boolean' }>,
  env: Env,
): Record<string, string | boolean | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: flags, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(flags)) {
    values[name] = (parsed.values as Record<string, string | boolean | undefined>)[name] ?? env[envName(name)];
  }
  return values;
}

function parseWith<T extends z.ZodType>(schema: T, values: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(values);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const flag = String(i.path[0] ?? '');
      return `--${flag} (or ${envName(flag)}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

/** Configuration for `meshpilot run`. Throws ConfigError naming the flag on bad input. */
export function operatorConfig(args: string[], env: Env): OperatorConfig {
  return toOperatorConfig(parseWith(operatorOptions, readFlags(args, OPERATOR_FLAGS, env)), env);
}

const localOptions = operatorOptions.extend({
  'state-dir': z.string().min(1).default('.state/local'),
  'api-port': z.coerce.number().int().min(0).max(65535).default(0),
  examples: booleanFlag.default(true),
  demo: booleanFlag.default(true),
  'demo-brownout-every': duration.prefault('4m'),
  'demo-brownout-for': duration.prefault('1m'),
  'salvage-state': booleanFlag.default(false),
});

/**
 * Configuration for `meshpilot local`. Its default lease identity names this process (`pid`),
 * so that the next start after a crash can tell the holder is gone (local-lease-holder.ts).
 * Throws ConfigError naming the flag on bad input.
 */
export function localConfig(args: string[], env: Env, pid: number = process.pid): LocalConfig {
  const o = parseWith(localOptions, readFlags(args, LOCAL_FLAGS, env));
  if (o['demo-brownout-for'] < 1000 || o['demo-brownout-for'] >= o['demo-brownout-every']) {
    throw new ConfigError('invalid configuration: --demo-brownout-for must be at least 1s and shorter than --demo-brownout-every');
  }
  const operator = toOperatorConfig(o, env);
  if (o.identity === undefined) operator.leaderElection.identity = localIdentity(hostOf(env), pid, Math.random().toString(36).slice(2, 10));
  return {
    ...operator,
    stateDir: o['state-dir'],
    apiPort: o['api-port'],
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

function toOperatorConfig(o: z.output<typeof operatorOptions>, env: Env): OperatorConfig {
  if (o['renew-deadline'] >= o['lease-duration']) {
    throw new ConfigError('invalid configuration: --renew-deadline must be shorter than --lease-duration');
  }
  if (o['retry-period'] >= o['renew-deadline']) {
    throw new ConfigError('invalid configuration: --retry-period must be shorter than --renew-deadline');
  }
  if (o['telemetry-window'] < 6000 || o['telemetry-window'] % TELEMETRY_SLOTS !== 0) {
    throw new ConfigError(`invalid configuration: --telemetry-window must be at least 6s and a multiple of ${TELEMETRY_SLOTS}ms (it is cut into ${TELEMETRY_SLOTS} slots)`);
  }
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
