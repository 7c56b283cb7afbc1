import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifests } from '../../../operator/validate-manifests.ts';

describe('validateManifests', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'validate-'));
    await writeFile(
      join(dir, 'routes.yaml'),
      [
        'apiVersion: traffic.meshpilot.io/v1alpha1',
        'kind: AdaptiveRoute',
        'metadata: {name: good}',
        'spec: {host: a.example, destinations: [{region: eu, service: s}]}',
        '---',
        'apiVersion: traffic.meshpilot.io/v1alpha1',
        'kind: AdaptiveRoute',
        'metadata: {name: bad}',
        'spec:',
        '  host: a.example',
        '  policy: {mode: fast}',
        '  destinations: [{region: eu, service: s, weight: 0}]',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: other}',
      ].join('\n'),
    );
    await writeFile(join(dir, 'broken.yaml'), 'kind: AdaptiveRoute\nspec: [\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports each document with the field paths of its problems', () => {
    const reports = validateManifests([dir]);
    const byObject = Object.fromEntries(reports.map((r) => [r.object, r]));
    expect(byObject['AdaptiveRoute/good']).toMatchObject({ problems: [], skipped: false });
    expect(byObject['ConfigMap/other']).toMatchObject({ skipped: true });
    const bad = byObject['AdaptiveRoute/bad']!.problems.join('\n');
    expect(bad).toContain('spec.policy.mode: Unsupported value: "fast"');
    expect(byObject['file']).toMatchObject({ file: join(dir, 'broken.yaml') });
    expect(byObject['file']!.problems[0]).toMatch(/broken\.yaml:\d+:\d+:/);
  });

  it('finds every shipped example valid', () => {
    const reports = validateManifests([new URL('../../../deploy/examples', import.meta.url).pathname]);
    expect(reports.length).toBeGreaterThanOrEqual(5);
    expect(reports.filter((r) => r.problems.length > 0)).toEqual([]);
  });

  it('names the fields a valid route sets that no output carries yet, and nothing for one that sets none', () => {
    const reports = validateManifests([new URL('../../../deploy/examples', import.meta.url).pathname]);
    const notes = Object.fromEntries(reports.map((r) => [r.object, r.notImplemented.map((n) => n.split(':')[0])]));
    expect(notes).toMatchObject({
      'AdaptiveRoute/catalog': [],
      'AdaptiveRoute/checkout': ['spec.tls.mode', 'spec.outputs.gatewayApi'],
      'AdaptiveRoute/field-sensors': ['spec.tls.mode', 'spec.delayTolerant'],
      'AdaptiveRoute/search': ['spec.outputs.istio'],
      'ContactPlan/arctic-links': [],
    });
  });

  it('refuses what the API server would: an oversized annotation, a bad label, a name of the wrong type', async () => {
    const route = (metadata: Record<string, unknown>) => JSON.stringify({ apiVersion: 'traffic.meshpilot.io/v1alpha1', kind: 'AdaptiveRoute', metadata, spec: { host: 'a.example', destinations: [{ region: 'eu', service: 's' }] } });
    await writeFile(join(dir, 'limits.json'), route({ name: 'big', annotations: { note: 'x'.repeat(5 * 1024 * 1024) } }));
    await writeFile(join(dir, 'label.yaml'), route({ name: 'lab', labels: { 'bad key!': 'v' } }));
    await writeFile(join(dir, 'named.yaml'), route({ name: 12345 }));
    const reports = validateManifests([join(dir, 'limits.json'), join(dir, 'label.yaml'), join(dir, 'named.yaml')]);
    expect(reports[0]!.problems).toContain('metadata.annotations: Too long: must have at most 262144 bytes');
    expect(reports[0]!.problems.join('\n')).toContain('Request entity too large');
    expect(reports[1]!.problems.join('\n')).toContain('metadata.labels: Invalid value: "bad key!"');
    expect(reports[2]!.problems).toContain('metadata.name: must be a string, got number 12345');
  });

  it('names a path that does not exist', () => {
    expect(() => validateManifests([join(dir, 'nope')])).toThrow(/nope: no such file or directory/);
  });
});
