// State-of-the-world ADS over a real gRPC connection, driven by a raw client that sends
// exactly the requests a test writes.
import { clusterName, listenerName, routeConfigName } from '../../../operator/xds/names.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { endpointsFor, intent, metric, startServer, until, type TestServer } from './fixtures.ts';
import { SotwClient, decodeAny, sotwNames, type SotwResponse } from './raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routeConfiguration;
const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.clusterLoadAssignment;

const checkout = intent();
const host = checkout.host;
const clusters = ['eu-west', 'us-east'].map((r) => clusterName(checkout.key, r));

let t: TestServer;
const clients: SotwClient[] = [];

function client(id: string, userAgent = 'gRPC Node'): SotwClient {
  const c = new SotwClient(t.server.port, { id, user_agent_name: userAgent });
  clients.push(c);
  return c;
}

/** Walks a proxyless client through LDS → RDS → CDS → EDS, ACKing each; returns the responses. */
async function subscribeAll(c: SotwClient): Promise<Record<'lds' | 'rds' | 'cds' | 'eds', SotwResponse>> {
  c.request(LDS, [listenerName(host)]);
  const lds = await c.next();
  c.ack(lds, [listenerName(host)]);
  c.request(RDS, [routeConfigName(host)]);
  const rds = await c.next();
  c.ack(rds, [routeConfigName(host)]);
  c.request(CDS, clusters);
  const cds = await c.next();
  c.ack(cds, clusters);
  c.request(EDS, clusters);
  const eds = await c.next();
  c.ack(eds, clusters);
  return { lds, rds, cds, eds };
}

/** A round trip on the stream: everything the server sent before it has arrived once this returns. */
async function roundTrip(c: SotwClient, probeHost = 'probe.invalid'): Promise<void> {
  c.request(LDS, [listenerName(host), probeHost]);
  const res = await c.next();
  expect(res.type_url).toBe(LDS);
  c.ack(res, [listenerName(host), probeHost]);
}

beforeEach(async () => {
  t = await startServer({ endpoints: endpointsFor(checkout) });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t.close();
});

describe('XdsServer state of the world', () => {
  it('answers LDS, RDS, CDS and EDS requests with the route as a proxyless client asks for it', async () => {
    await t.server.publish(checkout);
    const c = client('node-a');
    const { lds, rds, cds, eds } = await subscribeAll(c);

    const listener = decodeAny(lds.resources[0]!);
    expect(listener.name).toBe(host);
    expect(listener.api_listener).toMatchObject({ api_listener: { '@type': TYPE_URLS.httpConnectionManager, rds: { route_config_name: routeConfigName(host) } } });
    const route = decodeAny(rds.resources[0]!) as { virtual_hosts: { routes: { route: { weighted_clusters: { clusters: unknown[] } } }[] }[] };
    expect(route.virtual_hosts[0]!.routes[0]!.route.weighted_clusters.clusters).toEqual([
      { name: clusters[0], weight: { value: 70 } },
      { name: clusters[1], weight: { value: 30 } },
    ]);
    expect(sotwNames(cds)).toEqual([...clusters].sort());
    expect(sotwNames(eds)).toEqual([...clusters].sort());
    for (const r of [lds, rds, cds, eds]) expect(r.version_info).toBe(t.server.snapshot('grpc').version);
    await until('the route to be ACKed', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
  });

  it('moves ackedVersion when the client ACKs', async () => {
    await t.server.publish(checkout);
    const c = client('node-a');
    c.request(LDS, [host]);
    const lds = await c.next();
    expect(t.server.nodes()[0]!.resources[LDS]).toMatchObject({ subscribed: [host], sentVersion: lds.version_info });
    expect(t.server.nodes()[0]!.resources[LDS]!.ackedVersion).toBeUndefined();
    c.ack(lds, [host]);
    await until('the ACK', () => t.server.nodes()[0]!.resources[LDS]!.ackedVersion);
    expect(t.server.nodes()[0]!.resources[LDS]!.ackedVersion).toBe(lds.version_info);
    expect(await metric(t.registry, 'meshpilot_xds_acks_total', { type: 'LDS' })).toBe(1);
  });

  it('records a NACK with the client message, keeps the last ACKed version and does not send the rejected config again', async () => {
    await t.server.publish(checkout);
    const c = client('node-a');
    const first = await subscribeAll(c);
    await t.server.publish({ ...checkout, timeoutMs: 2500 });
    await t.server.flush();
    const rds = await c.next();
    expect(rds.type_url).toBe(RDS);
    c.nack(rds, [routeConfigName(host)], 'route timeout not acceptable', first.rds.version_info);
    await until('the NACK', () => t.server.nodes()[0]!.resources[RDS]!.lastNack);
    const summary = t.server.nodes()[0]!.resources[RDS]!;
    expect(summary).toMatchObject({ ackedVersion: first.rds.version_info, nackedVersion: rds.version_info, lastNack: 'route timeout not acceptable' });
    const status = t.server.syncStatus(checkout.key);
    expect(status).toMatchObject({ nodes: 1, acked: 0, nacked: 1, pending: 0, nackMessages: ['route timeout not acceptable'] });
    expect(await metric(t.registry, 'meshpilot_xds_nacks_total', { type: 'RDS' })).toBe(1);

    // Nothing is resent: an unrelated change and a round trip bring no RDS response.
    await t.server.publish(intent({ name: 'other' }));
    await t.server.flush();
    await roundTrip(c);
    expect(c.unread).toBe(0);
    expect(c.received.filter((r) => r.type_url === RDS)).toHaveLength(2);

    // The client still holds the ACKed route table.
    const dump = t.server.configDump('node-a') as { configs: { type: string; resources: { name: string; status: string; version: string; error?: { details: string }; resource?: { virtual_hosts: { routes: { route: { max_stream_duration: unknown } }[] }[] } }[] }[] };
    const rdsDump = dump.configs.find((x) => x.type === 'RDS')!.resources[0]!;
    expect(rdsDump.status).toBe('NACKED');
    expect(rdsDump.error?.details).toBe('route timeout not acceptable');
    expect(rdsDump.resource!.virtual_hosts[0]!.routes[0]!.route.max_stream_duration).toEqual({ max_stream_duration: { seconds: '1', nanos: 500_000_000 } });

    // A new change is sent.
    await t.server.publish({ ...checkout, timeoutMs: 3000 });
    await t.server.flush();
    const again = await c.next();
    expect(again.type_url).toBe(RDS);
    c.ack(again, [routeConfigName(host)]);
    await until('the route to be ACKed', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
  });

  it('ignores an answer carrying a stale nonce', async () => {
    await t.server.publish(checkout);
    const c = client('node-a');
    await subscribeAll(c);
    await t.server.publish({ ...checkout, timeoutMs: 2000 });
    await t.server.flush();
    const older = await c.next();
    await t.server.publish({ ...checkout, timeoutMs: 3000 });
    await t.server.flush();
    const newer = await c.next();
    expect([older.type_url, newer.type_url]).toEqual([RDS, RDS]);
    c.nack(older, [routeConfigName(host)], 'stale complaint');
    c.ack(newer, [routeConfigName(host)]);
    await until('the ACK', () => (t.server.nodes()[0]!.resources[RDS]!.ackedVersion === newer.version_info ? true : undefined));
    expect(t.server.nodes()[0]!.resources[RDS]!.lastNack).toBeUndefined();
    expect(await metric(t.registry, 'meshpilot_xds_nacks_total')).toBe(0);
    expect(t.server.syncStatus(checkout.key)).toMatchObject({ acked: 1, nacked: 0 });
  });

  it('does not respond to a request with a stale nonce, and acts on the subscription the client sends with its answer to the newer response', async () => {
    await t.server.publish(checkout);
    await t.server.flush();
    const c = client('grpc-stale');
    const { eds } = await subscribeAll(c);
    await until('in sync', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
    t.resolver.set('checkout.eu-west.svc', [{ address: '10.9.9.9', port: 8080 }]);
    const newer = await c.next();
    expect(newer.type_url).toBe(EDS);
    const apSouth = clusterName(checkout.key, 'ap-south');
    // Crosses the newer response on the wire: answers the older one and asks for one more cluster.
    c.request(EDS, [...clusters, apSouth], { nonce: eds.nonce, version: eds.version_info });
    // A round trip behind it: an answer to the stale request would arrive first, and the
    // round trip insists that the next response is its own (LDS).
    await roundTrip(c);
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'stale_nonce' })).toBe(1);
    c.ack(newer, [...clusters, apSouth]);
    const added = await c.next();
    expect(sotwNames(added)).toEqual([apSouth]);
  });

  it('updates the subscription from a request that carries a NACK', async () => {
    const other = intent({ name: 'other' });
    t.resolver.set(`other.eu-west.svc`, [{ address: '10.9.0.1', port: 8080 }]);
    await t.server.publish(checkout);
    await t.server.publish(other);
    const c = client('node-a');
    c.request(CDS, [clusters[0]!]);
    const cds = await c.next();
    expect(sotwNames(cds)).toEqual([clusters[0]]);
    const otherCluster = clusterName(other.key, 'eu-west');
    c.nack(cds, [clusters[0]!, otherCluster], 'bad cluster');
    const next = await c.next();
    expect(next.type_url).toBe(CDS);
    expect(sotwNames(next)).toEqual([clusters[0], otherCluster].sort());
    await until('the NACK', () => t.server.nodes()[0]!.resources[CDS]!.lastNack);
  });

  it('sends a resource requested before it existed once it is published, and removes it on withdraw', async () => {
    const c = client('node-a');
    c.request(LDS, [host]);
    const empty = await c.next();
    expect(empty.resources).toHaveLength(0);
    c.ack(empty, [host]);
    await t.server.publish(checkout);
    await t.server.flush();
    const lds = await c.next();
    expect(sotwNames(lds)).toEqual([host]);
    c.ack(lds, [host]);
    await t.server.withdraw(checkout.key);
    await t.server.flush();
    const gone = await c.next();
    expect(gone.type_url).toBe(LDS);
    expect(gone.resources).toHaveLength(0);
    expect(t.server.syncStatus(checkout.key).version).toBeUndefined();
  });

  it('gives LDS and CDS a wildcard (empty first request) and refuses one on RDS and EDS', async () => {
    const other = intent({ name: 'other' });
    t.resolver.set(`other.eu-west.svc`, [{ address: '10.9.0.1', port: 8080 }]);
    await t.server.publish(checkout);
    await t.server.publish(other);
    const c = client('node-a');
    c.request(CDS, []);
    const cds = await c.next();
    expect(sotwNames(cds)).toEqual([...clusters, clusterName(checkout.key, 'ap-south'), clusterName(other.key, 'eu-west')].sort());
    c.ack(cds, []);
    c.request(RDS, ['*']);
    c.request(LDS, []);
    const lds = await c.next();
    expect(lds.type_url).toBe(LDS);
    expect(sotwNames(lds)).toEqual([host, other.host].sort());
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'wildcard_not_allowed' })).toBe(1);
    expect(t.server.nodes()[0]!.resources[CDS]!.subscribed).toBe('*');
  });

  it('pushes clusters and endpoints before listeners and route tables, and drops a stale cluster only after the new route table is ACKed', async () => {
    await t.server.publish(checkout);
    const c = client('node-a', 'envoy');
    // An Envoy-like subscription on SotW: wildcard CDS and LDS, named EDS and RDS.
    c.request(CDS, []);
    const cds = await c.next();
    const allClusters = sotwNames(cds);
    c.ack(cds, []);
    c.request(EDS, allClusters);
    const eds = await c.next();
    c.ack(eds, allClusters);
    c.request(LDS, []);
    const lds = await c.next();
    c.ack(lds, []);
    c.request(RDS, ['meshpilot-http-routes']);
    const rds = await c.next();
    c.ack(rds, ['meshpilot-http-routes']);
    await until('the route to be ACKed', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));

    // us-east loses its endpoints: its cluster goes, the weights change, ap-south's endpoints change.
    t.resolver.set(checkout.destinations[1]!.service, []);
    await until('a new version', () => (t.server.syncStatus(checkout.key).version !== rds.version_info ? true : undefined));
    await t.server.flush();
    const pushed: SotwResponse[] = [];
    pushed.push(await c.next());
    while (pushed.at(-1)!.type_url !== RDS) pushed.push(await c.next());
    const order = pushed.map((r) => r.type_url);
    expect(order.indexOf(EDS)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(RDS)).toBeGreaterThan(order.indexOf(EDS));
    // The full cluster set sent before the route table still has the stale cluster.
    for (const r of pushed.filter((p) => p.type_url === CDS)) expect(sotwNames(r)).toContain(clusters[1]);
    expect(c.unread).toBe(0);
    for (const r of pushed) c.ack(r, r.type_url === CDS || r.type_url === LDS ? [] : r.type_url === RDS ? ['meshpilot-http-routes'] : allClusters);
    const after = await c.next();
    expect(after.type_url).toBe(CDS);
    expect(sotwNames(after)).not.toContain(clusters[1]);
  });

  it('holds an Envoy route table back until the new clusters it uses and their endpoints were sent', async () => {
    await t.server.publish(checkout);
    const c = client('envoy-1', 'envoy');
    c.request(CDS, []);
    const cds = await c.next();
    const known = sotwNames(cds);
    c.ack(cds, []);
    c.request(EDS, known);
    c.ack(await c.next(), known);
    c.request(LDS, []);
    c.ack(await c.next(), []);
    c.request(RDS, ['meshpilot-http-routes']);
    c.ack(await c.next(), ['meshpilot-http-routes']);
    await until('in sync', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));

    const other = intent({ name: 'other', regions: { 'eu-west': [100, 0] } });
    t.resolver.set('other.eu-west.svc', [{ address: '10.9.0.1', port: 8080 }]);
    const rdsBefore = await metric(t.registry, 'meshpilot_xds_pushes_total', { type: 'RDS' });
    await t.server.publish(other);
    await t.server.flush();
    const newCds = await c.next();
    expect(newCds.type_url).toBe(CDS);
    expect(sotwNames(newCds)).toContain(clusterName(other.key, 'eu-west'));
    // Envoy has not asked for the new cluster's endpoints yet: no route table.
    expect(await metric(t.registry, 'meshpilot_xds_pushes_total', { type: 'RDS' })).toBe(rdsBefore);
    c.ack(newCds, []);
    const all = sotwNames(newCds);
    c.request(EDS, all);
    const eds = await c.next();
    expect(eds.type_url).toBe(EDS);
    expect(sotwNames(eds)).toEqual([clusterName(other.key, 'eu-west')]);
    const rds = await c.next();
    expect(rds.type_url).toBe(RDS);
  });
});
