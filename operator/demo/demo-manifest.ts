// The AdaptiveRoute the demo mesh is steered by. Its ports are the backends' ephemeral ports,
// so it is built fresh at every start and applied (created or updated) by whoever runs the
// demo. Only what the demo needs is set; the API server's defaulting (or validateAdaptiveRoute)
// fills in the rest from the CRD. The heuristic serves behind the guard and the shipped model
// decides beside it in shadow (status.policy.shadow): the model does not yet pass its
// held-out figures (models/default/MODEL_CARD.md), and a demo must not show a policy that
// harms traffic. The route returns to the spec's weights after a minute of calm, so that
// `npm start` shows a brownout being steered around and traffic coming back after it.
import { API_VERSION, type AdaptiveRoute, type AdaptiveRouteSpec, type PolicySpec } from '../api/types.ts';

export const DEMO_ROUTE = { namespace: 'default', name: 'demo' } as const;

/** The label that marks the demo's route as the demo's (and so safe to remove when the demo is off). */
export const DEMO_LABEL = { key: 'app.kubernetes.io/component', value: 'demo' } as const;
/** The host the demo's client calls: xds:///demo.meshpilot.local. */
export const DEMO_HOST = 'demo.meshpilot.local';
export const DEMO_SCRAPE_INTERVAL = '2s';
export const DEMO_STALE_AFTER = '30s';

/** An AdaptiveRoute as written by a user: the spec before defaulting. */
export type DemoRouteManifest = Omit<AdaptiveRoute, 'spec' | 'status'> & {
  spec: Pick<AdaptiveRouteSpec, 'host' | 'destinations' | 'telemetry'> & { policy: Partial<PolicySpec> };
};

export interface DemoRegionEndpoints {
  region: string;
  /** gRPC port on 127.0.0.1. */
  port: number;
  /** The region's /metrics URL. */
  metricsUrl: string;
  weight: number;
}

/** The demo route over `regions`, all primary (priority 0), scraped every 2 s. Pure. */
export function demoManifest(regions: readonly DemoRegionEndpoints[]): DemoRouteManifest {
  return {
    apiVersion: API_VERSION,
    kind: 'AdaptiveRoute',
    metadata: {
      name: DEMO_ROUTE.name,
      namespace: DEMO_ROUTE.namespace,
      labels: { 'app.kubernetes.io/part-of': 'meshpilot', [DEMO_LABEL.key]: DEMO_LABEL.value },
    },
    spec: {
      host: DEMO_HOST,
      destinations: regions.map((r) => ({ region: r.region, service: '127.0.0.1', port: r.port, weight: r.weight, priority: 0 })),
      policy: { mode: 'enforce', shadowModelRef: { name: 'default' }, decisionInterval: '10s', returnToSpecAfter: '1m' },
      telemetry: {
        scrape: { targets: regions.map((r) => ({ region: r.region, url: r.metricsUrl })), interval: DEMO_SCRAPE_INTERVAL },
        staleAfter: DEMO_STALE_AFTER,
      },
    },
  };
}
