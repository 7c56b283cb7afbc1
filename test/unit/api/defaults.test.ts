import { describe, expect, it } from '@jest/globals';
import { loadCrds } from '../../../operator/api/crds.ts';
import { applyDefaults, pruneUnknownFields, validateValue } from '../../../operator/api/schema/validate.ts';
import { GROUP, VERSION, type AdaptiveRoute, type ContactPlan } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../../../operator/api/validate.ts';
import { copy, minimalPlan, minimalRoute } from './fixtures.ts';

describe('AdaptiveRoute defaults', () => {
  it('complete a route with only host and destinations to the full shape', () => {
    const result = validateAdaptiveRoute(minimalRoute());
    const expected: AdaptiveRoute = {
      apiVersion: 'traffic.meshpilot.io/v1alpha1',
      kind: 'AdaptiveRoute',
      metadata: { name: 'catalog', namespace: 'default' },
      spec: {
        host: 'catalog.shop.svc.cluster.local',
        destinations: [
          { region: 'eu-west', service: 'catalog.eu-west.svc.cluster.local', port: 80, weight: 100, priority: 0 },
          { region: 'us-east', service: 'catalog.us-east.svc.cluster.local', port: 80, weight: 100, priority: 0 },
        ],
        objectives: { latencyP99: '250ms', maxErrorRate: 0.01, crossRegionCostWeight: 0.1 },
        policy: { mode: 'enforce', decisionInterval: '30s', maxWeightStep: 10, minWeight: 5 },
        retries: {
          attempts: { min: 0, max: 3 },
          perTryTimeout: { min: '100ms', max: '2s' },
          retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'],
          crossRegion: false,
        },
        timeout: { min: '1s', max: '15s' },
        failover: {
          enabled: true,
          outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
        },
        telemetry: { staleAfter: '60s' },
        tls: { mode: 'classical' },
        outputs: { xds: { enabled: true } },
      },
    };
    expect(result).toEqual({ ok: true, value: expected });
  });

  it('fill the missing half of a partly given object', () => {
    const route = copy(minimalRoute());
    route.spec.timeout = { max: '30s' };
    route.spec.retries = { attempts: { max: 5 } };
    const result = validateAdaptiveRoute(route);
    expect(result.ok && result.value.spec.timeout).toEqual({ min: '1s', max: '30s' });
    expect(result.ok && result.value.spec.retries.attempts).toEqual({ min: 0, max: 5 });
    expect(result.ok && result.value.spec.retries.perTryTimeout).toEqual({ min: '100ms', max: '2s' });
  });

  it('default the fields of an optional object only when it is given', () => {
    const route = copy(minimalRoute());
    route.spec.delayTolerant = { contactPlanRef: { name: 'links' } };
    route.spec.outputs = { istio: {} };
    const result = validateAdaptiveRoute(route);
    expect(result.ok && result.value.spec.delayTolerant).toEqual({ contactPlanRef: { name: 'links' }, bundleLifetime: '1h' });
    expect(result.ok && result.value.spec.outputs).toEqual({ xds: { enabled: true }, istio: { enabled: true } });
    expect(result.ok && 'gatewayApi' in result.value.spec.outputs).toBe(false);
  });

  it('replace a null the schema does not allow by the default', () => {
    const route = copy(minimalRoute());
    route.spec.policy = { mode: null, minWeight: null };
    const result = validateAdaptiveRoute(route);
    expect(result.ok && result.value.spec.policy).toEqual({ mode: 'enforce', decisionInterval: '30s', maxWeightStep: 10, minWeight: 5 });
  });

  it('never modify the object given to the validator', () => {
    const route = minimalRoute();
    const before = copy(route);
    validateAdaptiveRoute(route);
    expect(route).toEqual(before);
  });

  it('are idempotent', () => {
    const schema = loadCrds().schema(GROUP, 'adaptiveroutes', VERSION);
    const once = copy(minimalRoute());
    pruneUnknownFields(schema, once);
    applyDefaults(schema, once);
    const twice = copy(once);
    applyDefaults(schema, twice);
    expect(twice).toEqual(once);
    expect(validateValue(schema, once)).toEqual([]);
  });
});

describe('ContactPlan defaults', () => {
  it('give each contact a zero light time and full confidence', () => {
    const result = validateContactPlan(minimalPlan());
    const expected: ContactPlan = {
      apiVersion: 'traffic.meshpilot.io/v1alpha1',
      kind: 'ContactPlan',
      metadata: { name: 'links', namespace: 'default' },
      spec: {
        epoch: '2025-06-01T00:00:00Z',
        nodes: [{ name: 'a' }, { name: 'b' }],
        contacts: [{ from: 'a', to: 'b', start: 0, end: 60, rateBitsPerSecond: 1000, oneWayLightTime: 0, confidence: 1 }],
      },
    };
    expect(result).toEqual({ ok: true, value: expected });
  });
});

describe('the CRDs’ own defaults', () => {
  it.each(['adaptiveroutes', 'contactplans'])('of %s are valid values of the fields they default', (plural) => {
    const schema = loadCrds().schema(GROUP, plural, VERSION);
    const problems: string[] = [];
    const visit = (node: typeof schema, path: string) => {
      if (node.default !== undefined) {
        const value = structuredClone(node.default);
        applyDefaults(node, value);
        for (const issue of validateValue(node, value, { rootPath: path })) problems.push(`${issue.field}: ${issue.message}`);
      }
      if (node.items) visit(node.items, `${path}[0]`);
      for (const [k, sub] of Object.entries(node.properties ?? {})) visit(sub, path ? `${path}.${k}` : k);
    };
    visit(schema, '');
    expect(problems).toEqual([]);
  });
});
