// RouteIntent: the one shape every output (xDS today; Gateway API, Istio and DTN as they
// land) consumes, and its pure builder from an AdaptiveRoute spec. The spec's intent is what a
// static policy serves; the controller's policy step rewrites its weights and retries and
// hands the outputs the same shape.
import type {
  AdaptiveRoute,
  GatewayParentRef,
  PolicyMode,
  RetryOn,
  TlsMode,
} from '../api/types.ts';
import { primaryGroupWeights, primaryPriority } from '../api/priority-groups.ts';
import { canonicalJson } from '../base/canonical-json.ts';
import { ConfigError } from '../base/errors.ts';
import { parseDuration } from '../base/duration.ts';
import { largestRemainder } from '../base/percent.ts';
import { namespaceOf } from '../base/object-key.ts';

/** One region's backend as the data plane should see it. */
export interface IntentDestination {
  region: string;
  service: string;
  port: number;
  /** Share of traffic in percent (integer); the weights of all destinations sum to 100. */
  weight: number;
  /** Failover priority copied from the spec: 0 is primary. */
  priority: number;
}

export interface IntentRetries {
  attempts: number;
  perTryTimeoutMs: number;
  retryOn: RetryOn[];
  /** Each retry goes to a region the request has not tried, the next in failover order. */
  crossRegion: boolean;
}

export interface IntentOutlierDetection {
  consecutive5xx: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
}

export interface IntentOutputs {
  xds: boolean;
  /** Present when the Gateway API writer should carry this route. */
  gatewayApi?: { parentRefs: GatewayParentRef[] };
  istio: boolean;
}

/** Where an intent came from; outputs may log it but never branch on it. */
export interface IntentSource {
  generation: number;
  uid?: string;
  mode: PolicyMode;
  /** What produced the weights: the spec itself, the learned model or the heuristic fallback. */
  decidedBy: 'spec' | 'model' | 'heuristic';
}

export interface RouteIntent {
  /** `namespace/name` of the AdaptiveRoute; the identity outputs key their state by. */
  key: string;
  namespace: string;
  name: string;
  host: string;
  /** In spec order. Only the primary group (lowest priority with traffic) has non-zero weights. */
  destinations: IntentDestination[];
  retries: IntentRetries;
  timeoutMs: number;
  outlierDetection: IntentOutlierDetection;
  /** When false, outputs must not send traffic to destinations outside the primary group. */
  failoverEnabled: boolean;
  tlsMode: TlsMode;
  outputs: IntentOutputs;
  delayTolerant?: { contactPlan: string; bundleLifetimeMs: number };
  source: IntentSource;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Builds the intent a static policy serves for `route`: the spec's weights (normalised to
 * percent over the primary priority group, every other group at 0 and kept for failover),
 * the largest retry attempts the spec allows, the largest whole-request timeout it allows,
 * and a per-try timeout that gives each try an equal share of that timeout, clamped into the
 * spec's per-try bounds. Taking the upper bounds is what a static policy can justify without
 * telemetry: they are the most the user declared acceptable, and a learned policy tightens
 * them from there.
 *
 * Pure and deterministic. Expects a validated, defaulted route; throws ConfigError naming
 * the field when no destination carries weight or a duration does not parse.
 */
export function intentFromSpec(route: AdaptiveRoute): RouteIntent {
  const { spec, metadata } = route;
  if (primaryPriority(spec.destinations) === undefined) {
    throw new ConfigError('spec.destinations: at least one destination needs a weight above 0');
  }
  const percents = largestRemainder(primaryGroupWeights(spec.destinations));
  const destinations = spec.destinations.map((d, i) => ({
    region: d.region,
    service: d.service,
    port: d.port,
    weight: percents[i] ?? 0,
    priority: d.priority,
  }));

  const attempts = spec.retries.attempts.max;
  const timeoutMs = parseDuration(spec.timeout.max, 'spec.timeout.max');
  const perTryMin = parseDuration(spec.retries.perTryTimeout.min, 'spec.retries.perTryTimeout.min');
  const perTryMax = parseDuration(spec.retries.perTryTimeout.max, 'spec.retries.perTryTimeout.max');
  const perTryTimeoutMs = clamp(Math.floor(timeoutMs / (attempts + 1)), perTryMin, perTryMax);

  const od = spec.failover.outlierDetection;
  const outputs: IntentOutputs = { xds: spec.outputs.xds.enabled, istio: spec.outputs.istio?.enabled ?? false };
  if (spec.outputs.gatewayApi?.enabled) outputs.gatewayApi = { parentRefs: spec.outputs.gatewayApi.parentRefs };

  const namespace = namespaceOf(metadata);
  const intent: RouteIntent = {
    key: `${namespace}/${metadata.name}`,
    namespace,
    name: metadata.name,
    host: spec.host,
    destinations,
    retries: { attempts, perTryTimeoutMs, retryOn: [...spec.retries.retryOn], crossRegion: spec.retries.crossRegion },
    timeoutMs,
    outlierDetection: {
      consecutive5xx: od.consecutive5xx,
      intervalMs: parseDuration(od.interval, 'spec.failover.outlierDetection.interval'),
      baseEjectionTimeMs: parseDuration(od.baseEjectionTime, 'spec.failover.outlierDetection.baseEjectionTime'),
      maxEjectionPercent: od.maxEjectionPercent,
    },
    failoverEnabled: spec.failover.enabled,
    tlsMode: spec.tls.mode,
    outputs,
    source: { generation: metadata.generation ?? 0, uid: metadata.uid, mode: spec.policy.mode, decidedBy: 'spec' },
  };
  if (spec.delayTolerant) {
    intent.delayTolerant = {
      contactPlan: spec.delayTolerant.contactPlanRef.name,
      bundleLifetimeMs: parseDuration(spec.delayTolerant.bundleLifetime, 'spec.delayTolerant.bundleLifetime'),
    };
  }
  return intent;
}

/**
 * True when two intents would configure the data plane identically. `source` (generation,
 * uid, mode) is ignored: an edit that leaves the outcome unchanged is not a new decision.
 * Key order and undefined members do not matter; array order does.
 */
export function intentsEqual(a: RouteIntent, b: RouteIntent): boolean {
  const { source: _a, ...restA } = a;
  const { source: _b, ...restB } = b;
  return canonicalJson(restA) === canonicalJson(restB);
}

/** "eu-west=60,us-east=40": the weights as the printer column shows them, in spec order. */
export function weightSummary(destinations: readonly Pick<IntentDestination, 'region' | 'weight'>[]): string {
  return destinations.map((d) => `${d.region}=${d.weight}`).join(',');
}
