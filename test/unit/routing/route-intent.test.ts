import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../../operator/api/validate.ts';
import {
  intentFromSpec,
  intentsEqual,
  weightSummary,
} from '../../../operator/routing/route-intent.ts';

function route(destinations: { region: string; weight: number; priority?: number }[], spec: Record<string, unknown> = {}): AdaptiveRoute {
  const result = validateAdaptiveRoute({
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name: 'checkout', namespace: 'shop', generation: 4, uid: 'u-1' },
    spec: {
      host: 'checkout.shop.svc.cluster.local',
      destinations: destinations.map((d) => ({ service: `checkout.${d.region}.svc`, port: 8080, ...d })),
      ...spec,
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

describe('intentFromSpec', () => {
  it('turns the spec weights into percent over the primary priority group only', () => {
    const intent = intentFromSpec(
      route([
        { region: 'eu-west', weight: 60 },
        { region: 'us-east', weight: 40 },
        { region: 'ap-south', weight: 100, priority: 1 },
      ]),
    );
    expect(intent.destinations).toEqual([
      { region: 'eu-west', service: 'checkout.eu-west.svc', port: 8080, weight: 60, priority: 0 },
      { region: 'us-east', service: 'checkout.us-east.svc', port: 8080, weight: 40, priority: 0 },
      { region: 'ap-south', service: 'checkout.ap-south.svc', port: 8080, weight: 0, priority: 1 },
    ]);
    expect(weightSummary(intent.destinations)).toBe('eu-west=60,us-east=40,ap-south=0');
    expect(intent).toMatchObject({ key: 'shop/checkout', host: 'checkout.shop.svc.cluster.local', failoverEnabled: true });
    expect(intent.source).toEqual({ generation: 4, uid: 'u-1', mode: 'enforce', decidedBy: 'spec' });
  });

  it('lets a zero-weight primary region stay in the group without traffic', () => {
    const intent = intentFromSpec(
      route([
        { region: 'a', weight: 0 },
        { region: 'b', weight: 1 },
        { region: 'c', weight: 2 },
      ]),
    );
    expect(intent.destinations.map((d) => d.weight)).toEqual([0, 33, 67]);
  });

  it('takes the spec upper bounds for retries and timeout and shares the timeout among tries', () => {
    const intent = intentFromSpec(
      route([{ region: 'a', weight: 1 }], {
        retries: { attempts: { min: 0, max: 2 }, perTryTimeout: { min: '100ms', max: '5s' } },
        timeout: { min: '1s', max: '6s' },
      }),
    );
    expect(intent.retries.attempts).toBe(2);
    expect(intent.timeoutMs).toBe(6000);
    // Three tries share 6 s.
    expect(intent.retries.perTryTimeoutMs).toBe(2000);

    const capped = intentFromSpec(
      route([{ region: 'a', weight: 1 }], {
        retries: { attempts: { min: 0, max: 1 }, perTryTimeout: { min: '100ms', max: '1s' } },
        timeout: { min: '1s', max: '10s' },
      }),
    );
    expect(capped.retries.perTryTimeoutMs).toBe(1000);
  });

  it('carries outlier detection, TLS, outputs and the delay-tolerant reference', () => {
    const intent = intentFromSpec(
      route([{ region: 'a', weight: 1 }], {
        tls: { mode: 'pq-hybrid' },
        delayTolerant: { contactPlanRef: { name: 'mars' }, bundleLifetime: '1h' },
        outputs: { xds: { enabled: true }, gatewayApi: { enabled: true, parentRefs: [{ name: 'gw' }] } },
      }),
    );
    expect(intent.tlsMode).toBe('pq-hybrid');
    expect(intent.outlierDetection).toEqual({ consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 });
    expect(intent.delayTolerant).toEqual({ contactPlan: 'mars', bundleLifetimeMs: 3_600_000 });
    expect(intent.outputs).toEqual({ xds: true, istio: false, gatewayApi: { parentRefs: [{ name: 'gw' }] } });
  });

  it('refuses a spec where nothing carries weight, naming the field', () => {
    const r = route([{ region: 'a', weight: 1 }]);
    r.spec.destinations[0]!.weight = 0;
    expect(() => intentFromSpec(r)).toThrow(/spec\.destinations/);
  });
});

describe('intentsEqual', () => {
  it('ignores where the intent came from but not what it configures', () => {
    const a = intentFromSpec(route([{ region: 'a', weight: 1 }, { region: 'b', weight: 1 }]));
    const b = structuredClone(a);
    b.source.generation = 9;
    expect(intentsEqual(a, b)).toBe(true);
    b.destinations[0]!.weight = 49;
    b.destinations[1]!.weight = 51;
    expect(intentsEqual(a, b)).toBe(false);
  });
});
