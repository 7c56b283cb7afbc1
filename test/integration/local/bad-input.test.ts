// What a buggy or hostile client sends the embedded control plane: each gets a 4xx Status
// naming the field, in bounded time, and nothing it sends is stored in a form that can no
// longer be read or deleted. The shapes come from fuzzing the server (the list); a
// seeded property test over metadata and patches keeps looking.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpsRequest } from 'node:https';
import fc from 'fast-check';
import { adaptiveRoute, raw, startLocal, type LocalHarness } from '../../support/local-api-server.ts';

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocal();
});
afterAll(async () => {
  await h.dispose();
});

const ROUTES = '/apis/traffic.meshpilot.io/v1alpha1/namespaces/default/adaptiveroutes';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
const json = { 'Content-Type': 'application/json' };

async function send(method: string, path: string, body: unknown, headers: Record<string, string> = json) {
  const r = await raw(h.server, method, path, { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
  return { status: r.status, body: r.json() };
}

/** A namespaced CRD of example.com with one version. */
function namespacedCrd(singular: string, version: Record<string, unknown>): Record<string, unknown> {
  const plural = `${singular}s`;
  const kind = singular[0]!.toUpperCase() + singular.slice(1);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.example.com` },
    spec: { group: 'example.com', scope: 'Namespaced', names: { plural, singular, kind }, versions: [version] },
  };
}

describe('the embedded control plane, given bad input', () => {
  it.each([
    ['a numeric name', { metadata: { name: 12345 } }, 'metadata.name'],
    ['a list as name', { metadata: { name: ['x'] } }, 'metadata.name'],
    ['a numeric generateName', { metadata: { generateName: 7 } }, 'metadata.generateName'],
    ['ownerReferences that are not a list', { metadata: { name: 'o1', ownerReferences: 'garbage' } }, 'metadata.ownerReferences'],
    ['finalizers that are not a list', { metadata: { name: 'f1', finalizers: 'x' } }, 'metadata.finalizers'],
    ['a namespace that is not a string', { metadata: { name: 'n1', namespace: 5 } }, 'metadata.namespace'],
    ['an owner reference without a uid', { metadata: { name: 'o2', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p' }] } }, 'metadata.ownerReferences[0].uid'],
  ])('refuses %s with a 4xx naming the field, and stores nothing', async (_what, patch, field) => {
    const body = { ...adaptiveRoute('placeholder'), ...patch };
    const r = await send('POST', ROUTES, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(JSON.stringify(r.body)).toContain(field);
    const list = await send('GET', ROUTES, undefined as never);
    for (const item of (list.body.items as { metadata: { name: unknown } }[]) ?? []) expect(typeof item.metadata.name).toBe('string');
  });

  it('refuses a YAML body with a recursive alias with 400', async () => {
    const r = await send('POST', ROUTES, 'apiVersion: traffic.meshpilot.io/v1alpha1\nkind: AdaptiveRoute\nmetadata: &m {name: loop, labels: *m}\n', { 'Content-Type': 'application/yaml' });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('refers to itself');
  });

  it('refuses a body nested 20,000 deep with 400', async () => {
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const r = await send('POST', ROUTES, `{"apiVersion":"traffic.meshpilot.io/v1alpha1","kind":"AdaptiveRoute","metadata":{"name":"deep"},"spec":${deep}}`);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('nests deeper than 1000 levels');
  });

  it('bounds a JSON patch whose copies double the object, answering at once', async () => {
    const lease = await send('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'doubling' }, spec: { holderIdentity: 'x'.repeat(200) } });
    expect(lease.status).toBe(201);
    const ops = Array.from({ length: 25 }, (_, i) => ({ op: 'copy', from: '/spec', path: `/spec/c${i}` }));
    // Unbounded, this built gigabytes (the test's own timeout would end it); bounded, a 422.
    const r = await send('PATCH', `${LEASES}/doubling`, ops, { 'Content-Type': 'application/json-patch+json' });
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/copy operations copy more than 3145728 bytes|nests deeper|Request entity too large/);
    const ok = await send('GET', `${LEASES}/doubling`, undefined as never);
    expect(ok.status).toBe(200);
  });

  it('refuses a JSON patch of more than 10,000 operations', async () => {
    await send('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'many' }, spec: {} });
    const ops = Array.from({ length: 20_000 }, () => ({ op: 'copy', from: '/spec', path: '/spec/c' }));
    const r = await send('PATCH', `${LEASES}/many`, ops, { 'Content-Type': 'application/json-patch+json' });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('maximum operations in a JSON patch is 10000, got 20000');
  });

  it('answers 401 to a request without a token, whatever its path, and 400 with one', async () => {
    // A path no URL parser accepts: sent as is, not through new URL().
    const status = (token: string | undefined) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(h.server.url);
        const req = httpsRequest({ host: hostname, port, path: '//[', method: 'GET', ca: h.server.caCert, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(undefined)).toBe(401);
    expect(await status(h.server.token)).toBe(400);
  });

  it('refuses a CRD whose printer columns are not a list of objects, naming the field', async () => {
    const crd = namespacedCrd('widget', { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, additionalPrinterColumns: 'nope' });
    const r = await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(JSON.stringify(r.body)).toContain('additionalPrinterColumns');
  });

  it('matches a CRD pattern in linear time (RE2 semantics): a catastrophic pattern does not stall the server', async () => {
    const crd = namespacedCrd('gadget', {
      name: 'v1',
      served: true,
      storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } } } },
    });
    expect((await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    // With backtracking this takes minutes (the test's own timeout would end it); with RE2, at once.
    const r = await send('POST', '/apis/example.com/v1/namespaces/default/gadgets', { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { s: `${'a'.repeat(40)}!` } });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain('spec.s');
    // RE2 has no lookahead: a pattern only JavaScript takes is refused, as the real server refuses it.
    const look = namespacedCrd('lookahead', { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { s: { type: 'string', pattern: '^(?=a)a$' } } } } } } });
    expect((await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', look)).status).toBe(201);
    const refused = await send('POST', '/apis/example.com/v1/namespaces/default/lookaheads', { apiVersion: 'example.com/v1', kind: 'Lookahead', metadata: { name: 'l' }, spec: { s: 'a' } });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('has a pattern that cannot be compiled');
  });
});

describe('metadata, fuzzed', () => {
  const anything = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
  it('is refused with a 4xx, or stored readable, listable and deletable', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('name', 'generateName', 'labels', 'annotations', 'finalizers', 'ownerReferences', 'namespace', 'uid', 'resourceVersion'), anything), async (meta) => {
        const body = { ...adaptiveRoute(`fz${n++}`), metadata: { name: `fz${n}`, ...meta } };
        const r = await send('POST', ROUTES, body);
        expect(r.status).toBeLessThan(500);
        if (r.status !== 201) return;
        const name = (r.body.metadata as { name: unknown }).name;
        expect(typeof name).toBe('string');
        expect((await send('GET', `${ROUTES}/${encodeURIComponent(name as string)}`, undefined as never)).status).toBe(200);
        const del = await send('DELETE', `${ROUTES}/${encodeURIComponent(name as string)}`, undefined as never);
        expect(del.status).toBeLessThan(300);
        if (((r.body.metadata as { finalizers?: unknown[] }).finalizers ?? []).length > 0) {
          await send('PATCH', `${ROUTES}/${encodeURIComponent(name as string)}`, { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
        }
      }),
      { seed: 20261207, numRuns: 150 },
    );
  });
});
