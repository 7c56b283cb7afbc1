// The AdaptiveRoute and ContactPlan resources as TypeScript sees them.
// crds/*.yaml is the source of truth for what the API server accepts; these types describe
// the same shape after defaulting (test/unit/api/types-match-crd.test.ts keeps them in step).

export const GROUP = 'traffic.meshpilot.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const RESOURCES = {
  adaptiveRoute: { kind: 'AdaptiveRoute', plural: 'adaptiveroutes', singular: 'adaptiveroute', shortNames: ['ar'] },
  contactPlan: { kind: 'ContactPlan', plural: 'contactplans', singular: 'contactplan', shortNames: ['cplan'] },
} as const;

/** Kubernetes object metadata, as much of it as meshpilot reads or writes. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Gateway-API style duration string, e.g. "250ms", "2s", "1m30s". */
export type Duration = string;

export const POLICY_MODES = ['enforce', 'shadow', 'static'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export const TLS_MODES = ['classical', 'pq-hybrid', 'pq-only'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export const RETRY_ON = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'unavailable', 'cancelled', 'deadline-exceeded', 'resource-exhausted'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/** One region's backend for the route. */
export interface Destination {
  /** Region name, unique within the route (list-map key). */
  region: string;
  /** Backend host (a Kubernetes Service DNS name or any resolvable host). */
  service: string;
  port: number;
  /** Initial (and, in static mode, fixed) share of traffic; weights are relative, 0..10000. */
  weight: number;
  /** Failover priority: 0 is primary; higher numbers take traffic only when lower ones fail. */
  priority: number;
}

export interface Objectives {
  /** Latency SLO on the 99th percentile. */
  latencyP99: Duration;
  /** Maximum tolerated fraction of failed requests, 0..1. */
  maxErrorRate: number;
  /** How much the policy weighs cross-region cost against latency, 0..1. */
  crossRegionCostWeight: number;
}

export interface PolicySpec {
  mode: PolicyMode;
  /** A model under models/ (by directory name); absent means the heuristic policy. */
  modelRef?: { name: string };
  /**
   * A model that decides beside the policy that serves, in shadow: its decisions are guarded
   * and reported (status.policy.shadow, the decision log, metrics) and never served.
   */
  shadowModelRef?: { name: string };
  decisionInterval: Duration;
  /** Largest change of any one region's weight per decision, in percentage points (1..100). */
  maxWeightStep: number;
  /** Smallest share, in percent, kept on every healthy region so it keeps being probed (0..50). */
  minWeight: number;
  /**
   * After the route has been calm this long, the guard steers back to the spec's weights
   * (operator/policy/return-to-spec.ts); absent: the policy keeps whatever weights it chose.
   */
  returnToSpecAfter?: Duration;
}

export interface IntRange { min: number; max: number }
export interface DurationRange { min: Duration; max: Duration }

export interface RetrySpec {
  /** Retry attempts the policy may choose from (0..10). */
  attempts: IntRange;
  perTryTimeout: DurationRange;
  retryOn: RetryOn[];
  /** Retries go to the next region in failover order instead of the picked one (Envoy only). */
  crossRegion: boolean;
}

export interface OutlierDetectionSpec {
  consecutive5xx: number;
  interval: Duration;
  baseEjectionTime: Duration;
  maxEjectionPercent: number;
}

export interface FailoverSpec {
  enabled: boolean;
  outlierDetection: OutlierDetectionSpec;
}

export interface PrometheusTelemetrySpec {
  /** Base URL of the Prometheus HTTP API; defaults to the operator's configured Prometheus. */
  url?: string;
  /** PromQL templates; variables {{route}}, {{region}}, {{namespace}}, {{service}}, {{host}}. */
  queries?: {
    requestRate?: string;
    errorRate?: string;
    latencyP50?: string;
    latencyP90?: string;
    latencyP99?: string;
    saturation?: string;
  };
}

export interface KafkaTelemetrySpec {
  topic: string;
  /** Bootstrap brokers; defaults to the operator's configured brokers. */
  brokers?: string[];
}

export interface ScrapeTarget { region: string; url: string }

export interface TelemetrySpec {
  prometheus?: PrometheusTelemetrySpec;
  kafka?: KafkaTelemetrySpec;
  scrape?: { targets: ScrapeTarget[]; interval: Duration };
  /** Data older than this is stale: the policy holds the last good intent. */
  staleAfter: Duration;
}

export interface DelayTolerantSpec {
  contactPlanRef: { name: string };
  bundleLifetime: Duration;
}

export interface GatewayParentRef { name: string; namespace?: string; sectionName?: string }

export interface OutputsSpec {
  xds: { enabled: boolean };
  gatewayApi?: { enabled: boolean; parentRefs: GatewayParentRef[] };
  istio?: { enabled: boolean };
}

export interface AdaptiveRouteSpec {
  /** The host clients address (e.g. checkout.shop.svc.cluster.local); the xDS route name. */
  host: string;
  destinations: Destination[];
  objectives: Objectives;
  policy: PolicySpec;
  retries: RetrySpec;
  /** Bounds for the whole-request timeout the policy may choose. */
  timeout: DurationRange;
  failover: FailoverSpec;
  telemetry: TelemetrySpec;
  delayTolerant?: DelayTolerantSpec;
  tls: { mode: TlsMode };
  outputs: OutputsSpec;
}

export interface RegionWeight { region: string; weight: number }

export interface AdaptiveRouteStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** Weights currently in force, in percent, summing to 100. */
  weights?: RegionWeight[];
  /** How many regions the intent in force spans (a printer column). */
  regionCount?: number;
  /** "eu-west=60,us-east=40": the printer column. */
  weightSummary?: string;
  retryAttempts?: number;
  perTryTimeout?: Duration;
  timeout?: Duration;
  lastDecisionTime?: string;
  /** Why the last decision is what it is, in words. */
  lastDecisionReason?: string;
  modelVersion?: string;
  /** The policy's last decision and what the guard made of it. */
  policy?: PolicyStatus;
  /** How far the xDS server has carried the current intent (absent when outputs.xds is off). */
  xds?: XdsSyncStatus;
}

export interface PolicyStatus {
  decidedBy?: 'model' | 'heuristic' | 'spec';
  applied?: boolean;
  rules?: string[];
  proposedWeights?: RegionWeight[];
  fallbackReason?: string;
  /** The guard's state (operator/policy/guard-state.ts), kept as opaque JSON here. */
  guard?: Record<string, unknown>;
  /** With spec.policy.shadowModelRef: the shadow model's last decision, never served. */
  shadow?: ShadowPolicyStatus;
}

export interface ShadowPolicyStatus {
  /** The shadow model's version, when it decided (absent: it could not; see fallbackReason). */
  modelVersion?: string;
  /** What it would serve, in percent. */
  weights?: RegionWeight[];
  retryAttempts?: number;
  reason?: string;
  rules?: string[];
  /** Why the shadow model could not decide (the heuristic's shadow decision is reported instead). */
  fallbackReason?: string;
  /** Its own guard state: a shadow trajectory, starting from its previous shadow decision. */
  guard?: Record<string, unknown>;
}

export interface XdsSyncStatus {
  /** Configuration version that carries the current intent. */
  version?: string;
  /** Nodes subscribed to the route. */
  nodes: number;
  acked: number;
  nacked: number;
  pending: number;
  /** What some subscribed nodes cannot do of the intent, with how many nodes. */
  notes?: string[];
}

export interface AdaptiveRoute {
  apiVersion: typeof API_VERSION;
  kind: 'AdaptiveRoute';
  metadata: ObjectMeta;
  spec: AdaptiveRouteSpec;
  status?: AdaptiveRouteStatus;
}

export interface ContactPlanNode {
  name: string;
  /** The AdaptiveRoute region this node stands for, if any. */
  region?: string;
}

export interface Contact {
  from: string;
  to: string;
  /** Seconds after spec.epoch when the link opens. */
  start: number;
  /** Seconds after spec.epoch when the link closes; greater than start. */
  end: number;
  rateBitsPerSecond: number;
  /** One-way light time (propagation delay) in seconds. */
  oneWayLightTime: number;
  /** Probability the contact happens as planned, 0..1. */
  confidence: number;
}

export interface ContactPlanSpec {
  /** The instant contact times count from (RFC 3339). */
  epoch: string;
  nodes: ContactPlanNode[];
  contacts: Contact[];
}

export interface ContactPlanStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** The printer column "Nodes". */
  nodeCount?: number;
  contactCount?: number;
  /** Latest contact end, as an instant: after it the plan has nothing left to offer. */
  horizon?: string;
}

export interface ContactPlan {
  apiVersion: typeof API_VERSION;
  kind: 'ContactPlan';
  metadata: ObjectMeta;
  spec: ContactPlanSpec;
  status?: ContactPlanStatus;
}
