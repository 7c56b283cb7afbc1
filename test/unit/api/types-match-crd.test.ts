// Fails when operator/api/types.ts and the CRD schemas in crds/ disagree. The full fixtures
// are typed with every TypeScript field required, so the compiler forces them to carry every
// field the types have (and no other); validating them strictly then catches a field the
// schema lacks, and walking the schema catches a field the types lack.

import { describe, expect, it } from '@jest/globals';
import { loadCrds } from '../../../operator/api/crds.ts';
import { DURATION_PATTERN } from '../../../operator/base/duration.ts';
import { findUnknownFields, type JSONSchemaProps } from '../../../operator/api/schema/validate.ts';
import { GROUP, POLICY_MODES, RESOURCES, RETRY_ON, TLS_MODES, VERSION } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../../../operator/api/validate.ts';
import { formatIssue } from '../../../operator/api/schema/validate.ts';
import { fullPlan, fullRoute } from './fixtures.ts';

const crds = loadCrds();
const routeSchema = crds.schema(GROUP, RESOURCES.adaptiveRoute.plural, VERSION);
const planSchema = crds.schema(GROUP, RESOURCES.contactPlan.plural, VERSION);

/** Every property path a schema declares, arrays as "[]": "spec.destinations[].region". */
function schemaPaths(schema: JSONSchemaProps, path = ''): string[] {
  const out: string[] = [];
  if (schema.items) out.push(...schemaPaths(schema.items, `${path}[]`));
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const child = path ? `${path}.${name}` : name;
    out.push(child, ...schemaPaths(sub, child));
  }
  return out;
}

/** Every field path present in a value, in the same notation. */
function valuePaths(value: unknown, path = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const item of value) for (const p of valuePaths(item, `${path}[]`)) out.add(p);
  } else if (value && typeof value === 'object') {
    for (const [name, v] of Object.entries(value)) {
      const child = path ? `${path}.${name}` : name;
      out.add(child);
      for (const p of valuePaths(v, child)) out.add(p);
    }
  }
  return out;
}

/** The schema node at a dotted path ("spec.policy.mode", arrays as "[]"). */
function nodeAt(schema: JSONSchemaProps, path: string): JSONSchemaProps {
  let node: JSONSchemaProps | undefined = schema;
  for (const part of path.split('.')) {
    const name = part.replace(/\[\]$/, '');
    node = node?.properties?.[name];
    if (part.endsWith('[]')) node = node?.items;
  }
  if (!node) throw new Error(`no schema node at ${path}`);
  return node;
}

describe.each([
  ['AdaptiveRoute', routeSchema, fullRoute, validateAdaptiveRoute],
  ['ContactPlan', planSchema, fullPlan, validateContactPlan],
] as const)('%s types and CRD schema', (_kind, schema, full, validate) => {
  it('accept the fully populated object with no unknown field (the schema has every field of the types)', () => {
    expect(findUnknownFields(schema, full)).toEqual([]);
    const result = validate(full);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([]);
  });

  it('declare no field the types lack, in spec and in status', () => {
    const present = valuePaths(full);
    const declared = schemaPaths(schema).filter((p) => p !== 'metadata' && !p.startsWith('metadata.'));
    expect(declared.filter((p) => !present.has(p))).toEqual([]);
    expect(declared.some((p) => p.startsWith('status.'))).toBe(true);
  });

  it('leave the fully populated object unchanged when defaulting', () => {
    const result = validate(full);
    expect(result.ok && result.value).toEqual(full);
  });
});

describe('AdaptiveRoute enums', () => {
  it.each([
    ['spec.policy.mode', POLICY_MODES],
    ['spec.tls.mode', TLS_MODES],
    ['spec.retries.retryOn[]', RETRY_ON],
    ['status.conditions[].status', ['True', 'False', 'Unknown']],
  ] as const)('%s lists the same values as the TypeScript table', (path, values) => {
    expect(nodeAt(routeSchema, path).enum).toEqual([...values]);
  });
});

describe('duration fields', () => {
  it('all carry the Gateway API duration pattern', () => {
    const durationFields = [
      'spec.objectives.latencyP99',
      'spec.policy.decisionInterval',
      'spec.policy.returnToSpecAfter',
      'spec.retries.perTryTimeout.min',
      'spec.retries.perTryTimeout.max',
      'spec.timeout.min',
      'spec.timeout.max',
      'spec.failover.outlierDetection.interval',
      'spec.failover.outlierDetection.baseEjectionTime',
      'spec.telemetry.scrape.interval',
      'spec.telemetry.staleAfter',
      'spec.delayTolerant.bundleLifetime',
      'status.perTryTimeout',
      'status.timeout',
    ];
    for (const path of durationFields) expect([path, nodeAt(routeSchema, path).pattern]).toEqual([path, DURATION_PATTERN]);
    const withPattern = schemaPaths(routeSchema).filter((p) => nodeAt(routeSchema, p).pattern === DURATION_PATTERN);
    expect(withPattern.sort()).toEqual([...durationFields].sort());
  });
});

describe('CRD schemas', () => {
  it.each([
    ['AdaptiveRoute', routeSchema],
    ['ContactPlan', planSchema],
  ] as const)('%s describes every field', (_kind, schema) => {
    const undocumented = schemaPaths(schema).filter((p) => p !== 'metadata' && !nodeAt(schema, p).description);
    expect(undocumented).toEqual([]);
  });
});
