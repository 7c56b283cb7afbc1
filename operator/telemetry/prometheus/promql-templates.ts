// PromQL templates: the defaults meshpilot queries for every route, a route's overrides
// (spec.telemetry.prometheus.queries), and their rendering with a route's variables.
//
// Two shapes, told apart by the variables a template uses:
// - per region: it names {{region}}, {{service}} or {{cluster}}; it runs once per region and
//   must return at most one series (the value of that region);
// - per route: it names none of them; it runs once per route and each series it returns is
//   the value of the region in its `region` label (series of other regions are ignored).
//
// What the defaults expect (all of them per route, so one decision costs six queries per
// route, not six per region):
// (a) Envoy, the data plane meshpilot serves over xDS: the cluster stats of the clusters it
//     names `meshpilot|<namespace>|<name>|<region>` (operator/xds/names.ts), as Envoy's
//     Prometheus endpoint exports them with the tag `envoy_cluster_name` (the cluster's
//     alt_stat_name: dots in a route name become _, since Envoy cuts names at a dot). The region is cut
//     from the cluster name with label_replace, so no relabelling is needed. Errors are HTTP
//     5xx (envoy_cluster_upstream_rq_xx{envoy_response_code_class="5"}); latency is
//     envoy_cluster_upstream_rq_time, a histogram in milliseconds; saturation is the share of
//     the circuit breaker's request budget in use, active / (active + remaining), which needs
//     `track_remaining: true` on the cluster's DEFAULT thresholds (meshpilot's xDS sets it).
// (b) gRPC servers that export the OpenTelemetry metrics of gRFC A66 through a Prometheus
//     exporter: grpc_server_call_started_total and grpc_server_call_duration_seconds (with
//     grpc_status), scraped with the target labels `region` and `service` (the first DNS
//     label of the destination's host). Errors are the statuses that mean the server failed
//     (the analogue of HTTP 5xx), not the caller's mistakes (INVALID_ARGUMENT, NOT_FOUND, ...).
//     gRPC has no standard saturation metric: A66 counts calls and their duration and sizes,
//     but nothing relates calls in flight to a capacity (a server has no request limit, only a
//     per-connection stream limit it does not export), and the load a server reports through
//     ORCA goes to its clients, not to Prometheus. A route served only by (b) has no
//     saturation, which is "no data", never 0.
// Where both exist for a region, (a) wins (`or` keeps the left side's series).
//
// Every error ratio is written as (errors or 0 * total) / total: a counter of failures that
// has never been incremented often does not exist yet, and the ratio must then be 0 when there
// was traffic, and NaN (no data) when there was none.
import { ConfigError } from '../../base/errors.ts';
import { SIGNALS, type RegionTarget, type RouteTarget, type Signal } from '../types.ts';

/** Variables of the route, usable in both shapes. */
export const ROUTE_VARIABLES = ['route', 'namespace', 'name', 'host', 'window', 'services', 'clusters'] as const;
/** Variables of one region; a template that uses one of them runs once per region. */
export const REGION_VARIABLES = ['region', 'service', 'cluster'] as const;
type Variable = (typeof ROUTE_VARIABLES)[number] | (typeof REGION_VARIABLES)[number];

const KNOWN = new Set<string>([...ROUTE_VARIABLES, ...REGION_VARIABLES]);
const PER_REGION = new Set<string>(REGION_VARIABLES);
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The field of a signal's override, as a user sees it in an error. */
export function templateField(signal: Signal): string {
  return `spec.telemetry.prometheus.queries.${signal}`;
}

// The pieces of the defaults, kept as PromQL text with the variables still in it.
const ENVOY = 'envoy_cluster_name=~"{{clusters}}"';
const GRPC = 'service=~"{{services}}"';
// Statuses that say the server (or what is behind it) failed.
const GRPC_FAILED = 'grpc_status=~"UNKNOWN|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|INTERNAL|UNAVAILABLE|DATA_LOSS"';

/** The region of an Envoy series: the last `|`-separated part of its cluster name. */
function envoyRegion(expr: string): string {
  return String.raw`label_replace(${expr}, "region", "$1", "envoy_cluster_name", ".*\\|([^|]+)")`;
}

function envoySum(expr: string, by = 'region'): string {
  return `sum by (${by}) (${envoyRegion(expr)})`;
}

function grpcSum(expr: string, by = 'region'): string {
  return `sum by (${by}) (${expr})`;
}

function ratio(failed: string, total: string): string {
  return `((${failed}) or 0 * (${total})) / (${total})`;
}

function latency(q: number): string {
  const envoy = `histogram_quantile(${q}, ${envoySum(`rate(envoy_cluster_upstream_rq_time_bucket{${ENVOY}}[{{window}}])`, 'region, le')}) / 1000`;
  const grpc = `histogram_quantile(${q}, ${grpcSum(`rate(grpc_server_call_duration_seconds_bucket{${GRPC}}[{{window}}])`, 'region, le')})`;
  return `(${envoy}) or (${grpc})`;
}

const envoyTotal = envoySum(`rate(envoy_cluster_upstream_rq_total{${ENVOY}}[{{window}}])`);
const grpcTotal = grpcSum(`rate(grpc_server_call_duration_seconds_count{${GRPC}}[{{window}}])`);
const envoyActive = envoySum(`envoy_cluster_upstream_rq_active{${ENVOY}}`);

/**
 * The built-in templates, all per route. Units: requests per second, error and saturation as
 * fractions, latency in seconds (the source converts to milliseconds).
 */
export const DEFAULT_TEMPLATES: Readonly<Record<Signal, string>> = {
  requestRate: `(${envoyTotal}) or (${grpcSum(`rate(grpc_server_call_started_total{${GRPC}}[{{window}}])`)})`,
  errorRate:
    `(${ratio(envoySum(`rate(envoy_cluster_upstream_rq_xx{${ENVOY},envoy_response_code_class="5"}[{{window}}])`), envoyTotal)})` +
    ` or (${ratio(grpcSum(`rate(grpc_server_call_duration_seconds_count{${GRPC},${GRPC_FAILED}}[{{window}}])`), grpcTotal)})`,
  latencyP50: latency(0.5),
  latencyP90: latency(0.9),
  latencyP99: latency(0.99),
  saturation: `(${envoyActive}) / ((${envoyActive}) + (${envoySum(`envoy_cluster_circuit_breakers_default_remaining_rq{${ENVOY}}`)}))`,
};

/** A template checked once: it only names known variables, and its shape is known. */
export interface CompiledTemplate {
  signal: Signal;
  /** The field it came from, or "default". */
  field: string;
  text: string;
  /** Runs once per region (it names a region variable) rather than once per route. */
  perRegion: boolean;
}

/**
 * Checks `text` for `signal`. Throws ConfigError naming `field` when the template is empty or
 * names an unknown variable (`spec.telemetry.prometheus.queries.errorRate: unknown variable {{foo}}`).
 */
export function compileTemplate(signal: Signal, text: string, field: string = templateField(signal)): CompiledTemplate {
  if (text.trim() === '') throw new ConfigError(`${field}: empty query; leave the field out to use the built-in query`);
  let perRegion = false;
  for (const [placeholder, name = ''] of text.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(name)) {
      throw new ConfigError(`${field}: unknown variable ${placeholder}; known: ${[...KNOWN].map((v) => `{{${v}}}`).join(', ')}`);
    }
    if (PER_REGION.has(name)) perRegion = true;
  }
  return { signal, field, text, perRegion };
}

export interface RouteTemplates {
  templates: Partial<Record<Signal, CompiledTemplate>>;
  /** One per override that failed to compile; its signal has no template. */
  errors: ConfigError[];
}

/** The template of every signal of `target`: its override where it has one, else the default. Never throws. */
export function routeTemplates(target: RouteTarget): RouteTemplates {
  const overrides = target.telemetry.prometheus?.queries ?? {};
  const templates: Partial<Record<Signal, CompiledTemplate>> = {};
  const errors: ConfigError[] = [];
  for (const signal of SIGNALS) {
    const override = overrides[signal];
    if (override === undefined) {
      templates[signal] = compileTemplate(signal, DEFAULT_TEMPLATES[signal], 'default');
      continue;
    }
    try {
      templates[signal] = compileTemplate(signal, override);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
    }
  }
  return { templates, errors };
}

/** Escapes a value for a PromQL string literal in double quotes (the quotes the defaults use). */
export function escapePromString(value: string): string {
  return value.replace(/[\\"]/g, '\\$&');
}

/** Escapes a value so that an RE2 regular expression matches it literally. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** The Prometheus `service` label of a destination: the first DNS label of its host. */
export function serviceLabel(host: string): string {
  return host.split('.')[0] ?? host;
}

/** A duration as Prometheus reads it, in one unit ("1m", "90s", "1500ms"). */
export function promDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  if (whole % 60_000 === 0) return `${whole / 60_000}m`;
  if (whole % 1_000 === 0) return `${whole / 1_000}s`;
  return `${whole}ms`;
}

function alternation(values: readonly string[]): string {
  return [...new Set(values)].map(escapeRegex).join('|');
}

/**
 * `template` with every variable replaced for `target` (and `region`, for a per-region
 * template). Values are escaped for PromQL string literals; {{services}} and {{clusters}} are
 * RE2 alternations of the escaped names. Throws TypeError when a per-region template is
 * rendered without a region (a caller's bug).
 */
export function renderTemplate(template: CompiledTemplate, target: RouteTarget, windowMs: number, region?: RegionTarget): string {
  if (template.perRegion && region === undefined) throw new TypeError(`${template.field}: a per-region template needs a region`);
  const values: Record<Variable, () => string> = {
    route: () => target.key,
    namespace: () => target.namespace,
    name: () => target.name,
    host: () => target.host,
    window: () => promDuration(windowMs),
    services: () => alternation(target.regions.map((r) => serviceLabel(r.service))),
    clusters: () => alternation(target.regions.map((r) => r.cluster)),
    region: () => region?.region ?? '',
    service: () => serviceLabel(region?.service ?? ''),
    cluster: () => region?.cluster ?? '',
  };
  // {{window}} is a duration, not a string literal; everything else is quoted by the template.
  return template.text.replace(PLACEHOLDER, (_match, name: string) =>
    name === 'window' ? values.window() : escapePromString(values[name as Variable]()),
  );
}
