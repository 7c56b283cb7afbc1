// The read side and the edges of the local API server: discovery, OpenAPI, auth, list
// selectors and pagination, Table rendering from the CRD's printer columns, metrics, and
// bad input that must get a Status (never a crash).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { adaptiveRoute, adaptiveRouteColumns, expectApiError, GROUP, patchOptions, raw, routeRef, startLocal, VERSION } from '../../support/local-api-server.ts';
import type { LocalHarness } from '../../support/local-api-server.ts';

let h: LocalHarness;
const registry = new Registry();
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const ROUTES = `/apis/${GROUP}/${VERSION}/namespaces/surface/adaptiveroutes`;

beforeAll(async () => {
  h = await startLocal({ metricsRegistry: registry });
  await h.core.createNamespace({ body: { metadata: { name: 'surface' } } });
  const labels: Record<string, Record<string, string>> = {
    alpha: { tier: 'gold', team: 'a' },
    bravo: { tier: 'silver', team: 'a' },
    charlie: { tier: 'gold' },
    delta: { team: 'b' },
    echo: {},
  };
  for (const [name, l] of Object.entries(labels)) {
    await h.custom.createNamespacedCustomObject({ ...routeRef('surface'), body: adaptiveRoute(name, 'surface', {}, { labels: l }) });
  }
});

afterAll(async () => {
  await h?.dispose();
});

type Item = { metadata: { name: string } };
async function names(query: Record<string, unknown>): Promise<string[]> {
  const list = (await h.custom.listNamespacedCustomObject({ ...routeRef('surface'), ...query })) as { items: Item[] };
  return list.items.map((i) => i.metadata.name);
}

describe('LocalApiServer discovery and OpenAPI', () => {
  it('serves legacy discovery with kinds, short names, scope and the status subresource', async () => {
    expect((await raw(h.server, 'GET', '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = (await raw(h.server, 'GET', '/api/v1')).json() as { resources: Record<string, unknown>[] };
    expect(core.resources).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'namespaces', namespaced: false, shortNames: ['ns'] }), expect.objectContaining({ name: 'events', kind: 'Event', shortNames: ['ev'] })]));
    const groups = (await raw(h.server, 'GET', '/apis')).json() as { groups: { name: string; preferredVersion: { version: string } }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['coordination.k8s.io', 'apiextensions.k8s.io', GROUP]));
    const ours = (await raw(h.server, 'GET', `/apis/${GROUP}/${VERSION}`, { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } }));
    expect(ours.headers['content-type']).toBe('application/json');
    expect(ours.json().resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'adaptiveroutes', singularName: 'adaptiveroute', namespaced: true, kind: 'AdaptiveRoute', shortNames: ['ar'], verbs: expect.arrayContaining(['watch', 'patch']) }),
        expect.objectContaining({ name: 'adaptiveroutes/status', verbs: ['get', 'patch', 'update'] }),
      ]),
    );
    expect((await raw(h.server, 'GET', '/apis/nothing.example/v1')).status).toBe(404);
  });

  it('serves /openapi/v2 as a gnostic protobuf Document and /openapi/v3 with the CRD schemas', async () => {
    const pb = await raw(h.server, 'GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(pb.status).toBe(200);
    // Field 1 (swagger, length-delimited) = "2.0", then field 2 (info) whose field 1 is the title.
    expect([...pb.body.subarray(0, 5)]).toEqual([0x0a, 3, 0x32, 0x2e, 0x30]);
    expect(pb.body[5]).toBe(0x12);
    expect(pb.body.includes(Buffer.from('Kubernetes'))).toBe(true);
    const index = (await raw(h.server, 'GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const ref = index.paths[`apis/${GROUP}/${VERSION}`];
    expect(ref).toBeDefined();
    const doc = (await raw(h.server, 'GET', ref!.serverRelativeURL)).json() as { components: { schemas: Record<string, Record<string, unknown>> } };
    expect(doc.components.schemas['io.meshpilot.traffic.v1alpha1.AdaptiveRoute']).toMatchObject({ type: 'object', 'x-kubernetes-group-version-kind': [{ group: GROUP, version: VERSION, kind: 'AdaptiveRoute' }] });
  });

  it('requires the bearer token everywhere except health and version', async () => {
    expect((await raw(h.server, 'GET', '/healthz', { token: null })).status).toBe(200);
    expect((await raw(h.server, 'GET', '/readyz', { token: null })).status).toBe(200);
    expect((await raw(h.server, 'GET', '/version', { token: null })).json()).toMatchObject({ major: '1' });
    const none = await raw(h.server, 'GET', ROUTES, { token: null });
    expect(none.status).toBe(401);
    expect(none.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await raw(h.server, 'GET', '/apis', { token: 'wrong' })).status).toBe(401);
  });
});

describe('LocalApiServer lists', () => {
  it('filters by every label selector operator', async () => {
    expect(await names({ labelSelector: 'tier=gold' })).toEqual(['alpha', 'charlie']);
    expect(await names({ labelSelector: 'tier==gold,team=a' })).toEqual(['alpha']);
    expect(await names({ labelSelector: 'tier!=gold' })).toEqual(['bravo', 'delta', 'echo']);
    expect(await names({ labelSelector: 'tier in (gold, silver)' })).toEqual(['alpha', 'bravo', 'charlie']);
    expect(await names({ labelSelector: 'team notin (a)' })).toEqual(['charlie', 'delta', 'echo']);
    expect(await names({ labelSelector: 'team' })).toEqual(['alpha', 'bravo', 'delta']);
    expect(await names({ labelSelector: '!team,!tier' })).toEqual(['echo']);
    expect(await names({ fieldSelector: 'metadata.name=bravo' })).toEqual(['bravo']);
    const bad = await expectApiError(h.custom.listNamespacedCustomObject({ ...routeRef('surface'), labelSelector: 'tier in gold)' }));
    expect(bad.code).toBe(400);
  });

  it('pages with limit and continue without gaps or repeats', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = (await h.custom.listNamespacedCustomObject({ ...routeRef('surface'), limit: 2, ...(token ? { _continue: token } : {}) })) as {
        items: Item[];
        metadata: { continue?: string; remainingItemCount?: number; resourceVersion: string };
      };
      if (pages === 0) expect(page.metadata.remainingItemCount).toBe(3);
      seen.push(...page.items.map((i) => i.metadata.name));
      token = page.metadata.continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const bad = await raw(h.server, 'GET', `${ROUTES}?limit=1&continue=not-a-token`);
    expect(bad.status).toBe(400);
  });
});

describe('LocalApiServer Table responses', () => {
  it('renders the columns crds/ declares for AdaptiveRoutes, with Name first', async () => {
    await h.custom.patchNamespacedCustomObjectStatus(
      { ...routeRef('surface', 'alpha'), body: { status: { conditions: [{ type: 'Valid', status: 'True', reason: 'Ok', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }, { type: 'Ready', status: 'False', reason: 'Waiting', message: 'x', lastTransitionTime: '2024-01-01T00:00:00Z' }] } } },
      patchOptions('merge'),
    );
    const res = await raw(h.server, 'GET', `${ROUTES}?labelSelector=tier%3Dgold`, { headers: { Accept: TABLE } });
    const table = res.json() as { kind: string; apiVersion: string; columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[]; object: Record<string, unknown> }[]; metadata: { resourceVersion: string } };
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    const columns = table.columnDefinitions.map((c) => c.name);
    expect(columns.filter((_, i) => (table.columnDefinitions[i] as { priority?: number }).priority === 0)).toEqual(['Name', ...adaptiveRouteColumns()]);
    expect(table.rows).toHaveLength(2);
    const [alpha, charlie] = table.rows;
    const cell = (row: typeof alpha, name: string) => row?.cells[columns.indexOf(name)];
    expect(cell(alpha, 'Name')).toBe('alpha');
    expect(cell(alpha, 'Host')).toBe('alpha.shop.svc.cluster.local');
    expect(cell(alpha, 'Mode')).toBe('enforce');
    expect(cell(alpha, 'Ready')).toBe('False');
    expect(cell(charlie, 'Ready')).toBeNull();
    expect(cell(alpha, 'Age')).toMatch(/^\d+s$/);
    expect(alpha?.object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'alpha', namespace: 'surface' } });
    expect(alpha?.object.spec).toBeUndefined();
    expect(table.metadata.resourceVersion).toBe(String(h.server.resourceVersion));
  });

  it('evaluates printer columns like kube-apiserver: first value of [*], typed cells, filters, dates as ages', async () => {
    await h.apiext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'gauges.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'gauges', kind: 'Gauge' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
              additionalPrinterColumns: [
                { name: 'First', type: 'string', jsonPath: '.spec.items[*].name' },
                { name: 'Count', type: 'integer', jsonPath: '.spec.count' },
                { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
                { name: 'On', type: 'boolean', jsonPath: '.spec.on' },
                { name: 'Big', type: 'string', jsonPath: '.spec.items[?(@.size > 5)].name' },
                { name: 'Since', type: 'date', jsonPath: '.spec.since' },
                { name: 'Missing', type: 'string', jsonPath: '.spec.nothing' },
              ],
            },
          ],
        },
      },
    });
    await h.custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      plural: 'gauges',
      namespace: 'surface',
      body: { apiVersion: 'example.com/v1', kind: 'Gauge', metadata: { name: 'g' }, spec: { items: [{ name: 'a', size: 1 }, { name: 'b', size: 9 }], count: 3.7, ratio: 0.5, on: true, since: new Date(Date.now() - 150_000).toISOString().replace(/\.\d+Z$/, 'Z') } },
    });
    const table = (await raw(h.server, 'GET', '/apis/example.com/v1/namespaces/surface/gauges', { headers: { Accept: TABLE } })).json() as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'First', 'Count', 'Ratio', 'On', 'Big', 'Since', 'Missing']);
    const [name, first, count, ratio, on, big, since, missing] = table.rows[0]?.cells ?? [];
    expect([name, first, count, ratio, on, big, missing]).toEqual(['g', 'a', 3, 0.5, true, 'b', null]);
    expect(since).toMatch(/^2m3\ds$/);
  });

  it('honours includeObject, table v1beta1, single gets, and built-in kinds', async () => {
    const full = (await raw(h.server, 'GET', `${ROUTES}/bravo?includeObject=Object`, { headers: { Accept: TABLE } })).json() as { rows: { object: Record<string, unknown> }[] };
    expect(full.rows).toHaveLength(1);
    expect(full.rows[0]?.object).toMatchObject({ kind: 'AdaptiveRoute', spec: { host: 'bravo.shop.svc.cluster.local' } });
    const beta = (await raw(h.server, 'GET', ROUTES, { headers: { Accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' } })).json();
    expect(beta.apiVersion).toBe('meta.k8s.io/v1beta1');
    const ns = (await raw(h.server, 'GET', '/api/v1/namespaces/surface', { headers: { Accept: TABLE } })).json() as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(ns.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Status', 'Age']);
    expect(ns.rows[0]?.cells.slice(0, 2)).toEqual(['surface', 'Active']);
    const crds = (await raw(h.server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { headers: { Accept: TABLE } })).json() as { rows: { cells: unknown[] }[] };
    expect(crds.rows.map((r) => r.cells[0])).toEqual(expect.arrayContaining(['adaptiveroutes.traffic.meshpilot.io', 'contactplans.traffic.meshpilot.io']));
  });

  it('sends each watch event as a one-row Table when asked for tables', async () => {
    const res = await raw(h.server, 'GET', `${ROUTES}?watch=true&timeoutSeconds=1&labelSelector=team%3Da`, { headers: { Accept: TABLE } });
    const events = res.body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { kind: string; rows: { cells: unknown[] }[] } });
    expect(events.map((e) => [e.type, e.object.kind, e.object.rows.length, e.object.rows[0]?.cells[0]])).toEqual([
      ['ADDED', 'Table', 1, 'alpha'],
      ['ADDED', 'Table', 1, 'bravo'],
    ]);
  });
});

describe('LocalApiServer bad input', () => {
  it('answers malformed or misdirected requests with a Status', async () => {
    const badJson = await raw(h.server, 'POST', ROUTES, { body: '{"apiVersion": ', headers: { 'Content-Type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    const wrongKind = await raw(h.server, 'POST', ROUTES, { body: JSON.stringify({ ...adaptiveRoute('x', 'surface'), kind: 'ContactPlan' }), headers: { 'Content-Type': 'application/json' } });
    expect(wrongKind.status).toBe(400);
    const unknown = await raw(h.server, 'GET', `/apis/${GROUP}/${VERSION}/namespaces/surface/gizmos`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    const method = await raw(h.server, 'POST', `${ROUTES}/alpha`, { body: '{}', headers: { 'Content-Type': 'application/json' } });
    expect(method.status).toBe(405);
    const tooBig = await raw(h.server, 'POST', ROUTES, { body: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20), headers: { 'Content-Type': 'application/json' } });
    expect(tooBig.status).toBe(413);
    const mismatch = await raw(h.server, 'PUT', `${ROUTES}/alpha`, { body: JSON.stringify(adaptiveRoute('bravo', 'surface')), headers: { 'Content-Type': 'application/json' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json().message).toBe('the name of the object (bravo) does not match the name on the URL (alpha)');
  });

  it('accepts YAML bodies', async () => {
    const yaml = `apiVersion: ${GROUP}/${VERSION}\nkind: AdaptiveRoute\nmetadata:\n  name: yamlish\nspec:\n  host: yamlish.example\n  destinations:\n    - region: eu-west\n      service: yamlish.eu.example\n      weight: 1\n`;
    const res = await raw(h.server, 'POST', ROUTES, { body: yaml, headers: { 'Content-Type': 'application/yaml' } });
    expect(res.status).toBe(201);
    expect(res.json().metadata).toMatchObject({ name: 'yamlish', namespace: 'surface' });
  });

  it('survives a burst of garbage and keeps serving', async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'garbage' } } });
    const G = `/apis/${GROUP}/${VERSION}/namespaces/garbage/adaptiveroutes`;
    const bodies = ['', 'null', '[]', '"str"', '{"metadata":7}', '{"metadata":{"name":["x"]}}', '{"spec":{"destinations":"x"},"metadata":{"name":"g"}}', '\u0000\u0001', '{"a":'.repeat(1000)];
    const paths = [G, `${G}/alpha`, `${G}/alpha/status`, '/api/v1/namespaces', '/api/v1/namespaces/garbage/events', '/apis/coordination.k8s.io/v1/namespaces/garbage/leases', '/%%%', '/apis/../../etc/passwd'];
    const methods = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'OPTIONS'];
    const contentTypes = ['application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/yaml', 'text/plain'];
    let n = 0;
    for (const path of paths) {
      for (const method of methods) {
        const body = bodies[n % bodies.length] ?? '';
        const res = await raw(h.server, method, path, method === 'GET' || method === 'DELETE' ? {} : { body, headers: { 'Content-Type': contentTypes[n % contentTypes.length] ?? 'application/json' } });
        expect(res.status).toBeLessThan(500);
        n++;
      }
    }
    expect((await raw(h.server, 'GET', '/healthz')).status).toBe(200);
    // Namespaces have no deletecollection, as on a real server.
    expect((await raw(h.server, 'DELETE', '/api/v1/namespaces')).status).toBe(405);
    expect(await names({ labelSelector: 'tier=gold' })).toEqual(['alpha', 'charlie']);
  });

  it('counts requests by verb, resource and code on the injected registry', async () => {
    const metric = await registry.getSingleMetricAsString('meshpilot_local_apiserver_requests_total');
    expect(metric).toMatch(/meshpilot_local_apiserver_requests_total\{verb="create",resource="adaptiveroutes",code="201"\} \d+/);
    expect(metric).toMatch(/verb="list",resource="adaptiveroutes",code="200"/);
  });
});
