import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_CRD_DIR, defaultCrds, loadCrds, parseCrd } from '../../../operator/api/crds.ts';
import { ConfigError } from '../../../operator/base/errors.ts';
import { GROUP, RESOURCES, VERSION } from '../../../operator/api/types.ts';

const scratch = mkdtempSync(join(tmpdir(), 'meshpilot-crds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(scratch, 'case-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const widget = (plural = 'widgets', extra = '') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${plural}.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { kind: Widget, plural: ${plural} }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object } }
${extra}`;

describe('loadCrds', () => {
  it('loads the repository’s CRDs from any working directory', () => {
    expect(DEFAULT_CRD_DIR).toMatch(/crds\/?$/);
    const catalog = loadCrds();
    expect(catalog.list().map((c) => c.metadata.name).sort()).toEqual(['adaptiveroutes.traffic.meshpilot.io', 'contactplans.traffic.meshpilot.io']);
    expect([...catalog].map((e) => e.source.endsWith('.yaml'))).toEqual([true, true]);
    expect(defaultCrds()).toBe(defaultCrds());
  });

  it('looks CRDs up by plural, kind and any kubectl name', () => {
    const catalog = defaultCrds();
    const ar = catalog.byPlural(GROUP, 'adaptiveroutes');
    expect(ar?.spec.names.kind).toBe('AdaptiveRoute');
    expect(catalog.byKind(GROUP, 'ContactPlan')?.spec.names.plural).toBe('contactplans');
    for (const name of ['ar', 'adaptiveroute', 'AdaptiveRoutes', 'adaptiveroutes.traffic.meshpilot.io', 'AdaptiveRoute']) {
      expect(catalog.find(name)).toBe(ar);
    }
    expect(catalog.find('cplan')?.spec.names.kind).toBe('ContactPlan');
    expect(catalog.find('ar.other.io')).toBeUndefined();
    expect(catalog.byPlural('other.io', 'adaptiveroutes')).toBeUndefined();
  });

  it('gives a version’s schema, printer columns and short names', () => {
    const catalog = defaultCrds();
    expect(catalog.schema(GROUP, 'adaptiveroutes', VERSION).properties?.spec?.required).toEqual(['host', 'destinations']);
    expect(catalog.printerColumns(GROUP, 'adaptiveroutes').map((c) => [c.name, c.jsonPath])).toEqual([
      ['Host', '.spec.host'],
      ['Regions', '.status.regionCount'],
      ['Weights', '.status.weightSummary'],
      ['Mode', '.spec.policy.mode'],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Synced', '.status.conditions[?(@.type=="XdsSynced")].status'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
    expect(catalog.printerColumns(GROUP, 'contactplans').map((c) => c.name)).toEqual(['Nodes', 'Contacts', 'Horizon', 'Ready', 'Age']);
    expect(catalog.shortNames(GROUP, RESOURCES.adaptiveRoute.plural)).toEqual([...RESOURCES.adaptiveRoute.shortNames]);
    expect(catalog.shortNames(GROUP, RESOURCES.contactPlan.plural)).toEqual([...RESOURCES.contactPlan.shortNames]);
    for (const crd of catalog.list()) {
      expect(crd.spec.names.categories).toEqual(['meshpilot']);
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources])).toEqual([[VERSION, true, true, { status: {} }]]);
    }
  });

  it('throws ConfigError for an unknown resource or version', () => {
    const catalog = defaultCrds();
    expect(() => catalog.require(GROUP, 'gadgets')).toThrow(ConfigError);
    expect(() => catalog.schema(GROUP, 'adaptiveroutes', 'v9')).toThrow(/has no version v9/);
  });

  it('defaults names and printer columns as the apiserver does', () => {
    const catalog = loadCrds(dirWith({ 'widget.yaml': widget() }));
    const crd = catalog.require('example.com', 'widgets');
    expect([crd.spec.names.singular, crd.spec.names.listKind]).toEqual(['widget', 'WidgetList']);
    expect(catalog.printerColumns('example.com', 'widgets')).toEqual([{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }]);
    expect(Object.isFrozen(crd.spec.versions[0]?.schema.openAPIV3Schema)).toBe(true);
  });

  it('names the file of a CRD it cannot accept', () => {
    const bad = dirWith({ 'a.yaml': widget(), 'b.yaml': widget('widgets', '  extra: 1\n').replace('storage: true', 'storage: maybe') });
    expect(() => loadCrds(bad)).toThrow(/b\.yaml: not a valid CustomResourceDefinition: spec\.versions\.0\.storage/);
    const clash = dirWith({ 'a.yaml': widget(), 'b.yaml': widget() });
    expect(() => loadCrds(clash)).toThrow(/b\.yaml: widgets\.example\.com is already defined by .*a\.yaml/);
    const broken = dirWith({ 'c.yaml': 'spec: [' });
    expect(() => loadCrds(broken)).toThrow(/c\.yaml:1:\d+: /);
    expect(() => loadCrds(join(scratch, 'missing'))).toThrow(/cannot read CRD directory/);
    expect(() => parseCrd({ ...parseCrd(loadDoc(), 'x'), metadata: { name: 'wrong' } }, 'mem.yaml')).toThrow(
      'mem.yaml: metadata.name must be "widgets.example.com" (<plural>.<group>), not "wrong"',
    );
  });
});

function loadDoc(): unknown {
  return structuredClone(loadCrds(dirWith({ 'w.yaml': widget() })).require('example.com', 'widgets'));
}
