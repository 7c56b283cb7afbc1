// Every manifest in deploy/examples/ is one a real apiserver would accept, and the set covers
// what the examples promise: a 3-region enforce route, a shadow route, a minimal route, a
// delay-tolerant route and the ContactPlan it refers to.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseYamlDocuments } from '../../../operator/api/manifests.ts';
import { formatIssue } from '../../../operator/api/schema/validate.ts';
import type { AdaptiveRoute, ContactPlan } from '../../../operator/api/types.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../../../operator/api/validate.ts';

const dir = fileURLToPath(new URL('../../../deploy/examples/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const documents = files.flatMap((file) =>
  parseYamlDocuments(readFileSync(`${dir}${file}`, 'utf8'), file).map((doc) => ({ file, doc: doc as Record<string, unknown> })),
);

function validated(doc: Record<string, unknown>) {
  return doc.kind === 'ContactPlan' ? validateContactPlan(doc) : validateAdaptiveRoute(doc);
}

const routes = documents.filter((d) => d.doc.kind === 'AdaptiveRoute').map((d) => validated(d.doc)).flatMap((r) => (r.ok ? [r.value as AdaptiveRoute] : []));
const plans = documents.filter((d) => d.doc.kind === 'ContactPlan').map((d) => validated(d.doc)).flatMap((r) => (r.ok ? [r.value as ContactPlan] : []));

describe('deploy/examples', () => {
  it('has manifests', () => {
    expect(documents.length).toBeGreaterThanOrEqual(5);
  });

  it.each(documents.map((d) => [`${d.file} (${String(d.doc.kind)})`, d.doc] as const))('%s validates', (_name, doc) => {
    expect(['AdaptiveRoute', 'ContactPlan']).toContain(doc.kind);
    const result = validated(doc);
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([]);
  });

  it.each(documents.map((d) => [d.file, d.doc] as const))('%s is stable under a second round of defaulting', (_name, doc) => {
    const first = validated(doc);
    const second = first.ok ? validated(first.value as unknown as Record<string, unknown>) : first;
    expect(second).toEqual(first);
  });

  it('are all in the default namespace', () => {
    expect(documents.map((d) => (d.doc.metadata as { namespace?: string }).namespace)).toEqual(documents.map(() => 'default'));
  });

  it('include a three-region route in enforce mode, a shadow route and a minimal route', () => {
    expect(routes.some((r) => r.spec.destinations.length === 3 && r.spec.policy.mode === 'enforce')).toBe(true);
    expect(routes.some((r) => r.spec.policy.mode === 'shadow')).toBe(true);
    const minimal = documents.find((d) => d.file.startsWith('minimal'));
    expect(Object.keys((minimal?.doc.spec as object) ?? {}).sort()).toEqual(['destinations', 'host']);
  });

  it('include a delay-tolerant route whose ContactPlan is among the examples and covers its regions', () => {
    const dtn = routes.find((r) => r.spec.delayTolerant);
    expect(dtn).toBeDefined();
    const plan = plans.find((p) => p.metadata.name === dtn!.spec.delayTolerant!.contactPlanRef.name);
    expect(plan).toBeDefined();
    expect(plan!.spec.nodes).toHaveLength(4);
    const planRegions = plan!.spec.nodes.flatMap((n) => (n.region ? [n.region] : []));
    expect(dtn!.spec.destinations.map((d) => d.region).filter((r) => !planRegions.includes(r))).toEqual([]);
  });
});
