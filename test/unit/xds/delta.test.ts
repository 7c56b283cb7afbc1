// Incremental (delta) ADS over a real gRPC connection, as Envoy speaks it.
import { ENVOY_LISTENER_NAME, ENVOY_ROUTE_CONFIG_NAME, clusterName } from '../../../operator/xds/names.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { endpointsFor, intent, metric, startServer, until, type TestServer } from './fixtures.ts';
import { DeltaClient, decodeAny, type DeltaResponse } from './raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routeConfiguration;
const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.clusterLoadAssignment;

const checkout = intent();
const other = intent({ name: 'other', regions: { 'eu-west': [100, 0] } });
const checkoutClusters = ['eu-west', 'us-east', 'ap-south'].map((r) => clusterName(checkout.key, r));
const otherCluster = clusterName(other.key, 'eu-west');

let t: TestServer;
const clients: DeltaClient[] = [];

function client(id: string): DeltaClient {
  const c = new DeltaClient(t.server.port, { id, user_agent_name: 'envoy' });
  clients.push(c);
  return c;
}

function names(res: DeltaResponse): string[] {
  return res.resources.map((r) => r.name).sort();
}

beforeEach(async () => {
  t = await startServer({ endpoints: endpointsFor(checkout, other) });
  await t.server.publish(checkout);
  await t.server.publish(other);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t.close();
});

describe('XdsServer delta', () => {
  it('serves a wildcard cluster subscription with per-resource versions and named endpoint subscriptions', async () => {
    const c = client('envoy-1');
    c.request(CDS);
    const cds = await c.next();
    expect(names(cds)).toEqual([...checkoutClusters, otherCluster].sort());
    expect(cds.system_version_info).toBe(t.server.snapshot('envoy').version);
    for (const r of cds.resources) {
      expect(r.version).toMatch(/^[\w-]{16}$/);
      expect(decodeAny(r.resource!).name).toBe(r.name);
    }
    c.ack(cds);
    c.request(EDS, { subscribe: [checkoutClusters[0]!] });
    const eds = await c.next();
    expect(names(eds)).toEqual([checkoutClusters[0]]);
    expect(eds.removed_resources).toEqual([]);
    c.ack(eds);
    await until('the ACK', () => t.server.nodes()[0]?.resources[EDS]?.ackedVersion);
  });

  it('stops sending a resource once it is unsubscribed and sends a newly subscribed one', async () => {
    const c = client('envoy-1');
    c.request(EDS, { subscribe: [checkoutClusters[0]!, otherCluster] });
    const eds = await c.next();
    expect(names(eds)).toEqual([checkoutClusters[0], otherCluster].sort());
    c.ack(eds);
    c.request(EDS, { unsubscribe: [otherCluster], subscribe: [checkoutClusters[1]!] });
    const more = await c.next();
    expect(names(more)).toEqual([checkoutClusters[1]]);
    c.ack(more);
    // Endpoints of the unsubscribed cluster change: nothing comes.
    t.resolver.set('other.eu-west.svc', [{ address: '10.99.0.1', port: 8080 }]);
    await until('the new snapshot', () => (t.server.snapshot('envoy').resources.get('EDS')!.get(otherCluster)!.version !== eds.resources.find((r) => r.name === otherCluster)!.version ? true : undefined));
    c.request(LDS);
    const lds = await c.next();
    expect(lds.type_url).toBe(LDS);
    expect(names(lds)).toEqual([ENVOY_LISTENER_NAME]);
    expect(c.unread).toBe(0);
  });

  it('names withdrawn resources in removed_resources', async () => {
    const c = client('envoy-1');
    c.request(CDS);
    const cds = await c.next();
    c.ack(cds);
    c.request(EDS, { subscribe: names(cds) });
    c.ack(await c.next());
    c.request(RDS, { subscribe: [ENVOY_ROUTE_CONFIG_NAME] });
    const rds = await c.next();
    c.ack(rds);
    await t.server.withdraw(other.key);
    await t.server.flush();
    const newRds = await c.next();
    expect(newRds.type_url).toBe(RDS);
    const vhosts = (decodeAny(newRds.resources[0]!.resource!) as { virtual_hosts: { name: string }[] }).virtual_hosts.map((v) => v.name);
    expect(vhosts).toEqual([checkout.key]);
    c.ack(newRds);
    // The stale cluster goes once the route table that used it is ACKed.
    const removal = await c.next();
    expect(removal.type_url).toBe(CDS);
    expect(removal.resources).toEqual([]);
    expect(removal.removed_resources).toEqual([otherCluster]);
    // ...and then its endpoints.
    const edsRemoval = await c.next();
    expect(edsRemoval.type_url).toBe(EDS);
    expect(edsRemoval.removed_resources).toEqual([otherCluster]);
  });

  it('does not resend what initial_resource_versions says the client holds', async () => {
    const first = client('envoy-1');
    first.request(CDS);
    const cds = await first.next();
    first.ack(cds);
    const held = Object.fromEntries(cds.resources.map((r) => [r.name, r.version]));
    first.close();

    // The route changes one region's weight... no: its endpoints in us-east change, which changes no cluster.
    t.resolver.set(checkout.destinations[1]!.service, [{ address: '10.50.0.1', port: 8080 }]);
    // ...and a cluster the client holds is gone, and one it reports is unknown.
    await t.server.withdraw(other.key);
    await t.server.flush();
    const second = client('envoy-1');
    second.request(CDS, { initial: { ...held, 'meshpilot|gone|old|x': 'abc' } });
    const res = await second.next();
    expect(res.resources).toEqual([]);
    expect(res.removed_resources.sort()).toEqual([otherCluster, 'meshpilot|gone|old|x'].sort());
  });

  it('tells a client that a resource it asks for by name does not exist, and sends it when it appears', async () => {
    const c = client('envoy-1');
    const later = clusterName('shop/later', 'eu-west');
    c.request(EDS, { subscribe: [later] });
    const none = await c.next();
    expect(none.resources).toEqual([]);
    expect(none.removed_resources).toEqual([later]);
    c.ack(none);
    t.resolver.set('later.eu-west.svc', [{ address: '10.77.0.1', port: 8080 }]);
    await t.server.publish(intent({ name: 'later', regions: { 'eu-west': [100, 0] } }));
    await t.server.flush();
    const now = await c.next();
    expect(names(now)).toEqual([later]);
  });

  it('records the NACK of a response that a newer response of the same type followed, and never takes the newer ACK for it', async () => {
    const c = client('envoy-1');
    c.request(LDS);
    c.ack(await c.next());
    c.request(RDS, { subscribe: [ENVOY_ROUTE_CONFIG_NAME] });
    c.ack(await c.next());
    c.request(CDS);
    c.ack(await c.next());
    c.request(EDS, { subscribe: checkoutClusters.slice(0, 2) });
    c.ack(await c.next());
    await until('in sync', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
    t.resolver.set('checkout.eu-west.svc', [{ address: '10.9.9.9', port: 8080 }]);
    const changed = await c.next();
    // us-east's assignment carries eu-west's endpoints as its failover priority.
    expect(names(changed)).toEqual(checkoutClusters.slice(0, 2));
    // Before answering it, the client subscribes one more cluster: a second EDS response is in flight.
    c.request(EDS, { subscribe: [checkoutClusters[2]!] });
    const added = await c.next();
    expect(names(added)).toEqual([checkoutClusters[2]]);
    c.request(EDS, { nonce: changed.nonce, error: 'endpoint 10.9.9.9 refused' });
    c.ack(added);
    await until('the NACK', () => (t.server.syncStatus(checkout.key).nacked === 1 ? true : undefined));
    expect(t.server.syncStatus(checkout.key)).toMatchObject({ acked: 0, nacked: 1, nackMessages: ['endpoint 10.9.9.9 refused'] });
    expect(await metric(t.registry, 'meshpilot_xds_nacks_total', { type: 'EDS' })).toBe(1);
  });

  it('records a NACK and keeps the last ACKed resource', async () => {
    const c = client('envoy-1');
    c.request(LDS);
    c.ack(await c.next());
    c.request(RDS, { subscribe: [ENVOY_ROUTE_CONFIG_NAME] });
    const rds = await c.next();
    c.ack(rds);
    c.request(CDS);
    c.ack(await c.next());
    c.request(EDS, { subscribe: [...checkoutClusters, otherCluster] });
    c.ack(await c.next());
    await until('in sync', () => (t.server.syncStatus(checkout.key).acked === 1 ? true : undefined));
    await t.server.publish({ ...checkout, timeoutMs: 9000 });
    await t.server.flush();
    const bad = await c.next();
    expect(bad.type_url).toBe(RDS);
    c.request(RDS, { nonce: bad.nonce, error: 'no thanks' });
    await until('the NACK', () => (t.server.syncStatus(checkout.key).nacked === 1 ? true : undefined));
    expect(t.server.syncStatus(checkout.key).nackMessages).toEqual(['no thanks']);
    // The other route's virtual host is unchanged in the rejected table: that route stays in sync.
    expect(t.server.syncStatus(other.key)).toMatchObject({ acked: 1, nacked: 0 });
    const dump = t.server.configDump('envoy-1') as { configs: { type: string; resources: { status: string; version?: string }[] }[] };
    const entry = dump.configs.find((x) => x.type === 'RDS')!.resources[0]!;
    expect(entry).toMatchObject({ status: 'NACKED', version: rds.resources[0]!.version });
  });
});
