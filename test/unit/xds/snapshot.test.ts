// Snapshot assembly: consistency, shared encoding, and what each route requires of a node.
import { loadXdsProtos } from '../../../operator/xds/protos.ts';
import { ResourceEncoder } from '../../../operator/xds/resource-cache.ts';
import { SnapshotBuilder, assertConsistent, type RouteInput } from '../../../operator/xds/snapshot.ts';
import { ENVOY_LISTENER_NAME, ENVOY_ROUTE_CONFIG_NAME, clusterName } from '../../../operator/xds/names.ts';
import { RESOURCE_TYPES, type ResourceKind } from '../../../operator/xds/type-urls.ts';
import type { Endpoint } from '../../../operator/xds/endpoints.ts';
import { intent } from './fixtures.ts';

const protos = loadXdsProtos();

function builder(): SnapshotBuilder {
  return new SnapshotBuilder({ encoder: new ResourceEncoder(protos), envoyListenerPort: 10000 });
}

function route(name: string, eps: Record<string, number>, options: Parameters<typeof intent>[0] = {}): RouteInput {
  const it = intent({ name, ...options });
  const endpoints = new Map<string, Endpoint[]>();
  for (const d of it.destinations) endpoints.set(d.region, Array.from({ length: eps[d.region] ?? 0 }, (_, i) => ({ address: `10.0.${i}.${name.length}`, port: 8080 })));
  return { intent: it, endpoints };
}

/** A deterministic pseudo-random sequence (LCG) so the generated routes are reproducible. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('SnapshotBuilder', () => {
  it('builds consistent snapshots for any mix of routes, endpoints and failover settings', () => {
    const random = rng(42);
    const b = builder();
    for (let round = 0; round < 20; round++) {
      const routes: RouteInput[] = [];
      const count = 1 + Math.floor(random() * 6);
      for (let r = 0; r < count; r++) {
        const w = Math.floor(random() * 101);
        routes.push(
          route(`r${r}`, { 'eu-west': Math.floor(random() * 3), 'us-east': Math.floor(random() * 3), 'ap-south': Math.floor(random() * 3) }, {
            regions: { 'eu-west': [w, 0], 'us-east': [100 - w, 0], 'ap-south': [0, 1] },
            failoverEnabled: random() < 0.5,
          }),
        );
      }
      const { snapshots, failures } = b.build(routes, `v${round}`);
      expect(failures.size).toBe(0);
      for (const s of Object.values(snapshots)) {
        expect(() => assertConsistent(s)).not.toThrow();
        // Every required resource exists in the snapshot.
        for (const req of s.required.values()) for (const r of req) expect(s.resources.get(r.type.kind)!.has(r.name)).toBe(true);
      }
    }
  });

  it('refuses an inconsistent snapshot', () => {
    const { snapshots } = builder().build([route('a', { 'eu-west': 1, 'us-east': 1 })], 'v1');
    const resources = new Map([...snapshots.grpc.resources].map(([k, m]) => [k, new Map(m)] as [ResourceKind, Map<string, never>]));
    resources.get('EDS')!.delete(clusterName('shop/a', 'eu-west'));
    expect(() => assertConsistent({ flavor: 'grpc', resources })).toThrow(/CDS "meshpilot\|shop\|a\|eu-west" references EDS/);
    const noRoutes = new Map([...snapshots.grpc.resources].map(([k, m]) => [k, new Map(m)] as [ResourceKind, Map<string, never>]));
    noRoutes.get('RDS')!.clear();
    expect(() => assertConsistent({ flavor: 'grpc', resources: noRoutes })).toThrow(/LDS .* references RDS/);
  });

  it('encodes a route once and shares the encoded resources across snapshots while it does not change', () => {
    const b = builder();
    const a = route('a', { 'eu-west': 2, 'us-east': 1 });
    const first = b.build([a, route('b', { 'eu-west': 1 })], 'v1');
    const second = b.build([a, route('b', { 'eu-west': 2 })], 'v2');
    const cds = (s: typeof first) => s.snapshots.grpc.resources.get('CDS')!;
    expect(cds(second).get(clusterName('shop/a', 'eu-west'))).toBe(cds(first).get(clusterName('shop/a', 'eu-west')));
    expect(second.fingerprints.get('shop/a')).toBe(first.fingerprints.get('shop/a'));
    expect(second.fingerprints.get('shop/b')).not.toBe(first.fingerprints.get('shop/b'));
    expect(second.snapshots.grpc.version).toBe('v2');
  });

  it('serves Envoy one listener and one route table with a virtual host per route', () => {
    const { snapshots } = builder().build([route('a', { 'eu-west': 1, 'us-east': 1 }), route('b', { 'eu-west': 1 })], 'v1');
    const envoy = snapshots.envoy;
    expect([...envoy.resources.get('LDS')!.keys()]).toEqual([ENVOY_LISTENER_NAME]);
    expect([...envoy.resources.get('RDS')!.keys()]).toEqual([ENVOY_ROUTE_CONFIG_NAME]);
    const table = protos.toJson(RESOURCE_TYPES.RDS.message, envoy.resources.get('RDS')!.get(ENVOY_ROUTE_CONFIG_NAME)!.body) as { virtual_hosts: { name: string }[] };
    expect(table.virtual_hosts.map((v) => v.name)).toEqual(['shop/a', 'shop/b']);
    // Each route requires the shared table at its own part: a change of one leaves the other's part alone.
    const parts = envoy.resources.get('RDS')!.get(ENVOY_ROUTE_CONFIG_NAME)!.routeParts!;
    expect(envoy.required.get('shop/a')![1]).toMatchObject({ name: ENVOY_ROUTE_CONFIG_NAME, part: parts.get('shop/a') });
  });

  it('requires of a proxyless node the listener, the route table, and each cluster it sends traffic to with its endpoints', () => {
    const { snapshots } = builder().build([route('a', { 'eu-west': 1, 'us-east': 1, 'ap-south': 1 })], 'v1');
    expect(snapshots.grpc.required.get('shop/a')!.map((r) => `${r.type.kind} ${r.name}`)).toEqual([
      'LDS a.shop.svc',
      'RDS meshpilot|route|a.shop.svc',
      'CDS meshpilot|shop|a|eu-west',
      'EDS meshpilot|shop|a|eu-west',
      'CDS meshpilot|shop|a|us-east',
      'EDS meshpilot|shop|a|us-east',
    ]);
    // ap-south (weight 0) has a cluster for failover but no node needs it to be in sync.
    expect(snapshots.grpc.resources.get('CDS')!.has(clusterName('shop/a', 'ap-south'))).toBe(true);
  });

  it('keeps the previous resources of a route that cannot be built', () => {
    const b = builder();
    const good = route('a', { 'eu-west': 1, 'us-east': 1 });
    const first = b.build([good], 'v1');
    const broken: RouteInput = { intent: { ...good.intent, retries: { ...good.intent.retries, retryOn: ['unknown' as never] }, timeoutMs: 7 }, endpoints: good.endpoints };
    const second = b.build([broken], 'v2');
    expect(second.failures.has('shop/a')).toBe(true);
    expect(second.fingerprints.get('shop/a')).toBe(first.fingerprints.get('shop/a'));
  });
});
