// Objects the api tests share: an AdaptiveRoute and a ContactPlan with every field of their
// TypeScript types set (typed so that the compiler refuses a missing or an extra field), and
// minimal ones that defaulting must complete.

import type { AdaptiveRoute, ContactPlan, ObjectMeta } from '../../../operator/api/types.ts';

/** T with every optional field made required, all the way down. */
export type Full<T> = T extends readonly (infer U)[] ? Full<U>[] : T extends object ? { [K in keyof T]-?: Full<T[K]> } : T;

export const fullRoute: Full<Omit<AdaptiveRoute, 'metadata'>> & { metadata: ObjectMeta } = {
  apiVersion: 'traffic.meshpilot.io/v1alpha1',
  kind: 'AdaptiveRoute',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: {
    host: 'checkout.shop.svc.cluster.local',
    destinations: [
      { region: 'eu-west', service: 'checkout.eu-west.svc.cluster.local', port: 8080, weight: 70, priority: 0 },
      { region: 'us-east', service: 'checkout.us-east.svc.cluster.local', port: 8080, weight: 30, priority: 1 },
    ],
    objectives: { latencyP99: '300ms', maxErrorRate: 0.02, crossRegionCostWeight: 0.5 },
    policy: { mode: 'enforce', modelRef: { name: 'mesh-ppo-v1' }, shadowModelRef: { name: 'mesh-ppo-v2' }, decisionInterval: '20s', maxWeightStep: 15, minWeight: 10, returnToSpecAfter: '2m' },
    retries: {
      attempts: { min: 1, max: 4 },
      perTryTimeout: { min: '100ms', max: '1s' },
      retryOn: ['5xx', 'reset'],
      crossRegion: true,
    },
    timeout: { min: '1s', max: '10s' },
    failover: {
      enabled: true,
      outlierDetection: { consecutive5xx: 3, interval: '5s', baseEjectionTime: '20s', maxEjectionPercent: 40 },
    },
    telemetry: {
      prometheus: {
        url: 'http://prometheus.monitoring:9090',
        queries: {
          requestRate: 'sum(rate(requests_total{service="{{service}}"}[1m]))',
          errorRate: 'sum(rate(errors_total[1m]))',
          latencyP50: 'histogram_quantile(0.5, x)',
          latencyP90: 'histogram_quantile(0.9, x)',
          latencyP99: 'histogram_quantile(0.99, x)',
          saturation: 'avg(saturation)',
        },
      },
      kafka: { topic: 'checkout.requests', brokers: ['kafka-0.kafka:9092', 'kafka-1.kafka:9092'] },
      scrape: {
        targets: [
          { region: 'eu-west', url: 'http://checkout.eu-west:9091/metrics' },
          { region: 'us-east', url: 'http://checkout.us-east:9091/metrics' },
        ],
        interval: '10s',
      },
      staleAfter: '45s',
    },
    delayTolerant: { contactPlanRef: { name: 'arctic-links' }, bundleLifetime: '2h' },
    tls: { mode: 'pq-hybrid' },
    outputs: {
      xds: { enabled: true },
      gatewayApi: { enabled: true, parentRefs: [{ name: 'shop-gateway', namespace: 'shop', sectionName: 'https' }] },
      istio: { enabled: false },
    },
  },
  status: {
    observedGeneration: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'IntentServed',
        message: 'serving the spec weights',
        lastTransitionTime: '2025-06-01T10:00:00Z',
        observedGeneration: 3,
      },
    ],
    weights: [
      { region: 'eu-west', weight: 70 },
      { region: 'us-east', weight: 30 },
    ],
    regionCount: 2,
    weightSummary: 'eu-west=70,us-east=30',
    retryAttempts: 2,
    perTryTimeout: '500ms',
    timeout: '5s',
    lastDecisionTime: '2025-06-01T10:00:05Z',
    lastDecisionReason: 'latency in us-east above the SLO',
    modelVersion: 'mesh-ppo-v1@3',
    policy: {
      decidedBy: 'model',
      applied: true,
      rules: ['StepBound'],
      proposedWeights: [
        { region: 'eu-west', weight: 80 },
        { region: 'us-east', weight: 20 },
      ],
      fallbackReason: 'model "broken" refused: weights.bin is truncated',
      guard: { step: 4, sloBefore: 'met' },
      shadow: {
        modelVersion: 'mesh-ppo-v2@1',
        weights: [
          { region: 'eu-west', weight: 60 },
          { region: 'us-east', weight: 40 },
        ],
        retryAttempts: 1,
        reason: 'shadow mode, nothing applied: moved 10 points',
        rules: ['ShadowMode'],
        fallbackReason: 'model "mesh-ppo-v2" refused: not found',
        guard: { step: 4 },
      },
    },
    xds: { version: 'lx4k2-17', nodes: 3, acked: 2, nacked: 1, pending: 0, notes: ['2 proxyless gRPC nodes: retries.crossRegion is not supported: retries stay in the region that was picked'] },
  },
};

export const fullPlan: Full<Omit<ContactPlan, 'metadata'>> & { metadata: ObjectMeta } = {
  apiVersion: 'traffic.meshpilot.io/v1alpha1',
  kind: 'ContactPlan',
  metadata: { name: 'arctic-links', namespace: 'shop' },
  spec: {
    epoch: '2025-06-01T00:00:00Z',
    nodes: [
      { name: 'hub-eu', region: 'eu-west' },
      { name: 'relay', region: 'orbit' },
    ],
    contacts: [
      { from: 'hub-eu', to: 'relay', start: 0, end: 600, rateBitsPerSecond: 1e6, oneWayLightTime: 0.01, confidence: 0.9 },
      { from: 'relay', to: 'hub-eu', start: 900.5, end: 1500, rateBitsPerSecond: 2.5e6, oneWayLightTime: 0.01, confidence: 1 },
    ],
  },
  status: {
    observedGeneration: 1,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'PlanValid', message: 'ok', lastTransitionTime: '2025-06-01T00:00:00Z', observedGeneration: 1 },
    ],
    nodeCount: 2,
    contactCount: 2,
    horizon: '2025-06-01T00:25:00Z',
  },
};

/** An AdaptiveRoute with only what the schema requires. */
export function minimalRoute(): Record<string, unknown> {
  return {
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name: 'catalog', namespace: 'default' },
    spec: {
      host: 'catalog.shop.svc.cluster.local',
      destinations: [
        { region: 'eu-west', service: 'catalog.eu-west.svc.cluster.local' },
        { region: 'us-east', service: 'catalog.us-east.svc.cluster.local' },
      ],
    },
  };
}

/** A ContactPlan with only what the schema requires. */
export function minimalPlan(): Record<string, unknown> {
  return {
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'ContactPlan',
    metadata: { name: 'links', namespace: 'default' },
    spec: {
      epoch: '2025-06-01T00:00:00Z',
      nodes: [{ name: 'a' }, { name: 'b' }],
      contacts: [{ from: 'a', to: 'b', start: 0, end: 60, rateBitsPerSecond: 1000 }],
    },
  };
}

/** A JSON object a test may rewrite freely, including into shapes no type allows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- breaking objects is the point of these tests
export type Editable = Record<string, any>;

/** A deep copy a test can break. */
export function copy(value: unknown): Editable {
  return structuredClone(value) as Editable;
}
