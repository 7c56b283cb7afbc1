// Each kind of bad AdaptiveRoute is refused with an issue that names the field, in the
// apiserver's words.

import { describe, expect, it } from '@jest/globals';
import { formatIssue, type FieldIssue } from '../../../operator/api/schema/validate.ts';
import { validateAdaptiveRoute } from '../../../operator/api/validate.ts';
import { copy, type Editable, fullRoute, minimalRoute } from './fixtures.ts';

const SKIPPED_RULES =
  '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

function issuesOf(obj: unknown, old?: unknown): FieldIssue[] {
  const result = validateAdaptiveRoute(obj, old === undefined ? {} : { old });
  return result.ok ? [] : result.issues;
}

function messagesOf(obj: unknown, old?: unknown): string[] {
  return issuesOf(obj, old).map(formatIssue);
}

function route(edit: (spec: Editable) => void): Editable {
  const r = copy(minimalRoute());
  edit(r.spec);
  return r;
}

describe('validateAdaptiveRoute', () => {
  it('accepts a valid route', () => {
    expect(validateAdaptiveRoute(minimalRoute()).ok).toBe(true);
  });

  it('refuses a missing host, naming the field', () => {
    const issues = issuesOf(route((s) => delete s.host));
    expect(issues).toContainEqual({ type: 'FieldValueRequired', field: 'spec.host', message: 'Required value' });
  });

  it('refuses a wrong type and skips the CEL rules, as the apiserver does', () => {
    expect(messagesOf(route((s) => (s.destinations[0].weight = 'heavy')))).toEqual([
      'spec.destinations[0].weight: Invalid value: "string": spec.destinations[0].weight in body must be of type integer: "string"',
      SKIPPED_RULES,
    ]);
    expect(issuesOf(route((s) => (s.destinations[0].weight = 'heavy')))[0]?.type).toBe('FieldValueTypeInvalid');
  });

  it('refuses a fractional number where an integer is expected', () => {
    expect(messagesOf(route((s) => (s.destinations[1].port = 80.5)))[0]).toBe(
      'spec.destinations[1].port: Invalid value: "number": spec.destinations[1].port in body must be of type integer: "number"',
    );
  });

  it('refuses a value out of range', () => {
    expect(issuesOf(route((s) => (s.destinations[1].weight = 20000)))).toEqual([
      {
        type: 'FieldValueInvalid',
        field: 'spec.destinations[1].weight',
        message: 'Invalid value: 20000: spec.destinations[1].weight in body should be less than or equal to 10000',
      },
    ]);
    expect(messagesOf(route((s) => (s.objectives = { maxErrorRate: -0.5 })))).toEqual([
      'spec.objectives.maxErrorRate: Invalid value: -0.5: spec.objectives.maxErrorRate in body should be greater than or equal to 0',
    ]);
  });

  it('refuses an unknown field, wherever it is', () => {
    const issues = issuesOf(route((s) => {
      s.foo = 1;
      s.destinations[0].bar = true;
    }));
    expect(issues).toEqual([
      { type: 'FieldValueForbidden', field: 'spec.destinations[0].bar', message: 'Forbidden: field not declared in the schema' },
      { type: 'FieldValueForbidden', field: 'spec.foo', message: 'Forbidden: field not declared in the schema' },
    ]);
  });

  it('refuses a duplicate region', () => {
    const issues = issuesOf(route((s) => s.destinations.push({ region: 'eu-west', service: 'other.svc' })));
    expect(issues).toEqual([
      {
        type: 'FieldValueDuplicate',
        field: 'spec.destinations[2]',
        message: 'Duplicate value: map[string]interface {}{"region":"eu-west"}',
      },
    ]);
  });

  it('refuses a route whose weights are all zero', () => {
    const issues = issuesOf(route((s) => s.destinations.forEach((d: Record<string, unknown>) => (d.weight = 0))));
    expect(issues).toEqual([
      {
        type: 'FieldValueInvalid',
        field: 'spec.destinations',
        message: 'Invalid value: "object": at least one destination must have a weight greater than 0',
      },
    ]);
  });

  it('refuses a route without a primary (priority 0) destination', () => {
    expect(messagesOf(route((s) => s.destinations.forEach((d: Record<string, unknown>) => (d.priority = 2))))).toEqual([
      'spec.destinations: Invalid value: "object": at least one destination must have priority 0 (the primary tier)',
    ]);
  });

  it('refuses attempts.min greater than attempts.max', () => {
    expect(messagesOf(route((s) => (s.retries = { attempts: { min: 5, max: 2 } })))).toEqual([
      'spec.retries.attempts.min: Invalid value: "object": min must be less than or equal to max',
    ]);
  });

  it('refuses a duration range whose min is longer than its max', () => {
    expect(messagesOf(route((s) => (s.timeout = { min: '2m', max: '90s' })))).toEqual([
      'spec.timeout.min: Invalid value: "object": min must not be longer than max',
    ]);
    expect(messagesOf(route((s) => (s.retries = { perTryTimeout: { min: '3s', max: '1500ms' } })))).toEqual([
      'spec.retries.perTryTimeout.min: Invalid value: "object": min must not be longer than max',
    ]);
  });

  it('refuses a per-try timeout longer than the request timeout', () => {
    expect(messagesOf(route((s) => (s.timeout = { max: '1s' })))).toEqual([
      'spec.retries.perTryTimeout.max: Invalid value: "object": retries.perTryTimeout.max must not be longer than timeout.max',
    ]);
  });

  it('refuses cross-region retries without failover', () => {
    expect(
      messagesOf(
        route((s) => {
          s.retries = { crossRegion: true };
          s.failover = { enabled: false };
        }),
      ),
    ).toEqual(['spec.retries.crossRegion: Invalid value: "object": retries.crossRegion needs failover.enabled (a retry goes to the next region in failover order)']);
    expect(messagesOf(route((s) => (s.retries = { crossRegion: true })))).toEqual([]);
  });

  it('refuses a bad duration string, naming the field and the pattern', () => {
    const issues = issuesOf(route((s) => (s.policy = { decisionInterval: '1.5s' })));
    expect(issues[0]).toEqual({
      type: 'FieldValueInvalid',
      field: 'spec.policy.decisionInterval',
      message: `Invalid value: "1.5s": spec.policy.decisionInterval in body should match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'`,
    });
  });

  it('refuses a bad enum value, listing the supported ones', () => {
    expect(issuesOf(route((s) => (s.policy = { mode: 'fast' })))).toEqual([
      {
        type: 'FieldValueNotSupported',
        field: 'spec.policy.mode',
        message: 'Unsupported value: "fast": supported values: "enforce", "shadow", "static"',
      },
      expect.objectContaining({ field: '<nil>' }),
    ]);
    expect(messagesOf(route((s) => (s.retries = { retryOn: ['5xx', 'teapot'] })))[0]).toBe(
      'spec.retries.retryOn[1]: Unsupported value: "teapot": supported values: "5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream", "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted"',
    );
  });

  it('refuses a retry condition listed twice', () => {
    expect(messagesOf(route((s) => (s.retries = { retryOn: ['reset', '5xx', 'reset'] })))).toEqual([
      'spec.retries.retryOn[2]: Duplicate value: "reset"',
    ]);
  });

  it('refuses too many destinations with the apiserver’s Too many wording', () => {
    const destinations = Array.from({ length: 17 }, (_, i) => ({ region: `r${i}`, service: `s${i}.svc` }));
    expect(messagesOf(route((s) => (s.destinations = destinations)))).toEqual([
      'spec.destinations: Too many: 17: must have at most 16 items',
      SKIPPED_RULES,
    ]);
  });

  it('refuses a host longer than 253 characters with Too long', () => {
    expect(messagesOf(route((s) => (s.host = `${'a'.repeat(250)}.com`)))).toEqual([
      'spec.host: Too long: may not be longer than 253',
      SKIPPED_RULES,
    ]);
  });

  it('refuses a minimum weight that cannot be kept on every destination, saying why in numbers', () => {
    const r = route((s) => {
      s.policy = { minWeight: 40 };
      s.destinations.push({ region: 'ap-south', service: 'ap.svc' });
    });
    expect(messagesOf(r)).toEqual(['spec.policy.minWeight: Invalid value: "object": policy.minWeight 40% times 3 destinations exceeds 100%']);
  });

  it('refuses a scrape target for a region that is not a destination, naming the region', () => {
    const r = route((s) => (s.telemetry = { scrape: { targets: [{ region: 'mars', url: 'http://mars:9091/metrics' }] } }));
    expect(messagesOf(r)).toEqual([
      'spec.telemetry.scrape.targets: Invalid value: "object": scrape targets name regions that are not destinations: mars',
    ]);
  });

  it('forbids a model in static mode', () => {
    const r = route((s) => (s.policy = { mode: 'static', modelRef: { name: 'm' } }));
    expect(issuesOf(r)).toEqual([
      {
        type: 'FieldValueForbidden',
        field: 'spec.policy.modelRef',
        message: 'Forbidden: policy.modelRef must not be set in static mode, which never consults a model',
      },
    ]);
  });

  it('forbids a shadow model in static mode, and one that is also the serving model', () => {
    const stat = route((s) => (s.policy = { mode: 'static', shadowModelRef: { name: 'm' } }));
    expect(issuesOf(stat)).toEqual([
      {
        type: 'FieldValueForbidden',
        field: 'spec.policy.shadowModelRef',
        message: 'Forbidden: policy.shadowModelRef must not be set in static mode, which never consults a model',
      },
    ]);
    const same = route((s) => (s.policy = { mode: 'enforce', modelRef: { name: 'm' }, shadowModelRef: { name: 'm' } }));
    expect(messagesOf(same)).toEqual(['spec.policy.shadowModelRef.name: Invalid value: "object": policy.shadowModelRef must name another model than policy.modelRef (a model cannot serve and shadow itself)']);
    expect(messagesOf(route((s) => (s.policy = { mode: 'enforce', shadowModelRef: { name: 'm' } })))).toEqual([]);
  });

  it('refuses a route with every output disabled', () => {
    const r = route((s) => (s.outputs = { xds: { enabled: false }, istio: { enabled: false } }));
    expect(messagesOf(r)).toEqual(['spec.outputs: Invalid value: "object": at least one output (xds, gatewayApi or istio) must be enabled']);
  });

  it('refuses an enabled Gateway API output without a parent Gateway', () => {
    const r = route((s) => (s.outputs = { gatewayApi: { parentRefs: [] } }));
    expect(messagesOf(r)).toEqual([
      'spec.outputs.gatewayApi.parentRefs: Invalid value: "object": parentRefs must name at least one Gateway when gatewayApi is enabled',
    ]);
  });

  it('refuses a change of host on update, and only on update', () => {
    const old = copy(fullRoute);
    const changed = copy(fullRoute);
    changed.spec.host = 'payments.shop.svc.cluster.local';
    expect(messagesOf(changed)).toEqual([]);
    expect(messagesOf(changed, old)).toEqual(['spec.host: Invalid value: "string": host is immutable; create another AdaptiveRoute for another host']);
    expect(messagesOf(copy(fullRoute), old)).toEqual([]);
  });

  it('refuses a region name that is not a DNS label', () => {
    expect(messagesOf(route((s) => (s.destinations[0].region = 'EU_West')))).toEqual([
      `spec.destinations[0].region: Invalid value: "EU_West": spec.destinations[0].region in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'`,
    ]);
  });

  it('refuses an object of another kind or version, and a missing name', () => {
    const r = copy(minimalRoute());
    r.apiVersion = 'traffic.meshpilot.io/v1';
    r.kind = 'Route';
    delete r.metadata.name;
    expect(messagesOf(r)).toEqual([
      'apiVersion: Unsupported value: "traffic.meshpilot.io/v1": supported values: "traffic.meshpilot.io/v1alpha1"',
      'kind: Unsupported value: "Route": supported values: "AdaptiveRoute"',
      'metadata.name: Required value: name or generateName is required',
    ]);
  });

  it('refuses something that is not an object at all', () => {
    expect(messagesOf('checkout')).toEqual(['<nil>: Invalid value: "string": AdaptiveRoute manifests must be objects']);
    expect(messagesOf({ apiVersion: 'traffic.meshpilot.io/v1alpha1', kind: 'AdaptiveRoute', metadata: { name: 'x' } })).toEqual([
      'spec: Required value',
      SKIPPED_RULES,
    ]);
  });

  it('reports a status that breaks the schema', () => {
    const r = copy(fullRoute);
    r.status.conditions[0].reason = 'not camel case';
    r.status.weights[0].weight = 101;
    expect(messagesOf(r)).toEqual([
      `status.conditions[0].reason: Invalid value: "not camel case": status.conditions[0].reason in body should match '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'`,
      'status.weights[0].weight: Invalid value: 101: status.weights[0].weight in body should be less than or equal to 100',
    ]);
  });
});
