// The local API server's write semantics, through @kubernetes/client-node: CRUD, optimistic
// concurrency, generation, the status subresource, patches, finalizers, and validation of
// AdaptiveRoutes against the CRD in crds/ (schema and CEL), with kube-apiserver's Statuses.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adaptiveRoute, expectApiError, GROUP, patchOptions, raw, routeRef, startLocal, VERSION } from '../../support/local-api-server.ts';
import type { LocalHarness } from '../../support/local-api-server.ts';

type Obj = { metadata: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> } & Record<string, unknown>;

let h: LocalHarness;

beforeAll(async () => {
  h = await startLocal();
  await h.core.createNamespace({ body: { metadata: { name: 'crud' } } });
});

afterAll(async () => {
  await h?.dispose();
});

async function create(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Promise<Obj> {
  return (await h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: adaptiveRoute(name, 'crud', spec, metadata) })) as Obj;
}

async function get(name: string): Promise<Obj> {
  return (await h.custom.getNamespacedCustomObject(routeRef('crud', name))) as Obj;
}

describe('LocalApiServer custom resource CRUD', () => {
  it('creates with server-set metadata and CRD defaults, and drops status on create', async () => {
    const created = await h.custom.createNamespacedCustomObject({
      ...routeRef('crud'),
      body: { ...adaptiveRoute('fresh', 'crud'), status: { observedGeneration: 7 } },
    }) as Obj;
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.generation).toBe(1);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.status).toBeUndefined();
    // The CRD defaults policy.mode to enforce and destination priority to 0.
    expect((created.spec?.policy as Record<string, unknown>).mode).toBe('enforce');
    expect((created.spec?.destinations as Record<string, unknown>[])[0]?.priority).toBe(0);
    const fetched = await get('fresh');
    expect(fetched).toEqual(created);
    const list = (await h.custom.listNamespacedCustomObject(routeRef('crud'))) as { kind: string; items: Obj[]; metadata: { resourceVersion: string } };
    expect(list.kind).toBe('AdaptiveRouteList');
    expect(list.items.map((i) => i.metadata.name)).toContain('fresh');
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
  });

  it('refuses a duplicate with 409 AlreadyExists and a missing object with 404 NotFound details', async () => {
    await create('dup');
    const dup = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: adaptiveRoute('dup', 'crud') }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', message: 'adaptiveroutes.traffic.meshpilot.io "dup" already exists' });
    const missing = await expectApiError(h.custom.getNamespacedCustomObject(routeRef('crud', 'nope')));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      status: 'Failure',
      reason: 'NotFound',
      message: 'adaptiveroutes.traffic.meshpilot.io "nope" not found',
      details: { name: 'nope', group: GROUP, kind: 'adaptiveroutes' },
      code: 404,
    });
  });

  it('answers 409 Conflict to an update with a stale resourceVersion, and accepts one without', async () => {
    const v1 = await create('occ');
    const v2 = (await h.custom.replaceNamespacedCustomObject({ ...routeRef('crud', 'occ'), body: { ...v1, metadata: { ...v1.metadata, labels: { a: 'b' } } } })) as Obj;
    expect(v2.metadata.resourceVersion).not.toBe(v1.metadata.resourceVersion);
    const stale = await expectApiError(h.custom.replaceNamespacedCustomObject({ ...routeRef('crud', 'occ'), body: { ...v1, metadata: { ...v1.metadata, labels: { a: 'c' } } } }));
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on adaptiveroutes.traffic.meshpilot.io "occ": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'occ', group: GROUP, kind: 'adaptiveroutes' },
    });
    const unconditional: Obj = { ...v1, metadata: { ...v1.metadata, labels: { a: 'd' } } };
    delete unconditional.metadata.resourceVersion;
    const v3 = (await h.custom.replaceNamespacedCustomObject({ ...routeRef('crud', 'occ'), body: unconditional })) as Obj;
    expect(v3.metadata.labels).toEqual({ a: 'd' });
  });

  it('bumps generation only when something other than metadata or status changes, and not on a no-op', async () => {
    const v1 = await create('gen');
    const labelled = (await h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'gen'), body: { metadata: { labels: { team: 'x' } } } }, patchOptions('merge'))) as Obj;
    expect(labelled.metadata.generation).toBe(1);
    const status = (await h.custom.patchNamespacedCustomObjectStatus({ ...routeRef('crud', 'gen'), body: { status: { observedGeneration: 1 } } }, patchOptions('merge'))) as Obj;
    expect(status.metadata.generation).toBe(1);
    const specChanged = (await h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'gen'), body: { spec: { policy: { mode: 'shadow' } } } }, patchOptions('merge'))) as Obj;
    expect(specChanged.metadata.generation).toBe(2);
    const noop = (await h.custom.replaceNamespacedCustomObject({ ...routeRef('crud', 'gen'), body: specChanged })) as Obj;
    expect(noop.metadata.resourceVersion).toBe(specChanged.metadata.resourceVersion);
    expect(noop.metadata.generation).toBe(2);
    expect(v1.metadata.uid).toBe(noop.metadata.uid);
  });

  it('keeps status and spec apart: main writes ignore status, status writes ignore everything else', async () => {
    await create('split');
    const withStatus = (await h.custom.replaceNamespacedCustomObjectStatus({
      ...routeRef('crud', 'split'),
      body: { ...(await get('split')), spec: { host: 'ignored.example', destinations: [] }, status: { observedGeneration: 1, weightSummary: 'eu-west=60' } },
    })) as Obj;
    expect(withStatus.status).toEqual({ observedGeneration: 1, weightSummary: 'eu-west=60' });
    expect(withStatus.spec?.host).toBe('split.shop.svc.cluster.local');
    const main = (await h.custom.replaceNamespacedCustomObject({
      ...routeRef('crud', 'split'),
      body: { ...withStatus, status: { observedGeneration: 99 }, spec: { ...withStatus.spec, policy: { mode: 'static' } } },
    })) as Obj;
    expect(main.status).toEqual({ observedGeneration: 1, weightSummary: 'eu-west=60' });
    expect((main.spec?.policy as Record<string, unknown>).mode).toBe('static');
  });

  it('applies JSON patches (the client-node default) including test, and refuses a failed test with 422', async () => {
    await create('jp');
    const patched = (await h.custom.patchNamespacedCustomObject({
      ...routeRef('crud', 'jp'),
      body: [
        { op: 'test', path: '/spec/destinations/0/region', value: 'eu-west' },
        { op: 'replace', path: '/spec/destinations/0/weight', value: 10 },
        { op: 'add', path: '/metadata/labels', value: { patched: 'yes' } },
      ],
    })) as Obj;
    expect((patched.spec?.destinations as Record<string, unknown>[])[0]?.weight).toBe(10);
    expect(patched.metadata.labels).toEqual({ patched: 'yes' });
    const failed = await expectApiError(h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'jp'), body: [{ op: 'test', path: '/spec/host', value: 'other' }] }));
    expect(failed.code).toBe(422);
    expect(String(failed.body.message)).toContain('test failed');
  });

  it('refuses strategic merge patch on a custom resource with 415, as kube-apiserver does', async () => {
    await create('smp');
    const refused = await expectApiError(h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'smp'), body: { spec: { policy: { mode: 'shadow' } } } }, patchOptions('strategic')));
    expect(refused.code).toBe(415);
    expect(refused.body.reason).toBe('UnsupportedMediaType');
  });

  it('treats a patch carrying metadata.resourceVersion as conditional', async () => {
    const v1 = await create('condpatch');
    await h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'condpatch'), body: { metadata: { labels: { x: '1' } } } }, patchOptions('merge'));
    const stale = await expectApiError(
      h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'condpatch'), body: { metadata: { resourceVersion: v1.metadata.resourceVersion, labels: { x: '2' } } } }, patchOptions('merge')),
    );
    expect(stale.code).toBe(409);
    expect((await get('condpatch')).metadata.labels).toEqual({ x: '1' });
  });

  it('names objects from generateName', async () => {
    const created = (await h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: adaptiveRoute('gen', 'crud', {}, { name: undefined, generateName: 'gen-' }) })) as Obj;
    expect(created.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('keeps an object with finalizers until the last one is removed, and refuses new finalizers meanwhile', async () => {
    await create('fin', {}, { finalizers: ['meshpilot.io/cleanup'] });
    await h.custom.deleteNamespacedCustomObject(routeRef('crud', 'fin'));
    const deleting = await get('fin');
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(deleting.metadata.generation).toBe(2);
    const added = await expectApiError(
      h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'fin'), body: { metadata: { finalizers: ['meshpilot.io/cleanup', 'other.io/x'] } } }, patchOptions('merge')),
    );
    expect(added.code).toBe(422);
    expect(String(added.body.message)).toContain('metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted');
    await h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'fin'), body: { metadata: { finalizers: null } } }, patchOptions('merge'));
    expect((await expectApiError(get('fin'))).code).toBe(404);
  });

  it('honours DeleteOptions preconditions', async () => {
    const obj = await create('precond');
    const wrong = await expectApiError(h.custom.deleteNamespacedCustomObject({ ...routeRef('crud', 'precond'), body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }));
    expect(wrong.code).toBe(409);
    expect(String(wrong.body.message)).toContain('Precondition failed: UID in precondition');
    await h.custom.deleteNamespacedCustomObject({ ...routeRef('crud', 'precond'), body: { preconditions: { uid: obj.metadata.uid as string }, propagationPolicy: 'Background' } });
    expect((await expectApiError(get('precond'))).code).toBe(404);
  });
});

describe('LocalApiServer validation of custom resources', () => {
  it('refuses an out-of-range value with 422 Invalid naming the field, in kube-apiserver format', async () => {
    const bad = adaptiveRoute('badweight', 'crud');
    (bad.spec as { destinations: Record<string, unknown>[] }).destinations[1]!.weight = 20000;
    const refused = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: bad }));
    expect(refused.code).toBe(422);
    expect(refused.body).toMatchObject({
      reason: 'Invalid',
      message:
        'AdaptiveRoute.traffic.meshpilot.io "badweight" is invalid: spec.destinations[1].weight: Invalid value: 20000: spec.destinations[1].weight in body should be less than or equal to 10000',
      details: {
        name: 'badweight',
        group: GROUP,
        kind: 'AdaptiveRoute',
        causes: [{ reason: 'FieldValueInvalid', field: 'spec.destinations[1].weight', message: 'Invalid value: 20000: spec.destinations[1].weight in body should be less than or equal to 10000' }],
      },
    });
  });

  it('runs the CRD\'s CEL rules and lists several causes inside brackets', async () => {
    const zero = adaptiveRoute('allzero', 'crud');
    for (const d of (zero.spec as { destinations: Record<string, unknown>[] }).destinations) d.weight = 0;
    const cel = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: zero }));
    expect(cel.code).toBe(422);
    expect(String(cel.body.message)).toContain('spec.destinations: Invalid value: "object": at least one destination must have a weight greater than 0');

    const two = adaptiveRoute('twobad', 'crud', { policy: { mode: 'turbo' } });
    (two.spec as { destinations: Record<string, unknown>[] }).destinations[0]!.weight = -1;
    const many = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: two }));
    expect(String(many.body.message)).toMatch(/^AdaptiveRoute\.traffic\.meshpilot\.io "twobad" is invalid: \[.*spec\.destinations\[0\]\.weight.*, .*spec\.policy\.mode.*\]$/);
    const fields = (many.body.details as { causes: { field: string }[] }).causes.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.destinations[0].weight', 'spec.policy.mode']));
  });

  it('runs CEL transition rules on update (the host is immutable)', async () => {
    await create('immutable');
    const refused = await expectApiError(h.custom.patchNamespacedCustomObject({ ...routeRef('crud', 'immutable'), body: { spec: { host: 'elsewhere.example' } } }, patchOptions('merge')));
    expect(refused.code).toBe(422);
    expect(String(refused.body.message)).toContain('spec.host');
    expect(String(refused.body.message)).toContain('host is immutable');
  });

  it('reports unknown fields per fieldValidation: Strict refuses, Warn warns and prunes, Ignore prunes silently', async () => {
    const body = adaptiveRoute('unknown', 'crud', { foo: 1 });
    const path = `/apis/${GROUP}/${VERSION}/namespaces/crud/adaptiveroutes`;
    const strict = await raw(h.server, 'POST', `${path}?fieldValidation=Strict`, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    expect(strict.status).toBe(400);
    expect(strict.json().message).toBe('AdaptiveRoute in version "v1alpha1" cannot be handled as a AdaptiveRoute: strict decoding error: unknown field "spec.foo"');
    const warn = await raw(h.server, 'POST', path, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"spec.foo\\""');
    expect((warn.json().spec as Record<string, unknown>).foo).toBeUndefined();
    const ignore = await raw(h.server, 'POST', `${path}?fieldValidation=Ignore`, { body: JSON.stringify({ ...body, metadata: { name: 'unknown2' } }), headers: { 'Content-Type': 'application/json' } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.warning).toBeUndefined();
  });

  it('validates metadata.name and refuses objects in a namespace that does not exist', async () => {
    const badName = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('crud'), body: adaptiveRoute('Bad_Name', 'crud') }));
    expect(badName.code).toBe(422);
    expect(String(badName.body.message)).toContain('metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
    const noNs = await expectApiError(h.custom.createNamespacedCustomObject({ ...routeRef('ghost'), body: adaptiveRoute('x', 'ghost') }));
    expect(noNs.code).toBe(404);
    expect(noNs.body).toMatchObject({ reason: 'NotFound', message: 'namespaces "ghost" not found' });
  });

  it('validates status writes against the schema too', async () => {
    await create('badstatus');
    const refused = await expectApiError(
      h.custom.patchNamespacedCustomObjectStatus({ ...routeRef('crud', 'badstatus'), body: { status: { observedGeneration: 'soon' } } }, patchOptions('merge')),
    );
    expect(refused.code).toBe(422);
    expect(String(refused.body.message)).toContain('status.observedGeneration');
  });
});

describe('LocalApiServer built-in kinds', () => {
  it('serves Leases with optimistic concurrency (what leader election relies on)', async () => {
    const lease = await h.coordination.createNamespacedLease({
      namespace: 'crud',
      body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: new Date(), renewTime: new Date() } },
    });
    const renewed = await h.coordination.replaceNamespacedLease({ name: 'leader', namespace: 'crud', body: { ...lease, spec: { ...lease.spec, renewTime: new Date() } } });
    const stolen = await expectApiError(h.coordination.replaceNamespacedLease({ name: 'leader', namespace: 'crud', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } }));
    expect(stolen.code).toBe(409);
    expect(stolen.body).toMatchObject({ reason: 'Conflict', details: { name: 'leader', group: 'coordination.k8s.io', kind: 'leases' } });
    expect((await h.coordination.readNamespacedLease({ name: 'leader', namespace: 'crud' })).spec?.holderIdentity).toBe('a');
    expect(renewed.metadata?.resourceVersion).not.toBe(lease.metadata?.resourceVersion);
    const invalid = await expectApiError(h.coordination.createNamespacedLease({ namespace: 'crud', body: { metadata: { name: 'bad' }, spec: { leaseDurationSeconds: 0 } } }));
    expect(invalid.code).toBe(422);
    expect(String(invalid.body.message)).toContain('spec.leaseDurationSeconds');
  });

  it('serves Events with involvedObject field selectors and across namespaces', async () => {
    const route = await create('evented');
    const involvedObject = { apiVersion: `${GROUP}/${VERSION}`, kind: 'AdaptiveRoute', name: 'evented', namespace: 'crud', uid: route.metadata.uid as string };
    await h.core.createNamespacedEvent({ namespace: 'crud', body: { metadata: { name: 'evented.1' }, involvedObject, reason: 'InvalidSpec', message: 'bad', type: 'Warning' } });
    await h.core.createNamespacedEvent({ namespace: 'crud', body: { metadata: { name: 'other.1' }, involvedObject: { ...involvedObject, name: 'other' }, reason: 'Synced', message: 'ok', type: 'Normal' } });
    const selected = await h.core.listNamespacedEvent({
      namespace: 'crud',
      fieldSelector: `involvedObject.name=evented,involvedObject.namespace=crud,involvedObject.kind=AdaptiveRoute,involvedObject.uid=${route.metadata.uid as string}`,
    });
    expect(selected.items.map((e) => e.metadata?.name)).toEqual(['evented.1']);
    const all = await h.core.listEventForAllNamespaces({ fieldSelector: 'reason!=InvalidSpec' });
    expect(all.items.map((e) => e.metadata?.name)).toEqual(['other.1']);
    const unsupported = await expectApiError(h.core.listNamespacedEvent({ namespace: 'crud', fieldSelector: 'spec.nothing=x' }));
    expect(unsupported.code).toBe(400);
    expect(unsupported.body.message).toBe('field label not supported: spec.nothing');
  });

  it('deletes a namespace with what it holds, and protects the built-in namespaces', async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await h.custom.createNamespacedCustomObject({ ...routeRef('doomed'), body: adaptiveRoute('r', 'doomed') });
    await h.core.deleteNamespace({ name: 'doomed' });
    expect((await expectApiError(h.core.readNamespace({ name: 'doomed' }))).code).toBe(404);
    expect((await expectApiError(h.custom.getNamespacedCustomObject(routeRef('doomed', 'r')))).code).toBe(404);
    const protectedNs = await expectApiError(h.core.deleteNamespace({ name: 'default' }));
    expect(protectedNs.code).toBe(403);
  });
});

describe('LocalApiServer CustomResourceDefinitions over the API', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Cluster',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', maximum: 10 } } } } } },
        },
      ],
    },
  };

  it('registers a CRD created through the API, serves its cluster-scoped resources, and stops when it is deleted', async () => {
    const created = await h.apiext.createCustomResourceDefinition({ body: crd });
    const conditions = created.status?.conditions ?? [];
    expect(conditions.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(conditions.find((c) => c.type === 'NamesAccepted')?.status).toBe('True');
    const discovery = await raw(h.server, 'GET', '/apis/example.com/v1');
    expect(discovery.json().resources).toEqual([expect.objectContaining({ name: 'widgets', namespaced: false, kind: 'Widget', shortNames: ['wd'] })]);
    const w = (await h.custom.createClusterCustomObject({ group: 'example.com', version: 'v1', plural: 'widgets', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } } })) as Obj;
    expect(w.metadata.namespace).toBeUndefined();
    const tooBig = await expectApiError(
      h.custom.createClusterCustomObject({ group: 'example.com', version: 'v1', plural: 'widgets', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 11 } } }),
    );
    expect(tooBig.code).toBe(422);
    expect(String(tooBig.body.message)).toContain('Widget.example.com "w2" is invalid: spec.size');
    await h.apiext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    expect((await raw(h.server, 'GET', '/apis/example.com/v1/widgets')).status).toBe(404);
  });

  it('refuses a CRD whose name is not plural.group', async () => {
    const refused = await expectApiError(h.apiext.createCustomResourceDefinition({ body: { ...crd, metadata: { name: 'wrong.example.com' } } }));
    expect(refused.code).toBe(422);
    expect(String(refused.body.message)).toContain('metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group');
  });
});
