// XdsServer as an IntentSink and as the source of sync status, node summaries, config dumps
// and metrics.
import { ManualClock } from '../../../operator/base/clock.ts';
import { ConfigError } from '../../../operator/base/errors.ts';
import { flavorOf } from '../../../operator/xds/capabilities.ts';
import { clusterName, listenerName, routeConfigName } from '../../../operator/xds/names.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { endpointsFor, intent, metric, startServer, until, type TestServer } from './fixtures.ts';
import { SotwClient, decodeAny, type SotwResponse } from './raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routeConfiguration;
const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.clusterLoadAssignment;

const checkout = intent();
const other = intent({ name: 'other' });
const host = checkout.host;
const clusters = ['eu-west', 'us-east'].map((r) => clusterName(checkout.key, r));

let t: TestServer;
const clients: SotwClient[] = [];

function client(id: string, userAgent = 'gRPC Node'): SotwClient {
  const c = new SotwClient(t.server.port, { id, user_agent_name: userAgent });
  clients.push(c);
  return c;
}

/** Subscribes a proxyless client to everything of `route`; NACKs the route table when `nackRds` is given. */
async function syncClient(c: SotwClient, options: { nackRds?: string; host?: string; key?: string } = {}): Promise<SotwResponse[]> {
  const h = options.host ?? host;
  const cl = ['eu-west', 'us-east'].map((r) => clusterName(options.key ?? checkout.key, r));
  const got: SotwResponse[] = [];
  const step = async (type: string, names: string[], nack?: string): Promise<void> => {
    c.request(type, names);
    const res = await c.next();
    got.push(res);
    if (nack) c.nack(res, names, nack);
    else c.ack(res, names);
  };
  await step(LDS, [listenerName(h)]);
  await step(CDS, cl);
  await step(EDS, cl);
  await step(RDS, [routeConfigName(h)], options.nackRds);
  return got;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
});

describe('XdsServer as an IntentSink', () => {
  beforeEach(async () => {
    t = await startServer({ endpoints: endpointsFor(checkout, other) });
  });

  it('rejects an intent it cannot build with a ConfigError naming the field, and serves what it served before', async () => {
    await t.server.publish(checkout);
    const before = t.server.snapshot('grpc');
    await expect(t.server.publish({ ...checkout, destinations: checkout.destinations.map((d, i) => (i === 1 ? { ...d, port: 70000 } : d)) })).rejects.toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('destinations[1].port') }),
    );
    await t.server.flush();
    expect(t.server.snapshot('grpc')).toBe(before);
  });

  it('refuses a second route for a host that is already served', async () => {
    await t.server.publish(checkout);
    const clash = { ...other, host };
    await expect(t.server.publish(clash)).rejects.toBeInstanceOf(ConfigError);
    await expect(t.server.publish(clash)).rejects.toThrow(/host: "checkout.shop.svc" is already served by route shop\/checkout/);
    await t.server.withdraw(checkout.key);
    await expect(t.server.publish(clash)).resolves.toBeUndefined();
  });

  it('makes no new version when an equal intent is published again', async () => {
    await t.server.publish(checkout);
    const version = t.server.syncStatus(checkout.key).version;
    const snapshot = t.server.snapshot('grpc');
    await t.server.publish({ ...structuredClone(checkout), source: { ...checkout.source, generation: 7 } });
    expect(t.server.syncStatus(checkout.key).version).toBe(version);
    expect(t.server.snapshot('grpc')).toBe(snapshot);
  });

  it('withdraws an intent whose xDS output is disabled', async () => {
    await t.server.publish(checkout);
    await t.server.publish({ ...checkout, outputs: { ...checkout.outputs, xds: false } });
    expect(t.server.syncStatus(checkout.key).version).toBeUndefined();
    expect(t.server.snapshot('grpc').resources.get('LDS')!.has(host)).toBe(false);
  });

  it('follows endpoint changes from the resolver', async () => {
    await t.server.publish(checkout);
    const version = t.server.syncStatus(checkout.key).version;
    t.resolver.set(checkout.destinations[0]!.service, [{ address: '10.200.0.1', port: 8080 }]);
    await until('a new version', () => (t.server.syncStatus(checkout.key).version !== version ? true : undefined));
    const cla = t.server.snapshot('grpc').resources.get('EDS')!.get(clusters[0]!)!;
    expect(Buffer.from(cla.body).includes(Buffer.from('10.200.0.1'))).toBe(true);
  });

  it('rejects publishes after close', async () => {
    await t.server.close();
    await expect(t.server.publish(checkout)).rejects.toThrow(/closed/);
  });
});

describe('XdsServer snapshots', () => {
  it('debounces a burst of publishes into one snapshot', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    t = await startServer({ endpoints: endpointsFor(checkout, other), clock, debounceMs: 50 });
    const settled: string[] = [];
    const publishes = [checkout, other, { ...checkout, timeoutMs: 2000 }].map((i) => t.server.publish(i).then(() => settled.push(i.key)));
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]);
    await clock.advance(50);
    await Promise.all(publishes);
    expect(await metric(t.registry, 'meshpilot_xds_snapshots_total')).toBe(1);
    expect(t.server.syncStatus(checkout.key).version).toBe(t.server.syncStatus(other.key).version);
  });

  it('flush serves pending publishes without waiting for the debounce window', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    t = await startServer({ endpoints: endpointsFor(checkout), clock, debounceMs: 60_000 });
    const published = t.server.publish(checkout);
    await t.server.flush();
    await published;
    expect(t.server.syncStatus(checkout.key).version).toBeDefined();
  });

  it('uses versions that differ across restarts', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    await t.server.publish(checkout);
    const first = t.server.syncStatus(checkout.key).version!;
    await t.close();
    t = await startServer({ endpoints: endpointsFor(checkout) });
    await t.server.publish(checkout);
    const second = t.server.syncStatus(checkout.key).version!;
    expect(second).not.toBe(first);
    expect(first.split('-')[0]).not.toBe(second.split('-')[0]);
  });
});

describe('XdsServer sync status and introspection', () => {
  beforeEach(async () => {
    t = await startServer({ endpoints: endpointsFor(checkout, other) });
    await t.server.publish(checkout);
    await t.server.publish(other);
  });

  it('counts nodes that ACKed, NACKed or are still pending, per route', async () => {
    await syncClient(client('acks'));
    await syncClient(client('nacks'), { nackRds: 'unsupported retry policy' });
    const partial = client('partial');
    partial.request(LDS, [host]);
    partial.ack(await partial.next(), [host]);
    await syncClient(client('elsewhere'), { host: other.host, key: other.key });
    const status = await until('the counts', () => {
      const s = t.server.syncStatus(checkout.key);
      return s.acked === 1 && s.nacked === 1 ? s : undefined;
    });
    // The route's version is the snapshot that first carried its current intent (publishing `other` did not change it).
    expect(status.version).toMatch(/-1$/);
    expect(status).toEqual({ version: status.version, nodes: 3, acked: 1, nacked: 1, pending: 1, nackMessages: ['unsupported retry policy'], notes: [] });
    await until('the other route in sync', () => (t.server.syncStatus(other.key).acked === 1 ? true : undefined));
    expect(t.server.syncStatus(other.key)).toMatchObject({ nodes: 1, acked: 1, pending: 0 });
    expect(t.server.syncStatus('shop/none')).toEqual({ version: undefined, nodes: 0, acked: 0, nacked: 0, pending: 0, nackMessages: [], notes: [] });
  });

  it('calls onSyncChange when a node ACKs, NACKs or goes away, and when a route gets a new version', async () => {
    const changes: string[] = [];
    const off = t.server.onSyncChange((key) => changes.push(key));
    const c = client('a');
    await syncClient(c);
    await until('the ACK', () => (changes.includes(checkout.key) ? true : undefined));
    changes.length = 0;
    c.close();
    await until('the disconnect', () => (changes.includes(checkout.key) ? true : undefined));
    expect(t.server.syncStatus(checkout.key).nodes).toBe(0);
    changes.length = 0;
    await t.server.publish({ ...checkout, timeoutMs: 4000 });
    await until('the new version', () => (changes.includes(checkout.key) ? true : undefined));
    expect(changes).toEqual([checkout.key]);
    off();
    await t.server.publish({ ...checkout, timeoutMs: 5000 });
    await new Promise((r) => setImmediate(r));
    expect(changes).toEqual([checkout.key]);
  });

  it('summarises connected nodes with their flavour, subscriptions and versions', async () => {
    const got = await syncClient(client('node-a', 'grpc-go'));
    const e = client('envoy-1', 'envoy');
    e.request(CDS, []);
    await e.next();
    await until('both nodes', () => (t.server.nodes().length === 2 ? true : undefined));
    const [envoy, a] = t.server.nodes();
    expect(a).toMatchObject({ id: 'node-a', userAgent: 'grpc-go', flavor: 'grpc', streams: 1, cluster: 'test' });
    expect(a!.resources[LDS]).toEqual({ subscribed: [host], sentVersion: got[0]!.version_info, ackedVersion: got[0]!.version_info });
    expect(envoy).toMatchObject({ id: 'envoy-1', flavor: 'envoy' });
    expect(envoy!.resources[CDS]!.subscribed).toBe('*');
    expect(new Date(a!.connectedAt).getTime()).toBeGreaterThan(0);
  });

  it('sends Envoy the route retry budget in every cluster over the wire, and proxyless gRPC none', async () => {
    await t.server.publish(checkout);
    const budgetOf = async (c: SotwClient) => {
      c.request(CDS, []);
      const res = await c.next();
      return res.resources.map((r) => (decodeAny(r) as { circuit_breakers: { thresholds: Record<string, unknown>[] } }).circuit_breakers.thresholds[0]!.retry_budget);
    };
    const envoy = await budgetOf(client('envoy-1', 'envoy'));
    expect(envoy.length).toBeGreaterThanOrEqual(clusters.length);
    expect(envoy).toEqual(envoy.map(() => ({ budget_percent: { value: 20 }, min_retry_concurrency: { value: 3 } })));
    const grpc = await budgetOf(client('grpc-1'));
    expect(grpc.length).toBe(envoy.length);
    expect(grpc).toEqual(grpc.map(() => undefined));
  });

  it('says in the sync status what proxyless gRPC nodes cannot do of the route: cross-region retries', async () => {
    await t.server.publish({ ...checkout, retries: { ...checkout.retries, crossRegion: true } });
    await syncClient(client('a'));
    await syncClient(client('b'));
    const status = await until('both in sync', () => (t.server.syncStatus(checkout.key).acked === 2 ? t.server.syncStatus(checkout.key) : undefined));
    expect(status.notes).toEqual(['2 proxyless gRPC nodes: retries.crossRegion is not supported: retries stay in the region that was picked']);
    await t.server.publish(checkout);
    expect(t.server.syncStatus(checkout.key).notes).toEqual([]);
  });

  it('dumps what a node holds: the ACKed resources decoded, with versions and ACK state', async () => {
    const c = client('node-a');
    await syncClient(c);
    await until('the RDS ACK', () => t.server.nodes()[0]?.resources[RDS]?.ackedVersion);
    const dump = t.server.configDump('node-a') as {
      node: { id: string; flavor: string };
      snapshotVersion: string;
      configs: { type: string; typeUrl: string; ackedVersion: string; subscribed: string[]; resources: { name: string; status: string; version: string; resource: Record<string, unknown> }[] }[];
    };
    expect(dump.node).toMatchObject({ id: 'node-a', flavor: 'grpc' });
    expect(dump.configs.map((x) => x.type)).toEqual(['CDS', 'EDS', 'LDS', 'RDS']);
    const lds = dump.configs.find((x) => x.type === 'LDS')!;
    expect(lds).toMatchObject({ typeUrl: LDS, ackedVersion: dump.snapshotVersion, subscribed: [host] });
    expect(lds.resources[0]).toMatchObject({ name: host, status: 'ACKED', resource: { '@type': LDS, name: host } });
    const cds = dump.configs.find((x) => x.type === 'CDS')!;
    expect(cds.resources.map((r) => [r.name, r.status, r.resource.type])).toEqual(clusters.map((n) => [n, 'ACKED', 'EDS']));
    expect(t.server.configDump('nobody')).toBeUndefined();
  });

  it('keeps metrics of nodes, streams, pushes, ACKs, bytes and push latency', async () => {
    await syncClient(client('node-a'));
    await until('in sync', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
    await t.server.publish({ ...checkout, timeoutMs: 4000 });
    const c = clients[0]!;
    const res = await c.next();
    c.ack(res, [routeConfigName(host)]);
    await until('in sync again', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
    expect(await metric(t.registry, 'meshpilot_xds_connected_nodes', { flavor: 'grpc' })).toBe(1);
    expect(await metric(t.registry, 'meshpilot_xds_streams_total', { kind: 'sotw' })).toBe(1);
    expect(await metric(t.registry, 'meshpilot_xds_pushes_total', { type: 'RDS' })).toBe(2);
    expect(await metric(t.registry, 'meshpilot_xds_acks_total', { type: 'RDS' })).toBe(2);
    expect(await metric(t.registry, 'meshpilot_xds_bytes_sent_total')).toBeGreaterThan(0);
    const latency = await t.registry.getSingleMetricAsString('meshpilot_xds_push_latency_seconds');
    expect(Number(/meshpilot_xds_push_latency_seconds_count (\d+)/.exec(latency)?.[1])).toBeGreaterThanOrEqual(1);
    c.close();
    await until('the disconnect', async () => ((await metric(t.registry, 'meshpilot_xds_connected_nodes', { flavor: 'grpc' })) === 0 ? true : undefined));
  });

  it('sends two nodes of the same flavour the same bytes', async () => {
    const a = await syncClient(client('a'));
    const b = await syncClient(client('b'));
    for (let i = 0; i < a.length; i++) expect(Buffer.compare(a[i]!.resources[0]!.value, b[i]!.resources[0]!.value)).toBe(0);
  });
});

describe('flavorOf', () => {
  it('serves gRPC user agents as proxyless gRPC and anything else as Envoy', () => {
    expect(flavorOf('gRPC Node')).toBe('grpc');
    expect(flavorOf('grpc-go')).toBe('grpc');
    expect(flavorOf('grpc-java')).toBe('grpc');
    expect(flavorOf('envoy')).toBe('envoy');
    expect(flavorOf(undefined)).toBe('envoy');
  });
});

describe('XdsServer holding answers until its configuration is loaded', () => {
  it('answers a reconnecting proxy nothing before markLoaded, then the listener it asked for, never an empty set', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout), holdUntilLoaded: true });
    const c = client('early');
    c.request(LDS, [listenerName(host)]);
    // The request is taken (the subscription is there) and nothing is sent, before or after a publish.
    await until('the subscription', () => (t.server.nodes()[0]?.resources[LDS]?.subscribed.length === 1 ? true : undefined));
    await t.server.publish(checkout);
    await t.server.flush();
    expect(t.server.nodes()[0]!.resources[LDS]!.sentVersion).toBeUndefined();
    expect(await metric(t.registry, 'meshpilot_xds_pushes_total')).toBe(0);
    expect(t.server.loaded).toBe(false);
    t.server.markLoaded();
    const lds = await c.next();
    expect(lds.resources).toHaveLength(1);
    expect(c.received).toHaveLength(1);
  });

  it('answers at once without the hold, with the empty set a proxy reads as "does not exist"', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    const c = client('early');
    c.request(LDS, [listenerName(host)]);
    expect((await c.next()).resources).toEqual([]);
  });
});
